"""Field readiness, audit log: the action filter is a list of the actions the log holds
(walked from the action index, on SQLite and PostgreSQL alike), not a box to type into."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from referral.audit import services
from referral.extensions import db
from referral.security.policy import Role
from tests.conftest import sign_in
from tests.factories import make_organisation, make_person


def test_audit_action_filter_is_a_list_of_the_actions_the_log_holds(client: FlaskClient) -> None:
    auditor = make_person(Role.AUDITOR, make_organisation("AUD"))
    sign_in(client, auditor)
    html = client.get("/audit/").get_data(as_text=True)
    listed = re.findall(
        r'<option value="([a-z_.]+)"', html.split('id="action"', 1)[1].split("</select>")[0]
    )
    held = services.known_actions(db.session())
    assert listed == held and "auth.sign_in" in held and len(held) == len(set(held))
    assert held == sorted(held)
    filtered = client.get("/audit/?action=auth.sign_in").get_data(as_text=True)
    assert "<code>auth.sign_in</code>" in filtered
    assert client.get("/audit/?action=no.such_action").status_code == 400
