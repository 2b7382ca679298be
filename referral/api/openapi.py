"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

Written by hand next to the views; ``tests/test_api_schema.py`` (schemathesis) checks
every answer of the application against it, and ``tests/test_api.py`` checks that every
API endpoint of the URL map is described here and nothing else.
"""

from __future__ import annotations

from typing import Any

from referral.directory.models import AgeGroup, AreaLevel, Sector, ServiceStatus, Sex
from referral.referrals.models import Need, Priority, ReferralState, SourceKind
from referral.security.policy import Scope

API_VERSION = "1.0.0"

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _enum(values: Any) -> Schema:
    return {"type": "string", "enum": [v.value for v in values]}


STAMP: Schema = {"type": ["string", "null"], "format": "date-time"}
TEXT: Schema = {"type": "string"}
PUBLIC_ID: Schema = {"type": "string", "minLength": 1, "maxLength": 24}


def _object(properties: dict[str, Schema], *, nullable: bool = False) -> Schema:
    schema: Schema = {
        "type": ["object", "null"] if nullable else "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }
    return schema


def _page_of(item: str) -> Schema:
    return _object(
        {
            "items": {"type": "array", "items": _ref(item)},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` to get the next page; null on the last page.",
            },
        }
    )


def _schemas() -> dict[str, Schema]:
    organisation = _object({"id": TEXT, "acronym": TEXT, "name": TEXT})
    area_ref = _object({"id": TEXT, "code": TEXT})
    cell = _object(
        {
            "text": {
                "type": "string",
                "description": 'The published value: a count, "<5" (small) or "x" (hidden).',
            },
            "value": {"type": ["integer", "null"], "minimum": 0},
        }
    )
    service_ref = _object({"id": TEXT, "name": TEXT})
    incoming = {
        "id": TEXT,
        "reference": TEXT,
        "state": _enum(ReferralState),
        "priority": _enum(Priority),
        "time_critical": {"type": "boolean"},
        "sector": _enum(Sector),
        "service": service_ref,
        "sending_organisation": _ref("Organisation"),
        "survivor_code": TEXT,
        "age_group": _enum(AgeGroup),
        "sex": _enum(Sex),
        "needs": {"type": "array", "items": _enum(Need)},
        "sent_at": STAMP,
        "deadline_at": STAMP,
        "responded_at": STAMP,
        "finished_at": STAMP,
        "overdue": {"type": "boolean"},
        "actions": {
            "type": "array",
            "items": {"type": "string", "enum": ["accept", "decline", "complete"]},
            "description": "The answers the referral's state allows now.",
        },
    }
    return {
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details.",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": TEXT,
                "title": TEXT,
                "status": {"type": "integer"},
                "detail": TEXT,
                "instance": TEXT,
                "errors": {
                    "type": "array",
                    "items": _object({"field": TEXT, "message": TEXT}),
                },
            },
        },
        "Organisation": organisation,
        "Me": _object(
            {
                "user": TEXT,
                "service_account": {"type": "boolean"},
                "role": TEXT,
                "organisation": _ref("Organisation"),
                "token": _object(
                    {
                        "id": {"type": ["string", "null"]},
                        "name": {"type": ["string", "null"]},
                        "scopes": {"type": "array", "items": _enum(Scope)},
                        "expires_at": STAMP,
                    }
                ),
            }
        ),
        "Area": _object(
            {
                "id": TEXT,
                "code": {"type": "string", "description": "The P-code."},
                "name": TEXT,
                "level": _enum(AreaLevel),
                "parent": {**area_ref, "type": ["object", "null"]},
            }
        ),
        "AreaPage": _page_of("Area"),
        "Service": _object(
            {
                "id": TEXT,
                "name": TEXT,
                "sector": _enum(Sector),
                "organisation": _ref("Organisation"),
                "areas": {
                    "type": "array",
                    "items": _object({"id": TEXT, "code": TEXT, "name": TEXT}),
                },
                "status": _enum(ServiceStatus),
                "status_note": TEXT,
                "status_changed_at": STAMP,
                "address": TEXT,
                "opening_hours": TEXT,
                "languages": TEXT,
                "cost": {"type": "string", "enum": ["free", "paid"]},
                "accessibility": TEXT,
                "accepts": _object(
                    {
                        "age_groups": {"type": "array", "items": _enum(AgeGroup)},
                        "sexes": {"type": "array", "items": _enum(Sex)},
                    }
                ),
                "focal_point": _object({"name": TEXT, "phone": TEXT, "email": TEXT}),
            }
        ),
        "ServicePage": _page_of("Service"),
        "Pathway": _object(
            {
                "id": TEXT,
                "area": area_ref,
                "number": {"type": "integer"},
                "title": TEXT,
                "status": {"type": "string", "enum": ["published"]},
                "published_at": STAMP,
                "sop_markdown": TEXT,
                "sea_reporting_procedure": TEXT,
                "steps": {
                    "type": "array",
                    "items": _object(
                        {
                            "position": {"type": "integer"},
                            "sector": _enum(Sector),
                            "guidance": TEXT,
                            "services": {
                                "type": "array",
                                "items": _object(
                                    {"id": TEXT, "name": TEXT, "status": _enum(ServiceStatus)}
                                ),
                            },
                        }
                    ),
                },
            }
        ),
        "PathwayPage": _page_of("Pathway"),
        "IncomingReferral": _object(incoming),
        "IncomingReferralDetail": _object(
            {
                **incoming,
                "shared": {
                    "type": "object",
                    "description": (
                        "The consented fields the API may carry (incident type, disability, "
                        "displacement status); never a name, contact or narrative."
                    ),
                    "additionalProperties": {"type": ["string", "null"]},
                },
                "withheld_fields": {
                    "type": "array",
                    "items": TEXT,
                    "description": "Consented fields to read on the referral's page instead.",
                },
            }
        ),
        "IncomingReferralPage": _page_of("IncomingReferral"),
        "SentReferral": _object(
            {
                "id": TEXT,
                "reference": TEXT,
                "source": _enum(SourceKind),
                "survivor_code": TEXT,
                "state": _enum(ReferralState),
                "priority": _enum(Priority),
                "sector": _enum(Sector),
                "service": service_ref,
                "receiving_organisation": _ref("Organisation"),
                "created_at": STAMP,
                "sent_at": STAMP,
                "deadline_at": STAMP,
                "responded_at": STAMP,
                "finished_at": STAMP,
                "overdue": {"type": "boolean"},
            }
        ),
        "SentReferralPage": _page_of("SentReferral"),
        "Answer": {
            "type": "object",
            "properties": {
                "reason": {
                    "type": "string",
                    "maxLength": 2000,
                    "description": "Required to decline; optional otherwise.",
                }
            },
        },
        "Cell": cell,
        "Statistics": _object(
            {
                "report": {"type": "string", "enum": ["gbv_statistics", "psea_statistics"]},
                "parameters": {"type": "object"},
                "threshold": {"type": "integer"},
                "tables": {
                    "type": "array",
                    "items": _object(
                        {
                            "title": TEXT,
                            "row_header": TEXT,
                            "columns": {"type": "array", "items": TEXT},
                            "withheld": {"type": "boolean"},
                            "totals_published": {"type": "boolean"},
                            "rows": {
                                "type": "array",
                                "items": _object(
                                    {
                                        "label": TEXT,
                                        "cells": {"type": "array", "items": _ref("Cell")},
                                        "total": _ref("Cell"),
                                    }
                                ),
                            },
                            "column_totals": {"type": "array", "items": _ref("Cell")},
                            "grand_total": _ref("Cell"),
                        }
                    ),
                },
                "figures": {"type": "array", "items": _object({"label": TEXT, "text": TEXT})},
            }
        ),
    }


def _problem(description: str) -> Schema:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


PROBLEMS = {
    "400": _problem("A parameter or the body is not valid."),
    "401": _problem("No valid API token (missing, unknown, expired or revoked)."),
    "403": _problem("The token's user lacks the permission, or the token lacks the scope."),
    "429": _problem("Too many requests for this token or address; wait and retry."),
}


def _query(name: str, description: str, schema: Schema) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _id_param(what: str) -> Schema:
    return {
        "name": "public_id",
        "in": "path",
        "required": True,
        "description": f"The {what}'s id.",
        "schema": PUBLIC_ID,
    }


CURSOR = _query(
    "cursor", "The `next_cursor` of the previous page.", {"type": "string", "maxLength": 1000}
)
LIMIT = _query(
    "limit",
    "Items per page (1-200, default 50).",
    {"type": "integer", "minimum": 1, "maximum": 200},
)
AREA_FILTER = _query("area", "An area's id.", {"type": "string", "maxLength": 24})
PERIOD = [
    _query(
        "start", "First day (default: twelve months ago).", {"type": "string", "format": "date"}
    ),
    _query(
        "end",
        "Last day, inclusive (at most five years after start).",
        {"type": "string", "format": "date"},
    ),
    _query(
        "granularity",
        "Period of the first table.",
        {"type": "string", "enum": ["month", "quarter", "year"]},
    ),
    AREA_FILTER,
]


def _operation(
    operation_id: str,
    summary: str,
    *,
    scope: Scope | None,
    roles: str,
    answer: str,
    parameters: list[Schema] | None = None,
    found: bool = False,
    body: bool = False,
    extra: dict[str, Schema] | None = None,
) -> Schema:
    responses: dict[str, Schema] = {
        "200": {"description": "OK", "content": {"application/json": {"schema": _ref(answer)}}},
        **PROBLEMS,
    }
    if found:
        responses["404"] = _problem("No such record, or not visible to the token's user.")
    responses.update(extra or {})
    operation: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "description": f"Roles: {roles}. Scope: `{scope.value if scope else 'any'}`.",
        "security": [{"bearer": [scope.value] if scope else []}],
        "parameters": parameters or [],
        "responses": dict(sorted(responses.items())),
    }
    if body:
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": _ref("Answer")}},
        }
    return operation


RECEIVER = "service focal point of the receiving organisation"
DIRECTORY = "every role but the auditor"


def _paths() -> dict[str, Schema]:
    answer_problems = {
        "409": _problem("The referral's state does not allow this (someone answered first)."),
        "415": _problem("The body is not JSON."),
        "422": _problem("Refused by a rule (e.g. declining without a reason)."),
    }
    return {
        "/me": {
            "get": _operation("me", "The token and its user", scope=None, roles="any", answer="Me")
        },
        "/areas": {
            "get": _operation(
                "listAreas",
                "Administrative areas by P-code",
                scope=Scope.DIRECTORY_READ,
                roles=DIRECTORY,
                answer="AreaPage",
                parameters=[
                    _query("level", "Only areas of this level.", _enum(AreaLevel)),
                    _query(
                        "parent",
                        "Only the areas directly inside this one (its id).",
                        {"type": "string", "maxLength": 24},
                    ),
                    CURSOR,
                    LIMIT,
                ],
            )
        },
        "/areas/{public_id}": {
            "get": _operation(
                "getArea",
                "One area",
                scope=Scope.DIRECTORY_READ,
                roles=DIRECTORY,
                answer="Area",
                parameters=[_id_param("area")],
                found=True,
            )
        },
        "/services": {
            "get": _operation(
                "listServices",
                "The service directory, with the search filters of its page",
                scope=Scope.DIRECTORY_READ,
                roles=DIRECTORY,
                answer="ServicePage",
                parameters=[
                    _query(
                        "area",
                        "Services serving this area (its id), directly or from an area above it.",
                        {"type": "string", "maxLength": 24},
                    ),
                    _query("sector", "Only this sector.", _enum(Sector)),
                    _query("age_group", "Only services accepting this age group.", _enum(AgeGroup)),
                    _query("sex", "Only services accepting this sex.", _enum(Sex)),
                    _query("status", "Only this status.", _enum(ServiceStatus)),
                    _query(
                        "organisation",
                        "Only this organisation's services (its id).",
                        {"type": "string", "maxLength": 24},
                    ),
                    CURSOR,
                    LIMIT,
                ],
            )
        },
        "/services/{public_id}": {
            "get": _operation(
                "getService",
                "One service",
                scope=Scope.DIRECTORY_READ,
                roles=DIRECTORY,
                answer="Service",
                parameters=[_id_param("service")],
                found=True,
            )
        },
        "/pathways": {
            "get": _operation(
                "listPathways",
                "Published referral pathways",
                scope=Scope.DIRECTORY_READ,
                roles=DIRECTORY,
                answer="PathwayPage",
                parameters=[
                    _query(
                        "area",
                        "Only the pathway that applies in this area (its own or "
                        "the nearest area's above it).",
                        {"type": "string", "maxLength": 24},
                    ),
                    CURSOR,
                    LIMIT,
                ],
            )
        },
        "/pathways/{public_id}": {
            "get": _operation(
                "getPathway",
                "One published pathway",
                scope=Scope.DIRECTORY_READ,
                roles=DIRECTORY,
                answer="Pathway",
                parameters=[_id_param("pathway version")],
                found=True,
            )
        },
        "/referrals/incoming": {
            "get": _operation(
                "listIncomingReferrals",
                "The organisation's referral queue, earliest deadline first",
                scope=Scope.REFERRALS_READ,
                roles=RECEIVER,
                answer="IncomingReferralPage",
                parameters=[
                    _query(
                        "state",
                        "`open` (sent or accepted, the default) or `done`.",
                        {"type": "string", "enum": ["open", "done"]},
                    ),
                    CURSOR,
                    LIMIT,
                ],
            )
        },
        "/referrals/incoming/{public_id}": {
            "get": _operation(
                "getIncomingReferral",
                "One referral to the organisation, with the consented fields the API carries",
                scope=Scope.REFERRALS_READ,
                roles=RECEIVER,
                answer="IncomingReferralDetail",
                parameters=[_id_param("referral")],
                found=True,
            )
        },
        **{
            f"/referrals/incoming/{{public_id}}/{action}": {
                "post": _operation(
                    f"{action}Referral",
                    summary,
                    scope=Scope.REFERRALS_WRITE,
                    roles=RECEIVER,
                    answer="IncomingReferral",
                    parameters=[_id_param("referral")],
                    found=True,
                    body=True,
                    extra=answer_problems,
                )
            }
            for action, summary in (
                ("accept", "Accept a sent referral"),
                ("decline", "Decline a sent referral (reason required)"),
                ("complete", "Mark an accepted referral completed (service provided)"),
            )
        },
        "/referrals/sent": {
            "get": _operation(
                "listSentReferrals",
                "Where the referrals the user follows stand, newest first",
                scope=Scope.REFERRALS_READ,
                roles="caseworker (own and assigned cases), supervisor (the organisation's "
                "cases), victim-assistance focal point (the organisation's records)",
                answer="SentReferralPage",
                parameters=[
                    _query("state", "Only this state.", _enum(ReferralState)),
                    CURSOR,
                    LIMIT,
                ],
            )
        },
        "/referrals/sent/{public_id}": {
            "get": _operation(
                "getSentReferral",
                "Where one sent referral stands",
                scope=Scope.REFERRALS_READ,
                roles="caseworker, supervisor, victim-assistance focal point",
                answer="SentReferral",
                parameters=[_id_param("referral")],
                found=True,
            )
        },
        "/statistics/gbv": {
            "get": _operation(
                "gbvStatistics",
                "GBV statistics: suppressed aggregate tables (R24) over whole calendar months "
                "(from the first day of start's month to the last day of end's month; "
                "`parameters` gives the period counted); an audited export",
                scope=Scope.STATISTICS_READ,
                roles="GBV coordinator (all organisations, shared), supervisor (own)",
                answer="Statistics",
                parameters=PERIOD,
            )
        },
        "/statistics/psea": {
            "get": _operation(
                "pseaStatistics",
                "PSEA statistics: suppressed aggregate tables; an audited export",
                scope=Scope.STATISTICS_READ,
                roles="PSEA coordinator",
                answer="Statistics",
                parameters=PERIOD,
            )
        },
    }


DESCRIPTION = """\
JSON access to the referral network for other systems: the service directory and its
administrative areas (P-codes), published referral pathways, a receiving organisation's
referral queue (accept, decline, complete), where sent referrals stand, and suppressed
statistics.

Authenticate with an API token: `Authorization: Bearer rfl_...`. A token belongs to a
person or to an organisation's service account, carries scopes, expires, and can be
revoked at any time on the API tokens page. A request needs both the role permission of
the token's user and the scope of the token. Errors are `application/problem+json`.
Lists are paged with an opaque `next_cursor`.

No survivor name, contact detail or narrative is ever returned.
"""


def openapi_document(server_url: str) -> Schema:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "referral API",
            "version": API_VERSION,
            "description": DESCRIPTION,
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (rfl_...) from the API tokens page.",
                }
            },
        },
    }
