"""A small questionnaire answered by a party of a case, and a world of two companies, two victims and
their cases (issue 12: draft subjects and windows). QR Pro's own questionnaires come with issue 13."""

from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from app.domain.cases import SubjectKind
from app.extensions import db
from app.forms.workflows import StepForm, TextArea, strip
from app.models import Case, Draft, Service, UserKind
from app.workflows.engine import Step, Workflow, register, unregister
from tests.factories import make_caisse, make_company, make_establishment, make_user

WORKFLOW = "questionnaire_essai"


class CirconstancesForm(StepForm):
    recit = TextAreaField(
        "Que s'est-il passé ?",
        filters=[strip],
        validators=[
            DataRequired("Décrivez ce qui s'est passé"),
            Length(max=2000, message="Le récit doit faire 2 000 caractères au maximum"),
        ],
        widget=TextArea(),
    )
    summary_labels = {"recit": "Ce qui s'est passé"}  # noqa: RUF012


class TemoinsForm(StepForm):
    temoins = TextAreaField(
        "Qui a vu l'accident ?",
        filters=[strip],
        validators=[DataRequired("Indiquez qui a vu l'accident, ou « personne »")],
        widget=TextArea(),
    )
    summary_labels = {"temoins": "Témoins"}  # noqa: RUF012


def register_questionnaire() -> Workflow:
    """Register the two-step questionnaire (call :func:`unregister_questionnaire` when done)."""
    return register(
        Workflow(
            name=WORKFLOW,
            title="Questionnaire d'essai",
            reference_prefix="QESSAI",
            service=Service.QRPRO,
            steps=[
                Step("circonstances", "Les circonstances", CirconstancesForm, section="L'accident"),
                Step("temoins", "Les témoins", TemoinsForm, section="L'accident"),
            ],
            subject_kinds=frozenset({SubjectKind.CASE_PARTY}),
        )
    )


def unregister_questionnaire() -> None:
    unregister(WORKFLOW)


class World:
    def __init__(self):
        self.lorraine = make_company("Transports Lorrains")
        self.metz = make_establishment(self.lorraine, departement="57", name="Dépôt de Metz", city="Metz")
        self.rhone = make_company("Logistique du Rhône")
        self.lyon = make_establishment(self.rhone, departement="69", name="Entrepôt de Lyon", city="Lyon")
        self.reunion = make_establishment(self.lorraine, departement="974", name="Agence de Saint-Denis")
        self.employer = make_user(
            "rh@lorrains.fr", company=self.lorraine, grants=[(self.metz, Service.QRPRO)]
        )
        self.colleague = make_user(
            "paie@lorrains.fr", company=self.lorraine, full_name="Dominique Petit", grants=[(self.metz, "*")]
        )
        self.no_qrpro = make_user("dat@lorrains.fr", company=self.lorraine, grants=[(self.metz, Service.DAT)])
        self.other_employer = make_user("rh@rhone.fr", company=self.rhone, grants=[(self.lyon, "*")])
        self.victim = make_user("ines.victime@exemple.fr", kind=UserKind.VICTIM, full_name="Inès Moreau")
        self.other_victim = make_user(
            "paul.victime@exemple.fr", kind=UserKind.VICTIM, full_name="Paul Girard"
        )
        cpam = make_caisse("CPAM de Moselle", departements="57")
        self.agent = make_user("agent@cpam57.fr", kind=UserKind.CPAM, caisse_id=cpam.id)
        self.case_a = self._case("AT-2026-000001", self.metz, self.victim, cpam)
        self.case_b = self._case("AT-2026-000002", self.lyon, self.other_victim, cpam)
        db.session.commit()

    @staticmethod
    def _case(reference, establishment, victim, caisse, **kw) -> Case:
        case = Case(
            reference=reference,
            kind="AT",
            establishment_id=establishment.id,
            victim_id=victim.id,
            victim_name=victim.full_name,
            caisse_id=caisse.id if caisse is not None else None,
            **kw,
        )
        db.session.add(case)
        db.session.flush()
        return case


def make_draft(world, case: Case, party: str, *, by=None, **kw) -> Draft:
    """A draft created as the case's service will (QR Pro opens the questionnaires), with its window."""
    author = by or (world.victim if party == "victime" else world.employer)
    draft = Draft(
        workflow=WORKFLOW,
        establishment_id=case.establishment_id,
        case_id=case.id,
        party=party,
        created_by_id=author.id,
        updated_by_id=author.id,
        answers={},
        valid_steps=[],
        current_step="circonstances",
        **kw,
    )
    db.session.add(draft)
    db.session.commit()
    return draft
