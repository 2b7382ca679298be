"""Moving a case: transfer to another organisation, reassignment within one.

Transfer (the survivor consents; ``TRANSFER_WORKFLOW``):

- a caseworker or supervisor who may open the case proposes it to another organisation,
  recording the survivor's consent to the transfer (R3; R5 for a child) with it;
- until the receiving organisation answers, its supervisors see the request only (the
  survivor code, age group and sex, who proposes and why), never the case;
- a supervisor of the receiving organisation accepts, naming who takes the case, or
  declines with a reason; the sender may withdraw the proposal, and withdrawing the
  consent withdraws it;
- on acceptance the case belongs to the receiving organisation: ``can_open`` and
  ``visible_cases`` follow ``Case.organisation_id``, so from that moment no user of the
  sending organisation opens it; the case's pending referrals are handed over with it
  (finished ones keep their sender). Every step is audited.

Reassignment: a supervisor hands a case of the organisation to another of its
caseworkers; the previous owner stops being assigned to it (audited).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from referral.audit import record as audit
from referral.clock import utcnow
from referral.db import Organisation, User
from referral.directory.models import Sector
from referral.extensions import db
from referral.messages import lazy_gettext as _l
from referral.referrals import services as engine
from referral.referrals.models import Consent, ConsentKind
from referral.security.policy import Permission, has_permission
from referral.workflow import ConflictError, RuleError

from .models import TRANSFER_WORKFLOW, Case, CaseAssignment, CaseTransfer, TransferState
from .services import can_open, check_open

MAX_NOTE = 2000


# --- who takes part ---------------------------------------------------------------------------


def may_receive_cases(organisation: Organisation) -> bool:
    """An active organisation with case-handling staff: never a peacekeeping mission
    (R23: humanitarian case data stays with humanitarian actors)."""
    return organisation.active and not organisation.is_mission


def receiving_organisations(case: Case) -> Sequence[Organisation]:
    """Where the case can be proposed: other active organisations with an active
    supervisor to answer."""
    candidates = db.session.scalars(
        select(Organisation)
        .where(Organisation.id != case.organisation_id, Organisation.active)
        .order_by(Organisation.name)
    ).all()
    return [o for o in candidates if may_receive_cases(o) and _supervisors(o)]


def _supervisors(organisation: Organisation) -> list[User]:
    users = db.session.scalars(
        select(User).where(User.organisation_id == organisation.id, User.active)
    ).all()
    return [u for u in users if has_permission(u, Permission.SUPERVISE_CASES)]


def may_answer(actor: User, transfer: CaseTransfer) -> bool:
    """A supervisor of the receiving organisation."""
    return (
        has_permission(actor, Permission.SUPERVISE_CASES)
        and actor.organisation_id == transfer.to_organisation_id
    )


# --- reading ----------------------------------------------------------------------------------


def pending_transfer(case: Case) -> CaseTransfer | None:
    return db.session.scalar(
        select(CaseTransfer).where(
            CaseTransfer.case_id == case.id, CaseTransfer.state == TransferState.PROPOSED
        )
    )


def incoming(organisation_id: int, *, limit: int = 50) -> Sequence[CaseTransfer]:
    """The transfers proposed to the organisation and not answered yet, oldest first."""
    return db.session.scalars(
        select(CaseTransfer)
        .where(
            CaseTransfer.to_organisation_id == organisation_id,
            CaseTransfer.state == TransferState.PROPOSED,
        )
        .order_by(CaseTransfer.proposed_at, CaseTransfer.id)
        .limit(limit)
    ).all()


def load_transfer(public_id: str, *, for_update: bool = False) -> CaseTransfer | None:
    query = select(CaseTransfer).where(CaseTransfer.public_id == public_id)
    if for_update:
        query = query.with_for_update(of=CaseTransfer).execution_options(populate_existing=True)
    return db.session.scalar(query)


def reveal_note(transfer: CaseTransfer, actor: User) -> str | None:
    """R2: the proposal's note, decrypted for the receiving supervisor, audited."""
    note = transfer.note
    if note:
        audit(
            "case.transfer_viewed",
            actor=actor,
            obj_type="case_transfer",
            obj_id=transfer.public_id,
            fields_revealed=["note"],
        )
    return note


# --- the workflow -----------------------------------------------------------------------------


def propose_transfer(
    case: Case,
    to_organisation: Organisation | None,
    *,
    consented: bool,
    note: str,
    actor: User,
    child: engine.ChildConsent | None = None,
) -> CaseTransfer:
    """Propose the case to ``to_organisation`` with the survivor's consent, recorded as
    its own consent record (R3; R5 for a child)."""
    if not can_open(actor, case):
        raise RuleError("organisation", _l("You may not transfer this case."))
    check_open(case, "organisation")
    if (
        to_organisation is None
        or to_organisation.id == case.organisation_id
        or not may_receive_cases(to_organisation)
        or not _supervisors(to_organisation)
    ):
        raise RuleError(
            "organisation",
            _l("Choose another active organisation with a supervisor to receive the case."),
        )
    if not consented:
        raise RuleError("consented", _l("A case is transferred only with the survivor's consent."))
    if len(note) > MAX_NOTE:
        raise RuleError("note", _l("The note is too long."))
    if pending_transfer(case) is not None:
        raise RuleError("organisation", _l("A transfer of this case is already proposed."))
    consent = engine.record_consent(
        case,
        ConsentKind.TRANSFER,
        actor=actor,
        survivor_is_child=case.is_child,
        receiving_organisation=to_organisation,
        sector=Sector.GBV_CASE_MANAGEMENT,
        child=child,
    )
    transfer = CaseTransfer(
        case=case,
        from_organisation_id=case.organisation_id,
        to_organisation_id=to_organisation.id,
        state=TransferState.PROPOSED,
        consent_id=consent.id,
        proposed_by_id=actor.id,
        proposed_at=utcnow(),
    )
    transfer.note = note.strip() or None
    db.session.add(transfer)
    db.session.flush()
    audit(
        "case.transfer_proposed",
        actor=actor,
        obj_type="case",
        obj_id=case.public_id,
        detail={
            "transfer": transfer.public_id,
            "to": to_organisation.public_id,
            "consent": consent.public_id,
        },
    )
    return transfer


def _move(transfer: CaseTransfer, target: TransferState, actor: User, reason: str | None) -> None:
    TRANSFER_WORKFLOW.check(transfer.state, target)
    previous = transfer.state
    transfer.state = target
    transfer.decided_by_id = actor.id
    transfer.decided_at = utcnow()
    transfer.reason = reason
    try:
        db.session.flush()
    except StaleDataError as error:
        raise ConflictError() from error
    audit(
        f"case.transfer_{target.value}",
        actor=actor,
        obj_type="case_transfer",
        obj_id=transfer.public_id,
        detail={"case": transfer.case.public_id, "from": previous.value, "to": target.value},
    )


def _reason(text: str, field: str = "reason") -> str:
    reason = text.strip()
    if not reason:
        raise RuleError(field, _l("Give the reason."))
    if len(reason) > MAX_NOTE:
        raise RuleError(field, _l("The reason is too long."))
    return reason


def accept_transfer(transfer: CaseTransfer, new_owner: User | None, *, actor: User) -> None:
    """The receiving organisation's supervisor takes the case: it becomes the receiving
    organisation's, owned by ``new_owner`` (one of its caseworkers or supervisors); the
    sending organisation's users lose access at once."""
    if not may_answer(actor, transfer):
        raise RuleError("owner", _l("Only a supervisor of the receiving organisation answers."))
    TRANSFER_WORKFLOW.check(transfer.state, TransferState.ACCEPTED)
    case = transfer.case
    if not case.is_open:
        raise ConflictError("the case was closed after the transfer was proposed")
    consent = db.session.get(Consent, transfer.consent_id)
    if consent is None or not consent.active:
        raise ConflictError("the survivor's consent to the transfer was withdrawn")
    owner = new_owner or actor
    if (
        owner.organisation_id != transfer.to_organisation_id
        or not owner.active
        or not has_permission(owner, Permission.HANDLE_CASES)
    ):
        raise RuleError("owner", _l("Choose an active caseworker of your organisation."))
    _move(transfer, TransferState.ACCEPTED, actor, None)
    transfer.new_owner_id = owner.id
    case.organisation = transfer.to_organisation
    case.owner = owner
    case.assignments.clear()
    case.assignments.append(CaseAssignment(user_id=owner.id, assigned_at=utcnow()))
    engine.hand_over_pending(
        case.source_kind, case.public_id, transfer.to_organisation_id, actor=actor
    )
    try:
        db.session.flush()
    except StaleDataError as error:
        raise ConflictError() from error
    audit(
        "case.transferred",
        actor=actor,
        obj_type="case",
        obj_id=case.public_id,
        detail={
            "transfer": transfer.public_id,
            "from": transfer.from_organisation.public_id,
            "to": transfer.to_organisation.public_id,
            "owner": owner.public_id,
        },
    )


def decline_transfer(transfer: CaseTransfer, reason: str, *, actor: User) -> None:
    if not may_answer(actor, transfer):
        raise RuleError("reason", _l("Only a supervisor of the receiving organisation answers."))
    _move(transfer, TransferState.DECLINED, actor, _reason(reason))


def withdraw_transfer(transfer: CaseTransfer, reason: str, *, actor: User) -> None:
    """The sending side takes the proposal back before it is answered."""
    if not can_open(actor, transfer.case) or actor.organisation_id != transfer.from_organisation_id:
        raise RuleError("reason", _l("Only the sending organisation withdraws the proposal."))
    _move(transfer, TransferState.WITHDRAWN, actor, _reason(reason))


def consent_withdrawn(consent: Consent, *, actor: User) -> list[CaseTransfer]:
    """R3: withdrawing the consent to a transfer withdraws the proposal at once."""
    if consent.kind is not ConsentKind.TRANSFER:
        return []
    proposed = db.session.scalars(
        select(CaseTransfer).where(
            CaseTransfer.consent_id == consent.id, CaseTransfer.state == TransferState.PROPOSED
        )
    ).all()
    for transfer in proposed:
        _move(transfer, TransferState.WITHDRAWN, actor, None)
    return list(proposed)


# --- reassignment within the organisation -----------------------------------------------------


def reassign(case: Case, new_owner: User, *, actor: User) -> None:
    """A supervisor hands the case to another caseworker of the organisation; the
    previous owner is no longer assigned to it."""
    if not (
        has_permission(actor, Permission.SUPERVISE_CASES)
        and actor.organisation_id == case.organisation_id
    ):
        raise RuleError("user", _l("Only a supervisor of this organisation reassigns a case."))
    if (
        new_owner.organisation_id != case.organisation_id
        or not new_owner.active
        or not has_permission(new_owner, Permission.HANDLE_CASES)
    ):
        raise RuleError("user", _l("Choose an active caseworker of this organisation."))
    if new_owner.id == case.owner_id:
        raise RuleError("user", _l("This caseworker already holds the case."))
    previous = case.owner
    case.owner = new_owner
    for assignment in list(case.assignments):
        if assignment.user_id == previous.id:
            case.assignments.remove(assignment)
    if new_owner.id not in case.assigned_user_ids():
        case.assignments.append(CaseAssignment(user_id=new_owner.id, assigned_at=utcnow()))
    try:
        db.session.flush()
    except StaleDataError as error:
        raise ConflictError() from error
    audit(
        "case.reassigned",
        actor=actor,
        obj_type="case",
        obj_id=case.public_id,
        detail={"from": previous.public_id, "to": new_owner.public_id},
    )
