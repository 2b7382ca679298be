"""Referral engine rules (R3-R5, R10-R13), as plain functions over the session.

Callers authorise the user against the *source* (may this user act on this case?);
the engine enforces what belongs to referrals themselves: the consent gate, the
receiving organisation's side, the transition table and concurrency.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    bindparam,
    exists,
    false,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import joinedload, lazyload, load_only
from sqlalchemy.orm.exc import StaleDataError

from referral.audit import record as audit
from referral.clinical import CARE_ARRANGED_STATES, HEALTH_SECTOR, care_arranged
from referral.clock import utcnow
from referral.db import Organisation, User, paging
from referral.db.base import random_code
from referral.db.paging import Keyset, Page
from referral.directory.models import Sector, Service
from referral.extensions import db
from referral.messages import lazy_gettext as _l
from referral.pathways.services import Eligibility, PathwayOption, lookup_pathway
from referral.referrals.models import (
    FEEDBACK_STATES,
    OPTIONAL_SHARED_FIELDS,
    PENDING_STATES,
    REASON_REQUIRED,
    REFERRAL_WORKFLOW,
    CaregiverRelationship,
    Consent,
    ConsentKind,
    Need,
    Priority,
    Referral,
    ReferralState,
    ReferralTransition,
    SourceKind,
    overdue,
)
from referral.referrals.source import ReferralSource
from referral.security.policy import Permission, has_permission
from referral.security.records import load_or_404
from referral.workflow import ConflictError, RuleError

MAX_REASON_LENGTH = 2000
MAX_FEEDBACK_LENGTH = 1000


# --- codes ---------------------------------------------------------------------------------


def unique_code(prefix: str, column: Any, *, attempts: int = 20) -> str:
    """A random code (``random_code``) not yet used in ``column`` (a unique column).

    Five random characters give 32^5 codes a year, so collisions do happen at a few
    thousand records; pick again instead of failing on the unique constraint.
    """
    for _ in range(attempts):
        code = random_code(prefix)
        if db.session.scalar(select(column).where(column == code)) is None:
            return code
    return random_code(prefix, length=8)


# --- deadlines (R12) -------------------------------------------------------------------


def response_hours(priority: Priority) -> int:
    return int(current_app.config[f"REFERRAL_DEADLINE_HOURS_{priority.name}"])


def deadline_for(priority: Priority, sent_at: datetime) -> datetime:
    return sent_at + timedelta(hours=response_hours(priority))


# --- consent (R3, R5) --------------------------------------------------------------------


@dataclass(frozen=True)
class ChildConsent:
    """R5: who consented for a child survivor and whether the child assented."""

    caregiver_consented: bool | None
    caregiver_relationship: CaregiverRelationship | None = None
    caregiver_name: str | None = None
    caregiver_is_alleged_perpetrator: bool | None = None
    child_assented: bool | None = None
    best_interest_note: str | None = None


def _check_child_consent(child: ChildConsent | None) -> ChildConsent:
    if child is None or child.caregiver_consented is None:
        raise RuleError(
            "caregiver_consented",
            _l("For a child survivor, say whether a caregiver gave consent."),
        )
    if child.caregiver_consented:
        if child.caregiver_relationship is None:
            raise RuleError("caregiver_relationship", _l("Say who the consenting caregiver is."))
        if child.caregiver_is_alleged_perpetrator is None:
            raise RuleError(
                "caregiver_is_alleged_perpetrator",
                _l("Say whether the caregiver is the alleged perpetrator."),
            )
        if child.caregiver_is_alleged_perpetrator:
            raise RuleError(
                "caregiver_is_alleged_perpetrator",
                _l(
                    "The alleged perpetrator can never give consent for the child. Record "
                    "consent from another caregiver, or no caregiver consent and a "
                    "best-interest note."
                ),
            )
    elif not (child.best_interest_note or "").strip():
        raise RuleError(
            "best_interest_note",
            _l("When no caregiver consents, write the best-interest decision."),
        )
    if child.child_assented is None:
        raise RuleError("child_assented", _l("Say whether the child assented."))
    return child


def record_consent(
    source: ReferralSource,
    kind: ConsentKind,
    *,
    actor: User,
    survivor_is_child: bool,
    granted: bool = True,
    receiving_organisation: Organisation | None = None,
    sector: Sector | None = None,
    shared_fields: Iterable[str] = (),
    child: ChildConsent | None = None,
) -> Consent:
    """Record one consent (R3). For a child survivor the R5 facts are required."""
    fields = list(dict.fromkeys(shared_fields))
    unknown = [f for f in fields if f not in OPTIONAL_SHARED_FIELDS]
    if unknown:
        raise RuleError("shared_fields", _l("Unknown information to share."))
    if kind is ConsentKind.REFERRAL:
        if receiving_organisation is None or not receiving_organisation.provides_services:
            raise RuleError(
                "receiving_organisation", _l("Choose an organisation that provides services.")
            )
        if not sector:
            raise RuleError("sector", _l("Choose the service sector."))
    consent = Consent(
        source_kind=source.source_kind,
        source_public_id=source.public_id,
        organisation_id=source.organisation_id,
        kind=kind,
        granted=granted,
        receiving_organisation_id=receiving_organisation.id if receiving_organisation else None,
        sector=sector if kind is ConsentKind.REFERRAL else None,
        shared_fields=",".join(fields) if kind is ConsentKind.REFERRAL else "",
        survivor_is_child=survivor_is_child,
        recorded_by_id=actor.id,
        recorded_at=utcnow(),
    )
    if survivor_is_child:
        facts = _check_child_consent(child)
        consent.caregiver_consented = facts.caregiver_consented
        consent.child_assented = facts.child_assented
        if facts.caregiver_consented:
            consent.caregiver_relationship = facts.caregiver_relationship
            consent.caregiver_is_alleged_perpetrator = False
            consent.caregiver_name = (facts.caregiver_name or "").strip() or None
        else:
            consent.best_interest_note = (facts.best_interest_note or "").strip()
    db.session.add(consent)
    db.session.flush()
    audit(
        "consent.recorded",
        actor=actor,
        obj_type="consent",
        obj_id=consent.public_id,
        detail={
            "source": f"{source.source_kind.value}:{source.public_id}",
            "kind": kind.value,
            "granted": granted,
        },
    )
    return consent


def consents_of(source: ReferralSource) -> Sequence[Consent]:
    return db.session.scalars(
        select(Consent)
        .where(
            Consent.source_kind == source.source_kind,
            Consent.source_public_id == source.public_id,
        )
        .order_by(Consent.recorded_at.desc(), Consent.id.desc())
    ).all()


def _pending_under(consent: Consent) -> Select[str]:
    """The public ids of the pending referrals that withdrawing this consent withdraws."""
    query = select(Referral.public_id).where(Referral.state.in_(PENDING_STATES))
    if consent.kind is ConsentKind.REFERRAL:
        return query.where(Referral.consent_id == consent.id)
    if consent.kind is ConsentKind.SERVICES:
        return query.where(
            Referral.source_kind == consent.source_kind,
            Referral.source_public_id == consent.source_public_id,
        )
    return query.where(false())


def referrals_withdrawn_with(consent: Consent, referrals: Sequence[Referral]) -> list[Referral]:
    """Of a source's referrals, those that withdrawing ``consent`` would withdraw (R3):
    what the confirmation page names before the caseworker decides."""
    pending = set(db.session.scalars(_pending_under(consent)))
    return [r for r in referrals if r.public_id in pending]


def withdraw_consent(consent: Consent, *, actor: User, reason: str) -> list[Referral]:
    """R3: withdrawal stops further sharing at once. Withdrawing a referral consent
    withdraws the pending referrals made under it; withdrawing consent to services
    withdraws every pending referral of the source."""
    reason = reason.strip()
    if not reason:
        raise RuleError("reason", _l("Say why consent is withdrawn."))
    if consent.withdrawn_at is not None:
        raise RuleError("reason", _l("This consent was already withdrawn."))
    consent.withdrawn_at = utcnow()
    consent.withdrawn_by_id = actor.id
    consent.withdrawal_reason = reason
    audit("consent.withdrawn", actor=actor, obj_type="consent", obj_id=consent.public_id)
    withdrawn = []
    for public_id in db.session.scalars(_pending_under(consent)).all():
        withdrawn.append(
            transition(
                public_id,
                ReferralState.WITHDRAWN,
                actor=actor,
                reason=f"Consent withdrawn: {reason}",
                as_sender=True,
            )
        )
    return withdrawn


def usable_referral_consents(
    source: ReferralSource, receiving_organisation_id: int | None = None
) -> list[Consent]:
    return [
        c
        for c in consents_of(source)
        if c.kind is ConsentKind.REFERRAL
        and c.active
        and (
            receiving_organisation_id is None
            or c.receiving_organisation_id == receiving_organisation_id
        )
    ]


def matching_consent(consents: Sequence[Consent], service: Service) -> Consent | None:
    """R3/R4: the active referral consent that covers a referral to ``service`` (same
    receiving organisation and sector), the most recent first; consent is entered once
    and the referral picks it up."""
    return next(
        (
            c
            for c in consents
            if c.kind is ConsentKind.REFERRAL
            and c.active
            and c.receiving_organisation_id == service.organisation_id
            and c.sector is service.sector
        ),
        None,
    )


# --- creating and sending (R4, R10, R11, R12, R8) ----------------------------------------


@dataclass(frozen=True)
class ReferralRequest:
    service: Service
    priority: Priority
    needs: Sequence[Need]
    note: str = ""
    shared_fields: Sequence[str] = ()
    # R14: required to pick a service that is suspended or does not accept the survivor
    off_pathway_reason: str = ""
    # R8: required for a health referral below emergency while a clinical window is open
    priority_reason: str = ""


def care_arranged_conditions() -> list[ColumnElement[bool]]:
    """R8 in SQL, the rule of :func:`referral.clinical.care_arranged`: a health referral
    the service accepted or completed."""
    return [
        Referral.sector == Sector(HEALTH_SECTOR),
        Referral.state.in_([ReferralState(s) for s in sorted(CARE_ARRANGED_STATES)]),
    ]


def care_arranged_sql(
    source_kind: SourceKind,
    source_public_id: SQLColumnExpression[str],
    incident_public_id: SQLColumnExpression[str] | None = None,
) -> ColumnElement[bool]:
    """R8 in SQL: the source has a health referral accepted or completed (the clinical
    window alarm stops, :func:`referral.clinical.care_arranged`); with
    ``incident_public_id``, one made for that incident."""
    conditions = [
        Referral.source_kind == source_kind,
        Referral.source_public_id == source_public_id,
        *care_arranged_conditions(),
    ]
    if incident_public_id is not None:
        conditions.append(Referral.incident_public_id == incident_public_id)
    return exists().where(*conditions)


def care_arranged_for(
    source_kind: SourceKind, source_public_id: str, incident_public_id: str | None = None
) -> bool:
    """R8: the source has a health referral accepted or completed (for the incident, when
    one is named: care arranged after an earlier incident does not cover a new one)."""
    query = select(Referral.sector, Referral.state).where(
        Referral.source_kind == source_kind, Referral.source_public_id == source_public_id
    )
    if incident_public_id is not None:
        query = query.where(Referral.incident_public_id == incident_public_id)
    rows = db.session.execute(query).all()
    return care_arranged((sector.value, state.value) for sector, state in rows)


def pathway_options(source: ReferralSource) -> list[PathwayOption]:
    """R14: the services of the published pathway for the survivor's area, marked.

    R8: health services are urgent while a clinical window is open, unless care is
    already arranged (a health referral of the source was accepted or completed)."""
    area = source.survivor_area
    if area is None:
        return []
    hours = source.hours_since_incident(utcnow())
    if hours is not None and care_arranged_for(
        source.source_kind, source.public_id, source.incident_public_id
    ):
        hours = None
    return lookup_pathway(
        area,
        source.incident_type_value,
        source.survivor_age_group,
        source.survivor_sex,
        hours,
    )


def _option_for(source: ReferralSource, service: Service) -> PathwayOption:
    for option in pathway_options(source):
        if option.service.id == service.id:
            return option
    raise RuleError(
        "service", _l("This service is not in the published pathway for the survivor's area.")
    )


def create_referral(
    source: ReferralSource,
    request: ReferralRequest,
    *,
    consent: Consent | None,
    actor: User,
    override_reason: str | None = None,
    send: bool = True,
) -> Referral:
    """Create a referral from ``source`` (and send it to the receiving organisation's
    queue unless ``send`` is False).

    R4: needs an active referral consent for this source, receiving organisation and
    sector that releases every shared field; without one, only a user holding
    ``OVERRIDE_CONSENT`` may send, with a written reason, and the override is audited.
    """
    if actor.organisation_id != source.organisation_id:
        raise RuleError("source", _l("Only the organisation holding the record refers."))
    service = request.service
    receiver = service.organisation
    if not receiver.active or not receiver.provides_services:
        raise RuleError("service", _l("This organisation does not receive referrals."))
    option = _option_for(source, service)
    off_pathway = request.off_pathway_reason.strip()
    if option.needs_reason_to_pick and not off_pathway:
        raise RuleError(
            "off_pathway_reason",
            _l("This service is suspended or does not accept the survivor: give a reason."),
        )
    if not request.needs:
        raise RuleError("needs", _l("Choose at least one need."))
    fields = list(dict.fromkeys(request.shared_fields))
    if any(f not in OPTIONAL_SHARED_FIELDS for f in fields):
        raise RuleError("shared_fields", _l("Unknown information to share."))
    if len(request.note) > MAX_REASON_LENGTH:
        raise RuleError("note", _l("The note is too long."))

    override = (override_reason or "").strip()
    if consent is not None:
        _check_consent_covers(consent, source, receiver, service.sector, fields)
        override = ""
    else:
        if not has_permission(actor, Permission.OVERRIDE_CONSENT):
            raise RuleError(
                "consent", _l("No referral is sent without the survivor's recorded consent.")
            )
        if not override:
            raise RuleError(
                "override_reason", _l("Write why the referral is sent without consent.")
            )

    now = utcnow()
    priority = request.priority
    time_critical = option.urgent
    lowered = request.priority_reason.strip() if time_critical else ""
    if time_critical and priority is not Priority.EMERGENCY and not lowered:
        raise RuleError(
            "priority_reason",
            _l(
                "A clinical window is open: a health referral is an emergency (R8). "
                "Choose Emergency, or write why a lower priority is right."
            ),
        )
    if len(lowered) > MAX_REASON_LENGTH:
        raise RuleError("priority_reason", _l("The reason is too long."))

    details = {name: source.shared_field_value(name) for name in fields}
    referral = Referral(
        reference=unique_code("REF", Referral.reference),
        source_kind=source.source_kind,
        source_public_id=source.public_id,
        survivor_code=source.survivor_code,
        incident_public_id=source.incident_public_id,
        sending_organisation_id=source.organisation_id,
        created_by_id=actor.id,
        receiving_organisation_id=receiver.id,
        service_id=service.id,
        sector=service.sector,
        pathway_eligibility=option.eligibility.value,
        priority=priority,
        state=ReferralState.DRAFT,
        time_critical=time_critical,
        age_group=source.survivor_age_group,
        sex=source.survivor_sex,
        needs=",".join(dict.fromkeys(n.value for n in request.needs)),
        shared_fields=",".join(fields),
        consent_id=consent.id if consent is not None else None,
    )
    referral.note = request.note.strip() or None
    referral.shared_details = json.dumps(details, sort_keys=True) if fields else None
    if option.eligibility is not Eligibility.ELIGIBLE:
        referral.off_pathway_reason = off_pathway
    if override:
        referral.override_by_id = actor.id
        referral.override_reason = override
    db.session.add(referral)
    db.session.flush()
    db.session.add(
        ReferralTransition(
            referral_id=referral.id,
            from_state=None,
            to_state=ReferralState.DRAFT,
            actor_id=actor.id,
            occurred_at=now,
            # The one reason a referral may carry when it is made: why it goes below
            # emergency while a clinical window is open (sealed like every reason).
            reason=lowered if priority is not Priority.EMERGENCY and lowered else None,
        )
    )
    audit(
        "referral.created",
        actor=actor,
        obj_type="referral",
        obj_id=referral.public_id,
        fields_revealed=fields,
        detail={
            "source": f"{source.source_kind.value}:{source.public_id}",
            "service": service.public_id,
            "pathway_eligibility": option.eligibility.value,
        },
    )
    if time_critical and priority is not Priority.EMERGENCY:
        audit(
            "referral.priority_lowered",
            actor=actor,
            obj_type="referral",
            obj_id=referral.public_id,
            detail={"priority": priority.value},
        )
    if override:
        audit(
            "referral.consent_override",
            actor=actor,
            obj_type="referral",
            obj_id=referral.public_id,
            detail={"source": f"{source.source_kind.value}:{source.public_id}"},
        )
    if send:
        _apply(referral, ReferralState.SENT, actor=actor, reason=None)
    return referral


def _check_consent_covers(
    consent: Consent,
    source: ReferralSource,
    receiver: Organisation,
    sector: Sector,
    fields: Sequence[str],
) -> None:
    if (
        consent.kind is not ConsentKind.REFERRAL
        or consent.source_kind is not source.source_kind
        or consent.source_public_id != source.public_id
    ):
        raise RuleError("consent", _l("This consent does not belong to this record."))
    if not consent.active:
        raise RuleError("consent", _l("This consent was withdrawn or refused."))
    if consent.receiving_organisation_id != receiver.id or consent.sector != sector:
        raise RuleError(
            "consent",
            _l("The consent names another receiving organisation or service sector."),
        )
    missing = [f for f in fields if f not in consent.shared_field_list]
    if missing:
        raise RuleError(
            "shared_fields", _l("The consent does not allow sharing all the chosen information.")
        )


# --- transitions (R13) ---------------------------------------------------------------------

RECEIVER_TARGETS = frozenset(
    {
        ReferralState.ACCEPTED,
        ReferralState.DECLINED,
        ReferralState.COMPLETED,
        ReferralState.CLOSED,
    }
)
SENDER_TARGETS = frozenset({ReferralState.SENT, ReferralState.WITHDRAWN})


def load_for_update(public_id: str) -> Referral | None:
    """The referral, its row locked until the transaction ends (PostgreSQL)."""
    return db.session.scalar(
        select(Referral)
        .where(Referral.public_id == public_id)
        .with_for_update(of=Referral)
        .execution_options(populate_existing=True)
    )


def transition(
    public_id: str,
    target: ReferralState,
    *,
    actor: User,
    reason: str | None = None,
    as_sender: bool = False,
    feedback: str | None = None,
) -> Referral:
    """Move a referral; lock the row, then check the table (R13).

    ``feedback`` is the receiver's short note to the sender on the outcome (service
    provided or not); only those two moves take one.

    Receiver moves (accept, decline, complete, close) need ``RECEIVE_REFERRALS`` in the
    receiving organisation (R10). Sender moves (send, withdraw) need ``as_sender`` (the
    caller authorised the actor on the source) and the sending organisation.
    Raises IllegalTransitionError, RuleError or ConflictError; on error the
    caller rolls back.
    """
    referral = load_for_update(public_id)
    if referral is None:
        raise RuleError("referral", _l("No such referral."))
    if target in RECEIVER_TARGETS:
        if not (
            has_permission(actor, Permission.RECEIVE_REFERRALS)
            and actor.organisation_id == referral.receiving_organisation_id
        ):
            raise RuleError("referral", _l("Only the receiving organisation does this."))
    elif not (as_sender and actor.organisation_id == referral.sending_organisation_id):
        raise RuleError("referral", _l("Only the referring organisation does this."))
    REFERRAL_WORKFLOW.check(referral.state, target)
    feedback = (feedback or "").strip()
    if feedback:
        if target not in FEEDBACK_STATES:
            raise RuleError("feedback", _l("Feedback is given with the outcome of the service."))
        if len(feedback) > MAX_FEEDBACK_LENGTH:
            raise RuleError("feedback", _l("The feedback is too long."))
        referral.feedback_note = feedback
    _apply(referral, target, actor=actor, reason=reason)
    try:
        db.session.flush()
    except StaleDataError as error:
        raise ConflictError(public_id) from error
    return referral


def _apply(referral: Referral, target: ReferralState, *, actor: User, reason: str | None) -> None:
    REFERRAL_WORKFLOW.check(referral.state, target)
    reason = (reason or "").strip()
    if target in REASON_REQUIRED and not reason:
        raise RuleError("reason", _l("A reason is required."))
    if len(reason) > MAX_REASON_LENGTH:
        raise RuleError("reason", _l("The reason is too long."))
    now = utcnow()
    previous = referral.state
    referral.state = target
    if target is ReferralState.SENT:
        referral.sent_at = now
        referral.deadline_at = deadline_for(referral.priority, now)
    elif target in (ReferralState.ACCEPTED, ReferralState.DECLINED):
        referral.responded_at = now
    if target in (
        ReferralState.COMPLETED,
        ReferralState.CLOSED,
        ReferralState.DECLINED,
        ReferralState.WITHDRAWN,
    ):
        referral.finished_at = now
    step = ReferralTransition(
        referral_id=referral.id,
        from_state=previous,
        to_state=target,
        actor_id=actor.id,
        occurred_at=now,
    )
    step.reason = reason or None
    db.session.add(step)
    audit(
        f"referral.{target.value}",
        actor=actor,
        obj_type="referral",
        obj_id=referral.public_id,
        detail={"from": previous.value, "to": target.value},
    )


def hand_over_pending(
    source_kind: SourceKind, source_public_id: str, organisation_id: int, *, actor: User
) -> list[Referral]:
    """The source moved to another organisation (a case transfer): its pending referrals
    follow it, so the new organisation follows them up and may withdraw them (and a
    consent withdrawal there withdraws them, R3); finished ones keep their sender."""
    moved = list(
        db.session.scalars(
            select(Referral)
            .where(
                Referral.source_kind == source_kind,
                Referral.source_public_id == source_public_id,
                Referral.state.in_(sorted(PENDING_STATES)),
                Referral.sending_organisation_id != organisation_id,
            )
            .with_for_update(of=Referral)
        )
    )
    for referral in moved:
        referral.sending_organisation_id = organisation_id
        audit(
            "referral.handed_over",
            actor=actor,
            obj_type="referral",
            obj_id=referral.public_id,
            detail={"source": f"{source_kind.value}:{source_public_id}"},
        )
    try:
        db.session.flush()
    except StaleDataError as error:
        raise ConflictError() from error
    return moved


# --- reading -------------------------------------------------------------------------------


def referrals_of(source_kind: SourceKind, source_public_id: str) -> Sequence[Referral]:
    return (
        db.session.scalars(
            select(Referral)
            .where(
                Referral.source_kind == source_kind, Referral.source_public_id == source_public_id
            )
            .order_by(Referral.created_at.desc(), Referral.id.desc())
            .options(
                # the history names who moved it (exchange): their name, not their account;
                # read in the same statement (a referral has a handful of transitions)
                joinedload(Referral.transitions)
                .joinedload(ReferralTransition.actor)
                .load_only(User.full_name)
                .lazyload(User.organisation)
            )
        )
        .unique()
        .all()
    )


def received_by(actor: User) -> ColumnElement[bool]:
    """R10/R11: the referrals any authorised receiver of the receiving organisation
    opens, once sent (a SQL condition for the queue's pages and the API)."""
    if not has_permission(actor, Permission.RECEIVE_REFERRALS):
        return false()
    return and_(
        Referral.receiving_organisation_id == actor.organisation_id,
        Referral.state != ReferralState.DRAFT,
    )


def load_received(public_id: str, actor: User) -> Referral:
    """Load -> authorise: a referral the actor's organisation receives, or a 404."""
    return load_or_404(Referral, public_id, may=received_by(actor), obj_type="referral")


def _record_reveal(referral: Referral, actor: User, revealed: list[str]) -> None:
    """R2: name the decrypted fields of a referral in the audit (nothing when none)."""
    if revealed:
        audit(
            "referral.viewed",
            actor=actor,
            obj_type="referral",
            obj_id=referral.public_id,
            fields_revealed=revealed,
        )


@dataclass(frozen=True)
class HistoryEntry:
    occurred_at: datetime
    state: ReferralState
    organisation: Organisation  # the side that made the move
    actor_name: str
    reason: str | None  # only when the viewer's side may read it


@dataclass(frozen=True)
class Exchange:
    """What the two sides of a referral tell each other: its moves and the receiver's
    feedback on the outcome."""

    history: list[HistoryEntry]
    feedback: str | None


SENDER_MOVES = frozenset({ReferralState.DRAFT, ReferralState.SENT, ReferralState.WITHDRAWN})


def exchange(referral: Referral, actor: User, *, as_sender: bool) -> Exchange:
    """The referral's history and feedback as one side sees it; reasons and feedback are
    decrypted here and the reveal is audited (R2).

    The sender reads every reason (why it was declined or closed) and the feedback; the
    receiver reads the reasons of its own organisation's moves and the feedback it gave,
    and sees the sender's moves without their reasons (a withdrawal reason is about the
    case)."""
    entries = []
    shown_reason = False
    for step in referral.transitions:
        by_sender = step.to_state in SENDER_MOVES
        reason = step.reason if (as_sender or not by_sender) else None
        shown_reason = shown_reason or bool(reason)
        entries.append(
            HistoryEntry(
                occurred_at=step.occurred_at,
                state=step.to_state,
                organisation=referral.sending_organisation
                if by_sender
                else referral.receiving_organisation,
                actor_name=step.actor.full_name if step.actor else "",
                reason=reason,
            )
        )
    feedback = referral.feedback_note
    revealed = (["transition_reasons"] if shown_reason else []) + (
        ["feedback_note"] if feedback else []
    )
    _record_reveal(referral, actor, revealed)
    return Exchange(entries, feedback)


@dataclass(frozen=True)
class ReceiverView:
    """Exactly what the receiver may see (R11)."""

    referral: Referral
    note: str | None
    details: dict[str, Any]


def reveal_for_receiver(
    referral: Referral,
    actor: User,
    *,
    only: Collection[str] | None = None,
    include_note: bool = True,
) -> ReceiverView:
    """Decrypt the consented fields for the receiver and audit the reveal (R2, R11).

    ``only`` narrows the consented fields to those named, and ``include_note`` False
    leaves the note sealed: the audit names exactly the fields returned.
    """
    details: dict[str, Any] = json.loads(referral.shared_details) if referral.shared_details else {}
    if only is not None:
        details = {name: value for name, value in details.items() if name in only}
    note = referral.note if include_note else None
    revealed = ["note", *details.keys()] if note else list(details.keys())
    _record_reveal(referral, actor, revealed)
    return ReceiverView(referral, note, details)


# For lists that show none of a referral's service and organisations (the inbox): not
# joined in on every row (the session's identity map or a query gives them if needed).
WITHOUT_JOINED_ROWS = (
    lazyload(Referral.service),
    lazyload(Referral.receiving_organisation),
    lazyload(Referral.sending_organisation),
)

# What a line of the queue shows (the queue page, the inbox), and no more: a full referral
# with its service and both organisations is some sixty columns a line, each through its
# type's result processing.
QUEUE_LINE = (
    load_only(
        Referral.public_id,
        Referral.reference,
        Referral.survivor_code,
        Referral.priority,
        Referral.time_critical,
        Referral.state,
        Referral.deadline_at,
        raiseload=True,
    ),
    joinedload(Referral.service).load_only(Service.name, raiseload=True),
    lazyload(Referral.receiving_organisation),
    lazyload(Referral.sending_organisation),
)

QUEUE_ORDER = Keyset((Referral.deadline_at,), row_id=Referral.id, public_id=Referral.public_id)


def queue(
    organisation_id: int,
    *,
    states: Iterable[ReferralState] = (ReferralState.SENT, ReferralState.ACCEPTED),
    cursor: str | None = None,
    limit: int = 50,
    code: str | None = None,
    lines: bool = False,
) -> Page[Referral]:
    """The receiving organisation's queue (R10), earliest deadline first, keyset-paged
    on (deadline_at, id). Drafts never appear. ``code``: only the referral with that
    reference, or those of that survivor code (normalised). ``lines``: read only what a
    line of a list shows (``QUEUE_LINE``); any other attribute raises."""
    wanted = [s for s in states if s is not ReferralState.DRAFT]
    # The states are rendered as literals so that both engines can match the partial
    # queue indexes (ix_referrals_queue_open/_done) against the query.
    query = (
        select(Referral)
        .options(*(QUEUE_LINE if lines else ()))
        .where(
            Referral.receiving_organisation_id == organisation_id,
            Referral.state.in_(
                bindparam("queue_states", [s.value for s in wanted], literal_execute=True)
            ),
            Referral.deadline_at.is_not(None),
        )
    )
    if code:
        query = query.where(or_(Referral.reference == code, Referral.survivor_code == code))
    return paging.page(query, QUEUE_ORDER, cursor=cursor, limit=limit)


class OverdueLine(NamedTuple):
    """An overdue referral as a line of the inbox shows it and links to (read as columns,
    not as a mapped row: the inbox reads up to fifty of them to keep the twenty it may
    show)."""

    public_id: str
    reference: str
    survivor_code: str
    source_kind: SourceKind
    source_public_id: str
    receiving_organisation_id: int
    sending_organisation_id: int
    created_by_id: int
    deadline_at: datetime


def overdue_for_organisation(organisation_id: int, *, limit: int = 20) -> list[OverdueLine]:
    """R12: unanswered past deadline, for the receiving or the sending organisation."""
    now = utcnow()

    def earliest(side: Any) -> Select[Any]:
        """The first ``limit`` of one side, read in index order (an OR of the two sides
        would read and sort every overdue referral of the organisation)."""
        first = (
            select(Referral.id)
            .where(overdue(now), side == organisation_id)
            .order_by(Referral.deadline_at, Referral.id)
            .limit(limit)
            .subquery()
        )
        return select(first.c.id)

    either = union_all(
        earliest(Referral.receiving_organisation_id), earliest(Referral.sending_organisation_id)
    ).subquery()
    rows = db.session.execute(
        select(*(getattr(Referral, name) for name in OverdueLine._fields))
        .where(Referral.id.in_(select(either.c.id)))
        .order_by(Referral.deadline_at, Referral.id)
        .limit(limit)
    )
    return [OverdueLine(*row) for row in rows]
