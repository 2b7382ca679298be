"""Command-line interface: `flask --app referral ...` or the `referral` console script."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from referral.admin import services as admin_services
from referral.audit.cli import audit_group, grant_app_role, keys_group
from referral.db import Organisation, OrganisationType, User
from referral.extensions import db
from referral.lifecycle.cli import backup_command, restore_command, retention_group
from referral.reports.cli import statistics_group
from referral.security.policy import Role, Scope
from referral.workflow import RuleError


def _organisation_by_acronym(acronym: str) -> Organisation:
    organisation = db.session.scalar(select(Organisation).where(Organisation.acronym == acronym))
    if organisation is None:
        raise click.BadParameter(f"no organisation with acronym {acronym!r}", param_hint="--org")
    return organisation


@click.group("orgs", help="Manage organisations.")
def orgs_group() -> None:
    pass


@orgs_group.command("create")
@click.option("--name", required=True)
@click.option("--acronym", required=True)
@click.option(
    "--type", "org_type", required=True, type=click.Choice([t.value for t in OrganisationType])
)
@click.option("--provides-services/--no-services", default=False)
@click.option("--time-zone", default="UTC")
@with_appcontext
def create_organisation(
    name: str, acronym: str, org_type: str, provides_services: bool, time_zone: str
) -> None:
    try:
        organisation = admin_services.create_organisation(
            admin_services.OrganisationData(
                name=name,
                acronym=acronym,
                org_type=OrganisationType(org_type),
                provides_services=provides_services,
                time_zone=time_zone,
            ),
            actor=None,
        )
    except RuleError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created organisation {organisation.acronym} ({organisation.public_id}).")


@click.group("users", help="Manage users.")
def users_group() -> None:
    pass


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--org", "acronym", required=True, help="Acronym of the user's organisation.")
@with_appcontext
def create_user(email: str, full_name: str, role: str, acronym: str) -> None:
    organisation = _organisation_by_acronym(acronym)
    try:
        user, one_time_password = admin_services.create_user(
            admin_services.UserData(
                email=email, full_name=full_name, role=Role(role), organisation=organisation
            ),
            actor=None,
        )
    except RuleError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {user.email} ({role}, {organisation.acronym}).")
    click.echo(f"One-time password (must be changed at first sign-in): {one_time_password}")
    hours = current_app.config["ONE_TIME_PASSWORD_HOURS"]
    click.echo(
        f"It expires in {hours} hours ({user.one_time_password_expires_at:%Y-%m-%d %H:%M} UTC)."
    )


@click.group("tokens", help="API tokens and organisation service accounts.")
def tokens_group() -> None:
    pass


@tokens_group.command("service-account")
@click.option("--org", "acronym", required=True, help="Acronym of the account's organisation.")
@click.option("--name", required=True, help="The system it stands for.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@with_appcontext
def create_service_account(acronym: str, name: str, role: str) -> None:
    from referral.api import tokens

    organisation = _organisation_by_acronym(acronym)
    try:
        account = tokens.create_service_account(
            organisation, name=name, role=Role(role), actor=None
        )
    except RuleError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created service account {account.public_id} ({role}, {organisation.acronym}).")


@tokens_group.command("issue")
@click.option("--user", "user_id", required=True, help="E-mail or public id of the account.")
@click.option("--name", required=True, help="What the token is for.")
@click.option(
    "--scope", "scopes", multiple=True, required=True, type=click.Choice([s.value for s in Scope])
)
@click.option("--days", type=int, default=90, show_default=True)
@with_appcontext
def issue_token(user_id: str, name: str, scopes: tuple[str, ...], days: int) -> None:
    from referral.api import tokens

    owner = db.session.scalar(
        select(User).where((User.email == user_id.lower()) | (User.public_id == user_id))
    )
    if owner is None:
        raise click.BadParameter(f"no account {user_id!r}", param_hint="--user")
    try:
        issued = tokens.issue_token(
            owner, name=name, scopes=[Scope(s) for s in scopes], days=days, actor=None
        )
    except RuleError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Token {issued.token.public_id}, expires {issued.token.expires_at:%Y-%m-%d}.")
    click.echo(f"Shown once, keep it secret: {issued.secret}")


@tokens_group.command("revoke")
@click.argument("public_id")
@with_appcontext
def revoke_token(public_id: str) -> None:
    from referral.api import tokens

    token = tokens.token_by_public_id(public_id)
    if token is None:
        raise click.BadParameter(f"no token {public_id!r}")
    tokens.revoke_token(token, actor=None)
    db.session.commit()
    click.echo(f"Revoked token {public_id}.")


@click.command("demo", help="Load fictional demo data (idempotent) and print the sign-ins.")
@click.option("--if-empty", is_flag=True, help="Do nothing when users exist already.")
@click.option(
    "--force", is_flag=True, help="Load it even when REFERRAL_ENV is production (a showcase)."
)
@with_appcontext
def demo(if_empty: bool, force: bool) -> None:
    from referral.demo import SIGN_INS_TITLE, load_demo

    if current_app.config["ENV"] == "production" and not force:
        # Demo accounts with a printed shared password do not belong in a live database.
        raise click.ClickException(
            "REFERRAL_ENV is production: refusing to load demo accounts and data. "
            "Use --force only for a showcase instance that holds no real data."
        )

    kept = Path(current_app.instance_path) / DEMO_SIGN_INS
    if if_empty and db.session.scalar(select(User.id).limit(1)) is not None:
        click.echo("Demo data: the database already has users; nothing loaded.")
    else:
        lines = load_demo()
        for line in lines:
            click.echo(line)
        if lines and lines[0] == SIGN_INS_TITLE:
            _keep_privately(kept, "\n".join(lines) + "\n")
    if kept.exists():
        click.echo(f"Demo sign-ins are kept in {kept} (readable by you only).")


DEMO_SIGN_INS = "demo-sign-ins.txt"


def _keep_privately(path: Path, text: str) -> None:
    """Write a file only its owner may read (0600), whatever the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)


def init_commands(app: Flask) -> None:
    app.cli.add_command(orgs_group)
    app.cli.add_command(users_group)
    app.cli.add_command(demo)
    app.cli.add_command(tokens_group)
    app.cli.add_command(keys_group)
    app.cli.add_command(audit_group)
    # Flask-Migrate's `db` group (upgrade, downgrade, ...) gains `db grant-app-role`.
    migrate_group = app.cli.commands.get("db")
    if isinstance(migrate_group, click.Group):
        migrate_group.add_command(grant_app_role)
    app.cli.add_command(retention_group)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(statistics_group)


def _create_app() -> Flask:
    from referral import create_app

    return create_app()


def main() -> None:
    """The `referral` console script: the same commands as `flask --app referral`."""
    FlaskGroup(create_app=_create_app, add_default_commands=True)(prog_name="referral")
