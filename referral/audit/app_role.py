"""The PostgreSQL role the application runs as: every right but rewriting the audit trail.

Triggers stop mistakes, not the table's owner (an owner may disable or drop them). So the
migrations run as the owner and the application as a role of its own that reads and
writes the application's tables, but may only read and append to the audit trail: no
UPDATE, DELETE or TRUNCATE of events, no trigger changes. ``referral db grant-app-role``
creates that role (or brings an existing one to these rights; idempotent).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleError(Exception):
    """The role cannot be set up as asked; the message says why."""


def app_role_statements(role: str, tables: Sequence[str], database: str) -> list[str]:
    """The GRANT/REVOKE statements that give ``role`` the application's rights.

    Read and write on every table but: ``audit_events`` (SELECT, INSERT),
    ``audit_chain_head`` (SELECT, UPDATE of its two columns: the append moves it) and
    ``alembic_version`` (SELECT).
    """
    for name in (role, *tables):
        if not _ROLE.match(name):
            raise RoleError(f"{name!r} is not a plain lower-case identifier")
    if '"' in database:
        raise RoleError("the database's name holds a double quote")
    out = [
        f'GRANT CONNECT ON DATABASE "{database}" TO {role}',
        f"GRANT USAGE ON SCHEMA public TO {role}",
    ]
    for table in sorted(tables):
        out.append(f"REVOKE ALL ON {table} FROM {role}")
        if table == "audit_events":
            out.append(f"GRANT SELECT, INSERT ON {table} TO {role}")
        elif table == "audit_chain_head":
            out.append(f"GRANT SELECT, UPDATE (last_id, last_hash) ON {table} TO {role}")
        elif table == "alembic_version":
            out.append(f"GRANT SELECT ON {table} TO {role}")
        else:
            out.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
    out.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
    return out


def plan(session: Session, role: str, *, create: bool = True) -> list[str]:
    """The statements that make ``role`` the application's role in this database."""
    if session.get_bind().dialect.name != "postgresql":
        raise RoleError(
            "grant-app-role is for PostgreSQL: SQLite has no roles (whoever can write the "
            "file can rewrite it; keep it readable by the application's user only)"
        )
    if not _ROLE.match(role):
        raise RoleError(f"{role!r} is not a plain lower-case identifier")
    owner, database = session.execute(text("SELECT current_user, current_database()")).one()
    if role == owner:
        raise RoleError(
            f"{role} runs this command (the owner of the tables): the application needs a "
            "role of its own"
        )
    found = session.execute(
        text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = :role"),
        {"role": role},
    ).first()
    statements: list[str] = []
    if found is None:
        if not create:
            raise RoleError(f"there is no role {role} (leave out --no-create to create it)")
        statements.append(f"CREATE ROLE {role} LOGIN")
    elif found[0]:
        raise RoleError(f"{role} is a superuser: it could rewrite the audit trail")
    else:
        owned = session.execute(
            text(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = :role"
            ),
            {"role": role},
        ).scalar_one()
        if owned:
            raise RoleError(f"{role} owns tables: an owner can rewrite the audit trail")
    tables = session.scalars(
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    ).all()
    return statements + app_role_statements(role, tables, database)


def apply(session: Session, statements: Sequence[str]) -> None:
    """Run the statements of :func:`plan` in the session's transaction."""
    for statement in statements:
        session.execute(text(statement))
