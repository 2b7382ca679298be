"""Who may reach each endpoint: written by hand from the role table in
docs/ARCHITECTURE.md, never computed from the policy module it checks.

The access matrices (tests/test_access_matrix.py for pages, tests/test_api_access.py for
the API) expect 403 from every role not listed here, and the record-level answer from
every role listed; tests/test_access_table.py compares this table with the policy. A
permission granted by mistake in referral/security/policy.py therefore fails them,
instead of moving the expectation along with the mistake.

A new endpoint is added here by hand, with the roles that may reach it, and with the
status an empty (CSRF token only) POST answers when it has no page to GET.
"""

from __future__ import annotations

from referral.security.policy import Role

ADMIN = Role.ADMIN
AUDITOR = Role.AUDITOR
GBV_COORDINATOR = Role.GBV_COORDINATOR
SUPERVISOR = Role.SUPERVISOR
CASEWORKER = Role.CASEWORKER
SERVICE_FOCAL_POINT = Role.SERVICE_FOCAL_POINT
PSEA_FOCAL_POINT = Role.PSEA_FOCAL_POINT
PSEA_COORDINATOR = Role.PSEA_COORDINATOR
VA_FOCAL_POINT = Role.VA_FOCAL_POINT

EVERYONE = frozenset(Role)
# The directory and pathways are read by every role but the auditor, who reads only the
# audit log.
DIRECTORY_READERS = EVERYONE - {AUDITOR}
CASE_HANDLERS = frozenset({SUPERVISOR, CASEWORKER})
ALLEGATION_READERS = frozenset({PSEA_FOCAL_POINT, PSEA_COORDINATOR, VA_FOCAL_POINT})
PUBLIC = frozenset({"anyone"})  # no sign-in at all
MID_SIGN_IN = frozenset({"password accepted, second factor or new password pending"})

# endpoint -> the roles that may reach it (beyond the record-level checks).
MAY_REACH: dict[str, frozenset[Role] | frozenset[str]] = {
    # administration: users, organisations, the adapted lists, API service accounts
    "admin.users": frozenset({ADMIN}),
    "admin.new_user": frozenset({ADMIN}),
    "admin.edit_user": frozenset({ADMIN}),
    "admin.reset_password": frozenset({ADMIN}),
    "admin.reset_two_factor": frozenset({ADMIN}),
    "admin.organisations": frozenset({ADMIN}),
    "admin.new_organisation": frozenset({ADMIN}),
    "admin.edit_organisation": frozenset({ADMIN}),
    "admin.lists_index": frozenset({ADMIN}),
    "admin.country_list": frozenset({ADMIN}),
    "admin.list_item": frozenset({ADMIN}),
    "tokens.all_tokens": frozenset({ADMIN}),
    "tokens.service_accounts": frozenset({ADMIN}),
    "tokens.service_account": frozenset({ADMIN}),
    # R22: only an administrator grants and ends an interim PSEA delegation
    "psea.delegations_page": frozenset({ADMIN}),
    "psea.end_delegation": frozenset({ADMIN}),
    # the audit log: administrators and auditors
    "audit.index": frozenset({ADMIN, AUDITOR}),
    "audit.verify": frozenset({ADMIN, AUDITOR}),
    "audit.export_csv": frozenset({ADMIN, AUDITOR}),
    # one's own account, inbox and API tokens
    "home.inbox": EVERYONE,
    "home.go": EVERYONE,  # finds only what the user may open
    "auth.account": EVERYONE,
    "auth.change_password": EVERYONE,
    "auth.new_recovery_codes": EVERYONE,
    "auth.set_language": EVERYONE,
    "auth.sign_out": EVERYONE,
    "auth.sign_out_everywhere": EVERYONE,
    "tokens.index": EVERYONE,
    "tokens.revoke": EVERYONE,
    # the directory and pathways: read by all but the auditor, kept by GBV coordinators
    "directory.index": DIRECTORY_READERS,
    "directory.service": DIRECTORY_READERS,
    "hxl.export": DIRECTORY_READERS,
    "directory.areas": frozenset({GBV_COORDINATOR}),
    "directory.new_area": frozenset({GBV_COORDINATOR}),
    "directory.edit_area": frozenset({GBV_COORDINATOR}),
    "directory.import_areas": frozenset({GBV_COORDINATOR}),
    "directory.new_service": frozenset({GBV_COORDINATOR}),
    "directory.edit_service": frozenset({GBV_COORDINATOR}),
    "hxl.import_areas": frozenset({GBV_COORDINATOR}),
    "hxl.import_services": frozenset({GBV_COORDINATOR}),
    "pathways.index": DIRECTORY_READERS,
    "pathways.area": DIRECTORY_READERS,
    "pathways.version": DIRECTORY_READERS,
    "pathways.compare": DIRECTORY_READERS,
    "pathways.new_version": frozenset({GBV_COORDINATOR}),
    "pathways.edit_version": frozenset({GBV_COORDINATOR}),
    "pathways.edit_step": frozenset({GBV_COORDINATOR}),
    "pathways.step_action": frozenset({GBV_COORDINATOR}),
    "pathways.move": frozenset({GBV_COORDINATOR}),
    "pathways.publish": frozenset({GBV_COORDINATOR}),  # R15: only a GBV coordinator
    # cases: caseworkers and supervisors; a supervisor's own rights
    "cases.index": CASE_HANDLERS,
    "cases.new": CASE_HANDLERS,
    "cases.show": CASE_HANDLERS,
    "cases.details": CASE_HANDLERS,
    "cases.edit": CASE_HANDLERS,
    "cases.referral_slip": CASE_HANDLERS,
    "cases.consent": CASE_HANDLERS,
    "cases.withdraw_consent": CASE_HANDLERS,
    "cases.incident": CASE_HANDLERS,
    "cases.edit_incident": CASE_HANDLERS,
    "cases.refer": CASE_HANDLERS,
    "cases.withdraw_referral": CASE_HANDLERS,
    "cases.stage": CASE_HANDLERS,
    "cases.add_action": CASE_HANDLERS,
    "cases.action_status": CASE_HANDLERS,
    "cases.add_follow_up": CASE_HANDLERS,
    "cases.request_closure": CASE_HANDLERS,
    "cases.assign": frozenset({SUPERVISOR}),
    "cases.reassign": frozenset({SUPERVISOR}),
    "cases.transfer": CASE_HANDLERS,
    "cases.withdraw_transfer": CASE_HANDLERS,
    # a transfer is answered by a supervisor of the receiving organisation
    "cases.transfers_index": frozenset({SUPERVISOR}),
    "cases.transfer_request": frozenset({SUPERVISOR}),
    "cases.accept_transfer": frozenset({SUPERVISOR}),
    "cases.decline_transfer": frozenset({SUPERVISOR}),
    "cases.decide_closure": frozenset({SUPERVISOR}),  # R9: a supervisor approves closure
    "cases.reopen": frozenset({SUPERVISOR}),
    "cases.legal_hold": frozenset({SUPERVISOR}),  # R26
    # the receiving organisation's referral queue (R10)
    "referrals.queue": frozenset({SERVICE_FOCAL_POINT}),
    "referrals.show": frozenset({SERVICE_FOCAL_POINT}),
    "referrals.act": frozenset({SERVICE_FOCAL_POINT}),
    # PSEA: focal points record, route and answer for their organisation; the
    # coordinator sees all and routes; victim assistance sees what is marked for it
    "psea.index": ALLEGATION_READERS,
    "psea.show": ALLEGATION_READERS,
    "psea.narrative": frozenset({PSEA_FOCAL_POINT, PSEA_COORDINATOR}),  # never VA
    "psea.new": frozenset({PSEA_FOCAL_POINT, PSEA_COORDINATOR}),
    "psea.route": frozenset({PSEA_FOCAL_POINT, PSEA_COORDINATOR}),
    "psea.acknowledge": frozenset({PSEA_FOCAL_POINT}),  # R18: the entity concerned
    "psea.outcome": frozenset({PSEA_FOCAL_POINT}),
    "psea.legal_hold": frozenset({PSEA_COORDINATOR}),  # R26
    # victim assistance (R21)
    "assistance.index": frozenset({VA_FOCAL_POINT}),
    "assistance.new": frozenset({VA_FOCAL_POINT}),
    "assistance.show": frozenset({VA_FOCAL_POINT}),
    "assistance.refer": frozenset({VA_FOCAL_POINT}),
    "assistance.close": frozenset({VA_FOCAL_POINT}),
    # statistics (R24, R25): GBV for coordinators and supervisors, PSEA for its coordinator
    "reports.index": frozenset({GBV_COORDINATOR, SUPERVISOR, PSEA_COORDINATOR}),
    "reports.export_tables": frozenset({GBV_COORDINATOR, SUPERVISOR}),
    "reports.export_incidents": frozenset({SUPERVISOR}),  # own organisation's incidents
    "reports.export_incident_recorder": frozenset({SUPERVISOR}),
    "reports.psea": frozenset({PSEA_COORDINATOR}),
    "reports.export_psea": frozenset({PSEA_COORDINATOR}),
    # public pages and the sign-in flow
    "static": PUBLIC,
    "auth.sign_in": PUBLIC,
    "auth.first_password": MID_SIGN_IN,
    "auth.enrol": MID_SIGN_IN,
    "auth.second_factor": MID_SIGN_IN,
    "home.healthz": PUBLIC,
    "api.docs": PUBLIC,
    "api.openapi": PUBLIC,
    # the JSON API (the token's user; the token's scope is checked besides)
    "api.me": EVERYONE,
    "api.areas": DIRECTORY_READERS,
    "api.area": DIRECTORY_READERS,
    "api.services_list": DIRECTORY_READERS,
    "api.service": DIRECTORY_READERS,
    "api.pathways_list": DIRECTORY_READERS,
    "api.pathway": DIRECTORY_READERS,
    "api.incoming": frozenset({SERVICE_FOCAL_POINT}),
    "api.incoming_referral": frozenset({SERVICE_FOCAL_POINT}),
    "api.accept": frozenset({SERVICE_FOCAL_POINT}),
    "api.decline": frozenset({SERVICE_FOCAL_POINT}),
    "api.complete": frozenset({SERVICE_FOCAL_POINT}),
    "api.sent": frozenset({CASEWORKER, SUPERVISOR, VA_FOCAL_POINT}),
    "api.sent_referral": frozenset({CASEWORKER, SUPERVISOR, VA_FOCAL_POINT}),
    "api.gbv_statistics": frozenset({GBV_COORDINATOR, SUPERVISOR}),
    "api.psea_statistics": frozenset({PSEA_COORDINATOR}),
}

# R22: what a GBV coordinator holding an interim PSEA delegation reaches besides: the
# PSEA coordinator's pages (all allegations, routing, legal holds, PSEA statistics).
DELEGATED: frozenset[str] = frozenset(
    {
        "psea.index",
        "psea.show",
        "psea.narrative",
        "psea.new",
        "psea.route",
        "psea.legal_hold",
        "reports.psea",
        "reports.export_psea",
        "api.psea_statistics",
    }
)


def may_reach(endpoint: str, role: Role, *, delegated: bool = False) -> bool:
    """Whether a user of ``role`` reaches ``endpoint`` (``delegated``: a GBV coordinator
    holding an interim PSEA delegation)."""
    allowed = MAY_REACH[endpoint]
    if allowed in (PUBLIC, MID_SIGN_IN) or role in allowed:
        return True
    return delegated and role is GBV_COORDINATOR and endpoint in DELEGATED


# The answer to an empty POST (a CSRF token, no field) by a user who may take the action,
# for endpoints with no page to GET: 400 where the action needs fields (a reason, a
# confirmation box, the password and code again) and comes back with its errors, 302
# where it redirects, 200 where the answer is the result itself. By record where it
# differs (the scenario's label).
EMPTY_POST: dict[str, int | dict[str, int]] = {
    "admin.reset_password": 400,
    "admin.reset_two_factor": 400,
    "audit.export_csv": 200,  # the CSV itself: every filter is optional
    "audit.verify": 200,  # the verification's result
    "auth.change_password": 400,
    "auth.new_recovery_codes": 400,
    "auth.set_language": 400,
    "auth.sign_out": 302,
    "auth.sign_out_everywhere": 400,
    "hxl.export": 302,  # no format chosen: back to the directory with a message
    "cases.action_status": 400,
    "cases.withdraw_transfer": 400,
    "cases.accept_transfer": 400,
    "cases.decline_transfer": 400,
    "cases.decide_closure": 400,
    "cases.reopen": 400,
    "cases.stage": 400,
    "referrals.act": 400,
    "assistance.close": 400,
    "assistance.refer": 400,
    "psea.legal_hold": 400,
    # routing again an allegation already routed is a conflict
    "psea.route": {"allegation own": 400, "allegation other": 400, "allegation routed": 409},
    # only the organisation an allegation was routed to acknowledges it and reports its
    # outcome; to the organisation that merely received it, there is nothing to answer
    "psea.acknowledge": {"allegation own": 404, "allegation routed": 302},
    "psea.outcome": {"allegation own": 404, "allegation routed": 400},
    "reports.export_tables": 400,
    "reports.export_incidents": 400,
    "reports.export_incident_recorder": 400,
    "reports.export_psea": 400,
}


def empty_post_answer(endpoint: str, label: str) -> int:
    answer = EMPTY_POST[endpoint]
    return answer if isinstance(answer, int) else answer[label]
