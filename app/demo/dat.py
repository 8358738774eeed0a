"""DAT demo data (called by `flask demo load` after the accounts): declarations of the demo company
in several states — on time, late, with reserves (in the declaration and added afterwards), in
instruction, decided —, one of a victim living in Moselle employed at the Paris head office (the
CPAM de Moselle's, SPEC §1), one sent by the tiers déclarant for its mandated establishment, and a
draft halfway through. Everything goes through the real services (drafts, submission, reserves, the
CPAM's CMI and status changes), so the demo shows what the application really produces.

Idempotent: a declaration whose victim already exists on its establishment is not made again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.domain.dat import Status
from app.domain.identifiers import is_valid_nir
from app.extensions import db
from app.models import Declaration, Draft, Establishment, User
from app.services import dat as dat_service
from app.services import draft_submission, drafts
from app.workflows import get_workflow

EMPLOYER = "employeur@demo.test"
FIRM_USER = "cabinet@demo.test"
AGENT_57 = "agent.cpam@demo.test"
METZ, STRASBOURG, PARIS = "81234567600025", "81234567600033", "81234567600017"
SST = {
    METZ: ("AST Lorraine, santé au travail", "11 rue Mazelle, 57000 Metz"),
    STRASBOURG: ("AST 67", "4 rue de Lausanne, 67000 Strasbourg"),
    PARIS: ("ACMS", "55 rue de la Chaussée-d'Antin, 75009 Paris"),
}


def _nir(sex: str, birth: date, departement: str, commune: str, order: str) -> str:
    body = f"{'1' if sex == 'M' else '2'}{birth.year % 100:02d}{birth.month:02d}{departement}{commune}{order}"
    nir = body + f"{97 - int(body) % 97:02d}"
    assert is_valid_nir(nir, sex, birth)
    return nir


def _today() -> date:
    return datetime.now(ZoneInfo("Europe/Paris")).date()


def _parts(value: date) -> list[str]:
    return [str(value.day), str(value.month), str(value.year)]


def _answers(
    siret: str,
    *,
    nom: str,
    prenoms: str,
    sex: str,
    birth: date,
    accident_days_ago: int,
    profession: str,
    lieu: str = "habituel",
    nature: str,
    circonstances: str,
    siege: list[str],
    lesions: list[str],
    consequences: str = "avec_arret",
    reserves: str | None = None,
    lives_in: str | None = None,
) -> dict:
    accident = _today() - timedelta(days=accident_days_ago)
    departement = {METZ: "57", STRASBOURG: "67", PARIS: "75"}[siret]
    residence = lives_in or departement  # the victim's département: their CPAM is competent (SPEC §1)
    answers = {
        "employeur": {
            "telephone": "03 87 55 12 00" if siret != PARIS else "01 44 00 12 00",
            "courriel": "rh@batiments-est.test",
            "sst_nom": SST[siret][0],
            "sst_adresse": SST[siret][1],
        },
        "victime": {
            "nir": _nir(sex, birth, departement, "463" if departement == "57" else "482", "071"),
            "nom": nom,
            "prenoms": prenoms,
            "date_naissance": _parts(birth),
            "sexe": sex,
            "nationalite": "francaise",
            "adresse": "7 rue des Jardins",
            "code_postal": {"57": "57000", "67": "67000", "75": "75011"}[residence],
            "commune": {"57": "Metz", "67": "Strasbourg", "75": "Paris"}[residence],
            "date_embauche": _parts(date(2019, 3, 4)),
            "profession": profession,
            "qualification": "ouvrier_qualifie",
            "anciennete_annees": "4",
            "anciennete_mois": "6",
            "contrat": "cdi",
        },
        "accident": {
            "date_accident": _parts(accident),
            "heure_accident": "10:20",
            "horaire1_debut": "7:30",
            "horaire1_fin": "12:00",
            "horaire2_debut": "13:00",
            "horaire2_fin": "16:30",
            "lieu": lieu,
            "lieu_precis": "Chantier de la résidence Les Tilleuls"
            if lieu != "trajet_domicile"
            else "Avenue Foch",
            "activite": "Travaux de maçonnerie au premier étage.",
            "nature": nature,
            "objet": "Échafaudage" if lieu != "trajet_domicile" else "Véhicule",
            "circonstances": circonstances,
        },
        "lesions": {
            "siege": siege,
            "cote": "droit",
            "nature_lesions": lesions,
            "consequences": consequences,
        },
        "connaissance": {
            "mode": "constate",
            "date_connaissance": _parts(accident),
            "heure_connaissance": "10:45",
            "registre": "non",
        },
        "temoins": {
            "temoins": "oui",
            "temoin1_nom": "Fischer",
            "temoin1_prenom": "Marc",
            "temoin1_adresse": "12 rue Taison, 57000 Metz",
            "tiers": "oui" if lieu == "trajet_domicile" else "non",
            "tiers_nom": "Conducteur du véhicule immatriculé AB-123-CD" if lieu == "trajet_domicile" else "",
            "tiers_adresse": "Adresse communiquée par la police" if lieu == "trajet_domicile" else "",
            "police": "oui" if lieu == "trajet_domicile" else "non",
            "police_autorite": "Commissariat central" if lieu == "trajet_domicile" else "",
        },
        "reserves": {"reserves": "non"},
    }
    if reserves:
        answers["reserves"] = {"reserves": "oui", "categorie": "lieu_temps", "motivation": reserves}
    return answers


DECLARATIONS = [
    # (SIRET, sender, answers, what the CPAM does: list of "cmi" / statuses)
    (
        METZ,
        EMPLOYER,
        dict(
            nom="Muller",
            prenoms="Thomas",
            sex="M",
            birth=date(1988, 6, 12),
            accident_days_ago=1,
            profession="Maçon",
            nature="Chute de plain-pied",
            circonstances=(
                "En portant un sac de ciment, il a trébuché sur un tuyau posé au sol et s'est "
                "tordu la cheville."
            ),
            siege=["cheville"],
            lesions=["entorse"],
        ),
        [],
    ),
    (
        METZ,
        EMPLOYER,
        dict(
            nom="Klein",
            prenoms="Sarah",
            sex="F",
            birth=date(1992, 2, 3),
            accident_days_ago=9,
            profession="Cheffe d'équipe",
            nature="Coupure",
            circonstances=(
                "En découpant une plaque de plâtre au cutter, la lame a glissé et lui a entaillé "
                "la main gauche."
            ),
            siege=["main"],
            lesions=["plaie"],
        ),
        ["cmi", Status.EN_INSTRUCTION],
    ),
    (
        METZ,
        EMPLOYER,
        dict(
            nom="Schmitt",
            prenoms="Jonas",
            sex="M",
            birth=date(1979, 11, 30),
            accident_days_ago=1,
            profession="Conducteur d'engins",
            nature="Douleur au dos en manutention",
            circonstances=(
                "Il dit avoir ressenti une douleur dans le dos en soulevant une bordure de trottoir, seul."
            ),
            siege=["dos"],
            lesions=["lumbago"],
            reserves=(
                "Personne n'a vu l'accident et la victime a terminé sa journée sans rien signaler ; "
                "elle a déclaré la douleur le lendemain matin en arrivant."
            ),
        ),
        ["cmi", Status.EN_INSTRUCTION, Status.REFUS],
    ),
    (
        METZ,
        EMPLOYER,
        dict(
            nom="Becker",
            prenoms="Emma",
            sex="F",
            birth=date(1995, 8, 21),
            accident_days_ago=1,
            profession="Électricienne",
            nature="Choc électrique",
            circonstances="En raccordant un tableau électrique, elle a touché un fil resté sous tension.",
            siege=["main", "bras"],
            lesions=["brulure"],
        ),
        ["cmi", Status.EN_INSTRUCTION, Status.PRISE_EN_CHARGE],
    ),
    (
        PARIS,
        EMPLOYER,
        dict(
            nom="Dubois",
            prenoms="Claire",
            sex="F",
            birth=date(1985, 4, 9),
            accident_days_ago=1,
            profession="Assistante de direction",
            lieu="trajet_domicile",
            nature="Accident de la circulation",
            circonstances="Renversée par une voiture sur un passage piéton en se rendant au bureau à vélo.",
            siege=["genou", "jambe"],
            lesions=["contusion", "fracture"],
        ),
        [],
    ),
    (
        # Lives in Metz, works at the Paris head office: the CPAM de Moselle is competent (SPEC §1).
        PARIS,
        EMPLOYER,
        dict(
            nom="Hoffmann",
            prenoms="Julien",
            sex="M",
            birth=date(1983, 10, 2),
            accident_days_ago=1,
            profession="Conducteur de travaux",
            nature="Chute dans un escalier",
            circonstances=(
                "En descendant l'escalier du siège pour une réunion de chantier, il a raté une marche "
                "et est tombé sur le palier."
            ),
            siege=["epaule"],
            lesions=["luxation"],
            lives_in="57",
        ),
        ["cmi"],
    ),
    (
        STRASBOURG,
        FIRM_USER,
        dict(
            nom="Weber",
            prenoms="Paul",
            sex="M",
            birth=date(1990, 1, 17),
            accident_days_ago=1,
            profession="Couvreur",
            nature="Chute de hauteur",
            circonstances=(
                "Il a glissé sur une tuile humide et a chuté d'environ deux mètres sur l'échafaudage."
            ),
            siege=["poignet"],
            lesions=["fracture"],
        ),
        [],
    ),
]

ADDENDUM = (
    "Le chef de chantier indique que la victime ne devait pas se trouver dans cette zone, "
    "fermée au public et aux équipes depuis la veille ; nous demandons une enquête."
)


def _send(user: User, establishment: Establishment, answers: dict) -> str:
    workflow = get_workflow("dat")
    draft = drafts.start_draft(user, workflow, establishment)
    for step in workflow.steps:
        data = answers[step.name]
        if step.name == "employeur":
            data = {**draft.answers.get("employeur", {}), **data}
        saved = drafts.save_step(user, draft, workflow, step, _multidict(data), base_version=draft.version)
        if not saved.valid:
            raise RuntimeError(f"demo answers of step {step.name} do not validate: {saved.form.errors}")
    outcome = draft_submission.submit_draft(
        user,
        draft,
        workflow,
        base_version=draft.version,
        declaration=_multidict(
            {"declarant_nom": user.full_name, "declarant_qualite": "Responsable RH", "certification": "y"}
        ),
    )
    if outcome.submission is None:
        raise RuntimeError("the demo declaration was not accepted")
    return outcome.submission.reference


def _multidict(data: dict) -> MultiDict:
    return MultiDict(
        [(k, v) for k, values in data.items() for v in (values if isinstance(values, list) else [values])]
    )


def _exists(establishment: Establishment, nom: str) -> bool:
    key = dat_service.search_key(nom)
    return (
        db.session.scalar(
            select(Declaration.id).where(
                Declaration.establishment_id == establishment.id, Declaration.search_text.like(f"{key} %")
            )
        )
        is not None
    )


def load_dat_demo() -> Iterator[str]:
    """Create the DAT demo declarations that are missing, one progress line each."""
    users = {
        u.email: u
        for u in db.session.scalars(select(User).where(User.email.in_([EMPLOYER, FIRM_USER, AGENT_57])))
    }
    establishments = {
        e.siret: e
        for e in db.session.scalars(
            select(Establishment).where(Establishment.siret.in_([METZ, STRASBOURG, PARIS]))
        )
    }
    if len(users) < 3 or len(establishments) < 3:
        yield "DAT : comptes ou établissements de démonstration absents, rien à faire"
        return
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        for siret, sender, spec, cpam_steps in DECLARATIONS:
            establishment = establishments[siret]
            if _exists(establishment, spec["nom"]):
                yield f"déjà présent : déclaration d'accident de {spec['nom'].upper()} {spec['prenoms']}"
                continue
            reference = _send(users[sender], establishment, _answers(siret, **spec))
            agent = users[AGENT_57]
            for action in cpam_steps:
                if action == "cmi":
                    accident = _today() - timedelta(days=spec["accident_days_ago"])
                    dat_service.record_cmi(agent, reference, accident + timedelta(days=1))
                else:
                    dat_service.change_status(agent, reference, action, comment="")
            if spec["nom"] == "Muller":
                dat_service.add_reserves(
                    users[EMPLOYER], reference, category="lieu_temps", motivation=ADDENDUM
                )
            yield (
                f"ajout : déclaration {reference} ({spec['nom'].upper()} {spec['prenoms']}, "
                f"{establishment.name})"
            )
        yield from _draft(users[EMPLOYER], establishments[METZ])


def _draft(user: User, establishment: Establishment) -> Iterator[str]:
    """A declaration left halfway (victim, accident and knowledge saved): its 48 hours are running."""
    for draft in db.session.scalars(
        select(Draft).where(
            Draft.workflow == "dat",
            Draft.establishment_id == establishment.id,
            Draft.submitted_at.is_(None),
            Draft.discarded_at.is_(None),
        )
    ):
        if (draft.answers.get("victime") or {}).get("nom") == "Lambert":
            yield "déjà présent : brouillon de déclaration (LAMBERT Hugo)"
            return
    workflow = get_workflow("dat")
    answers = _answers(
        METZ,
        nom="Lambert",
        prenoms="Hugo",
        sex="M",
        birth=date(2001, 9, 5),
        accident_days_ago=1,
        profession="Apprenti maçon",
        nature="Projection dans l'œil",
        circonstances="Une projection de mortier l'a atteint à l'œil droit pendant le gâchage.",
        siege=["yeux"],
        lesions=["corps_etranger"],
    )
    draft = drafts.start_draft(user, workflow, establishment)
    for name in ("employeur", "victime", "accident", "lesions", "connaissance"):
        data = answers[name]
        if name == "employeur":
            data = {**draft.answers.get("employeur", {}), **data}
        drafts.save_step(
            user, draft, workflow, workflow.step(name), _multidict(data), base_version=draft.version
        )
    yield "ajout : brouillon de déclaration (LAMBERT Hugo), à reprendre à l'étape « Témoins et tiers »"
