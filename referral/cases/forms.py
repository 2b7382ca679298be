"""Forms of the case workflow, asked in the order the work is done."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from referral.cases.labels import (
    ABDUCTION_LABELS,
    AGE_BAND_LABELS,
    ANSWER_SECTOR_LABELS,
    CLOSURE_LABELS,
    DISABILITY_LABELS,
    DISPLACEMENT_LABELS,
    DISPLACEMENT_STAGE_LABELS,
    GBVIMS_RELATIONSHIP_LABELS,
    HARMFUL_PRACTICE_LABELS,
    LEGAL_ACTION_LABELS,
    MARITAL_LABELS,
    PERPETRATOR_AGE_LABELS,
    PERPETRATOR_SEX_LABELS,
    PREVIOUSLY_REPORTED_LABELS,
    QUESTION_LABELS,
    REFERRAL_ANSWER_LABELS,
    RELATIONSHIP_LABELS,
    RISK_LABELS,
    SEPARATION_LABELS,
    TIME_OF_DAY_LABELS,
)
from referral.cases.models import CaseStage
from referral.directory.labels import AGE_GROUP_LABELS, SEX_LABELS
from referral.forms import (
    CHOOSE,
    AnswerField,
    SmallIntegerField,
    confirmation_field,
    no_control_characters,
    required_choice,
    strip_filter,
)
from referral.messages import lazy_gettext as _l
from referral.referrals.labels import (
    CAREGIVER_LABELS,
    CONSENT_KIND_LABELS,
    NEED_LABELS,
    PRIORITY_LABELS,
    SHARED_FIELD_LABELS,
)
from referral.referrals.models import ConsentKind

YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _text(label: object, length: int, **kw: object) -> StringField:
    return StringField(
        label,
        validators=[Optional(), Length(max=length), no_control_characters],
        filters=[strip_filter],
        **kw,
    )


def _long(
    label: object, length: int = 10_000, *, required: bool = False, **kw: object
) -> TextAreaField:
    first = DataRequired() if required else Optional()
    return TextAreaField(
        label,
        validators=[first, Length(max=length), no_control_characters],
        filters=[strip_filter],
        **kw,
    )


def _choices(labels: dict, blank: object | None = None) -> list[tuple[str, object]]:
    options = [(key.value, label) for key, label in labels.items()]
    return [("", blank), *options] if blank is not None else options


def _options(labels: dict) -> list[tuple[str, object]]:
    return [(key.value, label) for key, label in labels.items()]


class CaseDetailsForm(FlaskForm):
    """What intake records about the survivor; corrected later on the case's edit page."""

    age = SmallIntegerField(
        _l("Age in years"),
        description=_l("Leave empty when unknown and choose the age group instead."),
        validators=[Optional(), NumberRange(min=0, max=120, message=_l("Age must be 0 to 120."))],
    )
    age_group = SelectField(
        _l("Age group"),
        choices=_choices(AGE_GROUP_LABELS, _l("From the age")),
        validators=[Optional()],
    )
    sex = required_choice(_l("Sex"), _options(SEX_LABELS))
    area = SelectField(_l("Area where the survivor lives"), validate_choice=True)
    risk_level = required_choice(_l("Risk level"), _options(RISK_LABELS))
    displacement_status = required_choice(_l("Displacement status"), _options(DISPLACEMENT_LABELS))
    has_disability = BooleanField(_l("The survivor has a disability"))
    disability_type = SelectField(
        _l("Type of disability (GBVIMS)"),
        description=_l("When chosen, it decides the tick box above."),
        choices=_choices(DISABILITY_LABELS, _l("Not asked")),
        validators=[Optional()],
    )
    unaccompanied_or_separated = BooleanField(_l("Unaccompanied or separated child"))
    separation_status = SelectField(
        _l("Unaccompanied or separated child? (GBVIMS)"),
        description=_l("When chosen, it decides the tick box above."),
        choices=_choices(SEPARATION_LABELS, _l("Not asked")),
        validators=[Optional()],
    )
    # choices of the next three: set by the view (country lists, countries)
    ethnicity = SelectField(_l("Ethnicity"), validate_choice=True, validators=[Optional()])
    country_of_origin = SelectField(
        _l("Country of origin"), validate_choice=True, validators=[Optional()]
    )
    referred_from = SelectField(
        _l("Referred to you from"), validate_choice=True, validators=[Optional()]
    )
    marital_status = SelectField(
        _l("Civil or marital status"),
        choices=_choices(MARITAL_LABELS, _l("Not asked")),
        validators=[Optional()],
    )
    name = _text(
        _l("Name (optional)"),
        120,
        description=_l("Only if the survivor wants it recorded. Encrypted; never shown in lists."),
    )
    contact = _text(_l("Contact details (optional)"), 300)
    safe_contact = _long(
        _l("Safe-contact instructions (optional)"),
        1000,
        description=_l("When and how it is safe to call."),
    )
    location_detail = _long(_l("Exact location (optional)"), 1000)
    narrative = _long(_l("Account of the incident (optional)"))


class IntakeForm(CaseDetailsForm):
    mandatory_reporting_explained = BooleanField(
        _l(
            "I explained to the survivor any mandatory-reporting duty that applies, before "
            "asking about the incident."
        )
    )


class ChildConsentForm(FlaskForm):
    """R5: the facts a child survivor's consent records (rendered only for a child)."""

    caregiver_consented = RadioField(
        _l("Child survivor: did a caregiver give consent?"), choices=YES_NO, validators=[Optional()]
    )
    caregiver_relationship = SelectField(
        _l("Who is the consenting caregiver?"),
        choices=_choices(CAREGIVER_LABELS, CHOOSE),
        validators=[Optional()],
    )
    caregiver_name = _text(_l("Caregiver's name (optional)"), 120)
    caregiver_is_alleged_perpetrator = RadioField(
        _l("Is this caregiver the alleged perpetrator?"), choices=YES_NO, validators=[Optional()]
    )
    child_assented = RadioField(
        _l("Did the child assent?"), choices=YES_NO, validators=[Optional()]
    )
    best_interest_note = _long(
        _l("Best-interest decision (required when no caregiver consents)"), 4000
    )


class ConsentForm(ChildConsentForm):
    # a transfer's consent is recorded with the transfer proposal, on its own page
    kind = required_choice(
        _l("Consent to"),
        [
            (kind.value, label)
            for kind, label in CONSENT_KIND_LABELS.items()
            if kind is not ConsentKind.TRANSFER
        ],
    )
    granted = AnswerField(_l("Did the survivor give consent?"), YES_NO)
    service = SelectField(
        _l("Receiving service (for a referral)"),
        description=_l("Consent names the receiving organisation and sector of this service."),
        validate_choice=True,
    )
    shared_fields = CheckboxesField(
        _l("Information the survivor allows to share (besides code, age group, sex and needs)"),
        choices=[(k, v) for k, v in SHARED_FIELD_LABELS.items()],
    )


class WithdrawForm(FlaskForm):
    reason = _long(_l("Why is it withdrawn?"), 2000, required=True)
    confirm = confirmation_field(
        _l(
            "Withdrawal cannot be undone: sharing under this consent stops at once and its "
            "pending referrals are withdrawn. Sharing again needs a new consent."
        )
    )


class PerpetratorForm(Form):
    """One alleged perpetrator (GBVIMS); a row left at "not given" is ignored."""

    primary = BooleanField(_l("Primary perpetrator"))
    sex = SelectField(
        _l("Sex"),
        choices=_choices(PERPETRATOR_SEX_LABELS, _l("Not given")),
        validators=[Optional()],
    )
    age_band = SelectField(
        _l("Age group"),
        choices=_choices(AGE_BAND_LABELS, _l("Not given")),
        validators=[Optional()],
    )
    relation = SelectField(
        _l("Relationship to the survivor"),
        choices=_choices(GBVIMS_RELATIONSHIP_LABELS, _l("Not given")),
        validators=[Optional()],
    )
    # choices: the country-adapted occupation list, set by the view
    occupation = SelectField(_l("Occupation"), validate_choice=True, validators=[Optional()])
    previous_incident = RadioField(
        _l("Earlier incident with this perpetrator?"), choices=YES_NO, validators=[Optional()]
    )

    def given(self) -> bool:
        return bool(self.sex.data or self.relation.data or self.occupation.data)


def _answer(key: str) -> SelectField:
    return SelectField(
        ANSWER_SECTOR_LABELS[key],
        choices=_choices(REFERRAL_ANSWER_LABELS, _l("Not asked")),
        validators=[Optional()],
    )


class IncidentForm(FlaskForm):
    penetration = RadioField(
        QUESTION_LABELS["penetration"], choices=YES_NO, validators=[InputRequired()]
    )
    unwanted_sexual_contact = RadioField(
        QUESTION_LABELS["unwanted_sexual_contact"], choices=YES_NO, validators=[InputRequired()]
    )
    physical_assault = RadioField(
        QUESTION_LABELS["physical_assault"], choices=YES_NO, validators=[InputRequired()]
    )
    forced_marriage = RadioField(
        QUESTION_LABELS["forced_marriage"], choices=YES_NO, validators=[InputRequired()]
    )
    denial_of_resources = RadioField(
        QUESTION_LABELS["denial_of_resources"], choices=YES_NO, validators=[InputRequired()]
    )
    psychological_abuse = RadioField(
        QUESTION_LABELS["psychological_abuse"], choices=YES_NO, validators=[InputRequired()]
    )
    goods_or_money_exchanged = BooleanField(_l("Goods or money were exchanged"))
    abduction = BooleanField(_l("The survivor was abducted"))
    previously_reported = AnswerField(
        _l("Has the survivor already reported this incident elsewhere?"),
        _options(PREVIOUSLY_REPORTED_LABELS),
    )
    incident_date = DateField(_l("Date of the incident"), validators=[InputRequired()])
    incident_time = StringField(
        _l("Time of the incident (HH:MM, optional)"),
        description=_l("Local time, in your organisation's time zone."),
        validators=[Optional(), Length(max=5)],
        filters=[strip_filter],
    )
    incident_time_approximate = BooleanField(_l("The date or time is approximate"))
    time_of_day = required_choice(_l("Time of day"), _options(TIME_OF_DAY_LABELS))
    # choices: the country-adapted list, set by the view through blank_first
    location_type = required_choice(_l("Type of location"))
    reported_on = DateField(_l("Date reported"), validators=[InputRequired()])
    perpetrator_count = SmallIntegerField(
        _l("Number of alleged perpetrators"),
        default=1,
        validators=[InputRequired(), NumberRange(min=1, max=100)],
    )
    perpetrator_sex = SelectField(
        _l("Sex of the alleged perpetrator(s)"), choices=_choices(SEX_LABELS, _l("Unknown"))
    )
    perpetrator_age_group = required_choice(
        _l("Age of the alleged perpetrator(s)"), _options(PERPETRATOR_AGE_LABELS)
    )
    perpetrator_relationship = required_choice(
        _l("Relationship to the survivor"), _options(RELATIONSHIP_LABELS)
    )
    # GBVIMS intake
    survivor_age = SmallIntegerField(
        _l("Survivor's age at the incident"),
        description=_l("Leave empty when unknown: the age group of the case then decides."),
        validators=[Optional(), NumberRange(min=0, max=120, message=_l("Age must be 0 to 120."))],
    )
    area = SelectField(
        _l("Area where it happened"), validate_choice=True, validators=[Optional()]
    )  # choices: the directory's areas, set by the view
    displacement_stage = SelectField(
        _l("Stage of displacement at the incident"),
        choices=_choices(DISPLACEMENT_STAGE_LABELS, _l("Not asked")),
        validators=[Optional()],
    )
    harmful_practice = SelectField(
        _l("Harmful traditional practice"),
        choices=_choices(HARMFUL_PRACTICE_LABELS, _l("Not asked")),
        validators=[Optional()],
    )
    abduction_type = SelectField(
        _l("Type of abduction"),
        description=_l("When chosen, it decides the tick box of abduction."),
        choices=_choices(ABDUCTION_LABELS, _l("Not asked")),
        validators=[Optional()],
    )
    previous_incidents = RadioField(
        _l("Has the survivor suffered earlier GBV incidents?"),
        choices=YES_NO,
        validators=[Optional()],
    )
    wants_legal_action = SelectField(
        _l("Does the survivor want to pursue legal action?"),
        choices=_choices(LEGAL_ACTION_LABELS, _l("Not asked")),
        validators=[Optional()],
    )
    perpetrators = FieldList(
        FormField(PerpetratorForm, label=""), label="", min_entries=3, max_entries=3
    )
    answer_shelter = _answer("shelter")
    answer_health = _answer("health")
    answer_psychosocial = _answer("psychosocial")
    answer_legal = _answer("legal")
    answer_police = _answer("police")
    answer_livelihoods = _answer("livelihoods")
    answer_child_protection = _answer("child_protection")


class StageForm(FlaskForm):
    stage = SelectField(
        _l("Move to"),
        choices=[(s.value, s.value) for s in CaseStage],
    )


class ActionForm(FlaskForm):
    need = required_choice(_l("Need"), _options(NEED_LABELS))
    goal = _long(_l("Goal"), 2000, required=True)
    due_on = DateField(_l("Due date (optional)"), validators=[Optional()])


class ActionStatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=[])


class FollowUpForm(FlaskForm):
    note = _long(_l("Follow-up note"), required=True)


class NotesForm(FlaskForm):
    notes = _long(_l("Case notes"))


class ClosureForm(FlaskForm):
    reason = SelectField(_l("Reason for closing"), choices=_choices(CLOSURE_LABELS, CHOOSE))
    note = _long(_l("Explanation"), 2000)
    confirm = confirmation_field(
        _l(
            "Once a supervisor approves the closure, nothing more can be recorded on the case "
            "unless a supervisor reopens it; it is purged after the retention period."
        )
    )


class DecisionForm(FlaskForm):
    decision = HiddenField(label="", validators=[DataRequired()])
    # Required to refuse (checked by the service): the caseworker reads it.
    reason = _long(_l("Why is the closure refused?"), 2000)
    confirm = confirmation_field(
        _l(
            "Closing ends the work on the case: only a supervisor can reopen it, with a "
            "reason, and it is purged after the retention period."
        ),
        when=lambda form: form.decision.data == "approve",
    )


class ReopenForm(FlaskForm):
    reason = _long(_l("Why is the case reopened?"), 2000, required=True)


class AssignForm(FlaskForm):
    user = required_choice(_l("Caseworker"))


class ReassignForm(FlaskForm):
    user = required_choice(_l("New caseworker in charge"))
    confirm = confirmation_field(
        _l("The caseworker in charge now stops being assigned to the case.")
    )


class TransferForm(ChildConsentForm):
    organisation = SelectField(_l("Receiving organisation"), validate_choice=True)
    consented = RadioField(
        _l("Does the survivor consent to the transfer of her or his case to this organisation?"),
        choices=YES_NO,
        validators=[InputRequired()],
    )
    note = _long(
        _l("Note for the receiving supervisor"),
        2000,
        description=_l(
            "Why the case moves. Encrypted; do not repeat the survivor's story or name."
        ),
    )


class AcceptTransferForm(FlaskForm):
    owner = required_choice(_l("Caseworker who takes the case"))
    confirm = confirmation_field(
        _l(
            "Accepting moves the whole case to your organisation: the sending organisation "
            "can no longer open it."
        )
    )


class DeclineTransferForm(FlaskForm):
    reason = _long(_l("Why is the transfer declined?"), 2000, required=True)


class WithdrawTransferForm(FlaskForm):
    reason = _long(_l("Why is the transfer withdrawn?"), 2000, required=True)


class ReferForm(FlaskForm):
    # the incident the referral concerns (public id; empty: none), picked on the page
    # before (its type and time decide the pathway's urgency, R8)
    incident = HiddenField(label="")
    service = RadioField(_l("Service"), validate_choice=True, validators=[InputRequired()])
    off_pathway_reason = _long(
        _l("Reason to pick this service (required for a suspended or non-eligible service)"), 2000
    )
    priority = required_choice(
        _l("Priority"),
        _options(PRIORITY_LABELS),
        description=_l(
            "While a clinical window is open a health referral is an emergency (R8): "
            "a lower priority needs a reason."
        ),
    )
    priority_reason = _long(_l("Reason for a lower priority while a clinical window is open"), 2000)
    needs = CheckboxesField(_l("Needs"), choices=_options(NEED_LABELS))
    shared_fields = CheckboxesField(
        _l("Also share (only what the consent allows)"),
        choices=[(k, v) for k, v in SHARED_FIELD_LABELS.items()],
    )
    note = _long(
        _l("Referral note for the receiver"),
        2000,
        description=_l("Short; encrypted. Do not repeat the survivor's story."),
    )
    consent = SelectField(_l("Consent for this referral"), validate_choice=True)
    override_reason = _long(
        _l("Send without consent: written reason (supervisors only; recorded)"), 2000
    )


class WithdrawReferralForm(FlaskForm):
    reason = _long(_l("Why is the referral withdrawn?"), 2000, required=True)
    confirm = confirmation_field(
        _l(
            "Withdrawal cannot be undone: the receiving organisation is told at once; "
            "referring again means sending a new referral."
        )
    )
