"""What every template can use: navigation by role, language direction, session expiry."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, url_for
from flask_babel import get_locale
from flask_login import current_user

from referral.auth.sessions import session_expires_in_seconds
from referral.i18n import LANGUAGE_NAMES, in_current_language, text_direction
from referral.labels import ORGANISATION_TYPE_LABELS, ROLE_LABELS
from referral.messages import TEMPLATE_READING, current_reading
from referral.messages import lazy_gettext as _l
from referral.security.policy import (
    Access,
    Permission,
    Requirement,
    permissions_of,
    requirement_of,
)


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any


# In the order the work is done; an item shows when its endpoint exists and the user may
# open it (the requirement is read from the endpoint's own declaration).
NAVIGATION: tuple[NavItem, ...] = (
    NavItem("home.inbox", _l("Inbox")),
    NavItem("cases.index", _l("Cases")),
    NavItem("referrals.queue", _l("Referrals")),
    NavItem("psea.index", _l("Allegations")),
    NavItem("assistance.index", _l("Assistance")),
    NavItem("directory.index", _l("Services")),
    NavItem("pathways.index", _l("Pathways")),
    NavItem("reports.index", _l("Statistics")),
    NavItem("admin.users", _l("Users")),
    NavItem("admin.organisations", _l("Organisations")),
    NavItem("admin.lists_index", _l("Country lists")),
    NavItem("tokens.service_accounts", _l("Service accounts")),
    NavItem("psea.delegations_page", _l("PSEA delegations")),
    NavItem("audit.index", _l("Audit log")),
    NavItem("auth.account", _l("My account")),
)


# The "go to code" box shows to users whose work names records by code.
CODE_FINDERS = frozenset(
    {
        Permission.HANDLE_CASES,
        Permission.RECEIVE_REFERRALS,
        Permission.ASSIST_VICTIMS,
        Permission.RECORD_ALLEGATIONS,
        Permission.RESPOND_TO_ALLEGATIONS,
        Permission.COORDINATE_PSEA,
        Permission.READ_AUDIT,
    }
)


def navigation_for(held: frozenset[Permission]) -> list[NavItem]:
    """The menu of a user who holds ``held``: the items whose endpoint they may open."""
    visible = []
    for item in NAVIGATION:
        view = current_app.view_functions.get(item.endpoint)
        requirement: Requirement | None = requirement_of(view)
        if requirement is None or requirement in (Access.PUBLIC, Access.PARTIAL):
            continue
        wanted = requirement if isinstance(requirement, tuple) else (requirement,)
        if requirement is Access.SIGNED_IN or any(p in held for p in wanted):
            visible.append(item)
    return visible


_MARKER = "RECORDMARKER"
_PLAIN = re.compile(r"[0-9A-Za-z]+")


def links_for(endpoint: str, argument: str = "public_id") -> Callable[[str], str]:
    """``url_for(endpoint, argument=value)`` for the many values of one argument that a list
    page links, one per line: the URL is built once with a marker and each value takes the
    marker's place (``url_for`` costs some fifty Python calls; a list page has fifty lines).
    A value of anything but letters and digits (public ids, references and codes are those)
    goes through ``url_for`` itself."""
    marked: dict[str, Any] = {argument: _MARKER}
    head, marker, tail = url_for(endpoint, **marked).partition(_MARKER)
    if not marker or _MARKER in tail:
        raise ValueError(f"the URL of {endpoint} does not carry {argument} once as given")

    def link(value: str) -> str:
        if _PLAIN.fullmatch(value):
            return f"{head}{value}{tail}"
        given: dict[str, Any] = {argument: value}
        return url_for(endpoint, **given)

    return link


def init_templating(app: Flask) -> None:
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals["links_for"] = links_for

    @app.context_processor
    def _globals() -> dict[str, Any]:
        locale = str(get_locale() or "en")
        user = current_user._get_current_object()
        # Role and delegation (R22) together, worked out once for the whole page.
        held = permissions_of(user) if user.is_authenticated else frozenset()
        return {
            "current_permissions": held,
            "navigation": navigation_for(held) if user.is_authenticated else [],
            "language_names": {
                code: LANGUAGE_NAMES.get(code, code) for code in current_app.config["LANGUAGES"]
            },
            "code_box": bool(held & CODE_FINDERS),
            TEMPLATE_READING: current_reading(),
            "html_lang": locale.replace("_", "-"),
            "text_direction": text_direction(locale),
            "session_seconds_left": session_expires_in_seconds(),
            "role_labels": in_current_language(ROLE_LABELS),
            "organisation_type_labels": in_current_language(ORGANISATION_TYPE_LABELS),
            "Permission": Permission,
        }
