"""Shared helpers of the DAT tests (and bench): valid answers for every step, a NIR that matches a
sex and a birth date, and a signed-in client that fills a declaration like a person would."""

from __future__ import annotations

import io
import re
import zlib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.extensions import db
from app.models import Draft
from app.services.simple_pdf import make_pdf
from tests.factories import PASSWORD

VERSION_RE = re.compile(r'name="version" value="(\d+)"')
PARIS = ZoneInfo("Europe/Paris")
STEPS = ("employeur", "victime", "accident", "lesions", "connaissance", "temoins", "reserves")


def make_nir(sex: str, birth: date, departement: str = "57", commune: str = "463", order: str = "123") -> str:
    """A NIR whose first digits match ``sex`` ("M"/"F") and ``birth``, with its key."""
    body = f"{'1' if sex == 'M' else '2'}{birth.year % 100:02d}{birth.month:02d}{departement}{commune}{order}"
    return body + f"{97 - int(body) % 97:02d}"


def parts(value: date) -> list[str]:
    return [str(value.day), str(value.month), str(value.year)]


def local_today() -> date:
    return datetime.now(PARIS).date()


def accident_day() -> date:
    """The day of :func:`valid_answers`'s accident: yesterday (see there)."""
    return local_today() - timedelta(days=1)


def valid_answers(
    *,
    accident_on: date | None = None,
    known_on: date | None = None,
    nom: str = "Schneider",
    prenoms: str = "Lucas",
    reserves: bool = False,
    lives_in: tuple[str, str] = ("57000", "Metz"),
) -> dict[str, dict]:
    """Answers that pass every step's validation: one accident yesterday at 9 h 15, known at 10 h. Its
    48 hours still run whatever the day and time of the test run (yesterday 10 h plus today make at
    most 38 counted hours by midnight); an accident two days ago was late on Wednesday afternoons.
    ``lives_in``: the victim's postal code and commune (their CPAM is competent, SPEC §1)."""
    accident_on = accident_on or accident_day()
    known_on = known_on or accident_on
    birth = date(1985, 5, 15)
    answers = {
        "employeur": {
            "telephone": "03 87 00 00 00",
            "courriel": "rh@exemple.fr",
            "sst_nom": "Santé au travail de Moselle",
            "sst_adresse": "2 rue du Bon Pasteur, 57000 Metz",
        },
        "victime": {
            # One victim, one NIR: two victims of one accident are not two declarations of it (issue 10).
            "nir": make_nir("M", birth, order=f"{zlib.crc32(f'{nom} {prenoms}'.encode()) % 1000:03d}"),
            "nom": nom,
            "prenoms": prenoms,
            "date_naissance": parts(birth),
            "sexe": "M",
            "nationalite": "francaise",
            "adresse": "4 rue Mazelle",
            "code_postal": lives_in[0],
            "commune": lives_in[1],
            "date_embauche": parts(date(2015, 9, 1)),
            "profession": "Maçon",
            "qualification": "ouvrier_qualifie",
            "anciennete_annees": "3",
            "anciennete_mois": "2",
            "contrat": "cdi",
        },
        "accident": {
            "date_accident": parts(accident_on),
            "heure_accident": "9:15",
            "horaire1_debut": "8:00",
            "horaire1_fin": "12:00",
            "horaire2_debut": "13:00",
            "horaire2_fin": "17:00",
            "lieu": "habituel",
            "lieu_precis": "Chantier du 12 rue des Clercs, Metz",
            "activite": "Il montait des parpaings sur l'échafaudage.",
            "nature": "Chute de hauteur",
            "objet": "Échafaudage",
            "circonstances": (
                "En descendant de l'échafaudage, il a glissé sur un barreau humide et est tombé."
            ),
        },
        "lesions": {
            "siege": ["main", "poignet"],
            "cote": "droit",
            "nature_lesions": ["plaie", "entorse"],
            "consequences": "avec_arret",
            "transport": "CHR Metz-Thionville",
        },
        "connaissance": {
            "mode": "constate",
            "date_connaissance": parts(known_on),
            "heure_connaissance": "10:00",
            "registre": "non",
        },
        "temoins": {
            "temoins": "oui",
            "temoin1_nom": "Weber",
            "temoin1_prenom": "Paul",
            "temoin1_adresse": "8 rue Serpenoise, 57000 Metz",
            "tiers": "non",
            "police": "non",
        },
        "reserves": {"reserves": "non"},
    }
    if reserves:
        answers["reserves"] = {
            "reserves": "oui",
            "categorie": "lieu_temps",
            "motivation": (
                "La victime n'était pas à son poste à l'heure indiquée : "
                "elle avait quitté le chantier à 8 h 30."
            ),
        }
    return answers


def fresh_draft(draft_id: int) -> Draft:
    db.session.expire_all()
    return db.session.get(Draft, draft_id)


class DatClient:
    """A signed-in test client filling DAT drafts through the web pages (no JavaScript)."""

    def __init__(self, client, user):
        self.client = client
        self.user = user
        token = client.csrf("/connexion")
        response = client.post(
            "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code in (302, 303), response.status_code
        self.token = client.csrf("/demarches/")

    def start(self, establishment) -> int:
        response = self.client.post(
            "/demarches/dat/commencer",
            data={"csrf_token": self.token, "establishment": str(establishment.id)},
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        return int(re.search(r"/brouillons/(\d+)/", response.headers["Location"]).group(1))

    def post_step(
        self, draft_id: int, step: str, data: dict, *, action: str = "continue", version=None, **kw
    ):
        if version is None:
            version = fresh_draft(draft_id).version
        form = {"action": action, "version": str(version), "csrf_token": self.token, **data}
        if step == "employeur":
            # The prefilled answers are what the page shows: send them back like a browser would.
            form = {**fresh_draft(draft_id).answers.get("employeur", {}), **form}
        return self.client.post(f"/demarches/brouillons/{draft_id}/etapes/{step}", data=form, **kw)

    def fill(self, draft_id: int, answers: dict | None = None, *, until: str | None = None) -> None:
        answers = answers or valid_answers()
        for step in STEPS:
            if step == until:
                return
            response = self.post_step(draft_id, step, answers[step])
            assert response.status_code == 303, (step, response.get_data(as_text=True)[:4000])

    def submit(self, draft_id: int, **declaration):
        data = {
            "csrf_token": self.token,
            "version": str(fresh_draft(draft_id).version),
            "declarant_nom": "Camille Martin",
            "declarant_qualite": "Responsable des ressources humaines",
            "certification": "y",
            **declaration,
        }
        return self.client.post(f"/demarches/brouillons/{draft_id}/envoyer", data=data)

    def declare(self, establishment, answers: dict | None = None) -> str:
        """A complete declaration; returns its reference."""
        draft_id = self.start(establishment)
        self.fill(draft_id, answers)
        response = self.submit(draft_id)
        assert response.status_code == 303, response.get_data(as_text=True)[:4000]
        from app.models import Submission

        return db.session.scalar(db.select(Submission.reference).where(Submission.draft_id == draft_id))


def attach(declarant: DatClient, draft_id: int, content: bytes | None = None, name: str = "planning.pdf"):
    """« Joindre le fichier » on the reserves step of the draft, through the page."""
    response = declarant.client.post(
        f"/dat/brouillons/{draft_id}/reserves/piece-jointe",
        data={
            **valid_answers(reserves=True)["reserves"],
            "csrf_token": declarant.token,
            "version": str(fresh_draft(draft_id).version),
            "fichier": (io.BytesIO(content or make_pdf("Planning du 2 mars")), name),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    from app.models import Upload

    return db.session.get(Upload, int(fresh_draft(draft_id).answers["reserves"]["piece_jointe"]))


def to_multidict(data: dict):
    from werkzeug.datastructures import MultiDict

    return MultiDict(
        [(k, v) for k, values in data.items() for v in (values if isinstance(values, list) else [values])]
    )


def make_declaration(
    user, establishment, answers: dict | None = None, declaration: dict | None = None
) -> str:
    """A declaration sent through the real services (draft, seven steps, submission), without HTTP.
    ``declaration``: more of the send page's answers (e.g. ``confirme_doublon``). Returns its reference."""
    from flask import current_app

    from app.services import draft_submission, drafts
    from app.workflows import get_workflow

    workflow = get_workflow("dat")
    answers = answers or valid_answers()
    with current_app.test_request_context():
        draft = drafts.start_draft(user, workflow, establishment)
        for name in STEPS:
            data = answers[name]
            if name == "employeur":
                data = {**draft.answers.get("employeur", {}), **data}
            saved = drafts.save_step(
                user, draft, workflow, workflow.step(name), to_multidict(data), base_version=draft.version
            )
            assert saved.valid, (name, saved.form.errors)
        outcome = draft_submission.submit_draft(
            user,
            draft,
            workflow,
            base_version=draft.version,
            declaration=to_multidict(
                {
                    "declarant_nom": user.full_name,
                    "declarant_qualite": "Gérant",
                    "certification": "y",
                    **(declaration or {}),
                }
            ),
        )
        assert outcome.submission is not None, outcome
        return outcome.submission.reference


class World:
    """A company with two establishments in Moselle and Paris, an employer habilitated for the DAT on
    the first, a CPAM agent for each département, and a stranger company."""

    def __init__(self):
        from app.models import Service, UserKind
        from tests.factories import make_caisse, make_company, make_establishment, make_user

        self.company = make_company("Bâtiments de l'Est")
        self.metz = make_establishment(
            self.company, departement="57", name="Agence de Metz", city="Metz", postal_code="57000"
        )
        self.paris = make_establishment(
            self.company, departement="75", name="Siège de Paris", city="Paris", postal_code="75009"
        )
        self.employer = make_user(
            "rh@batiments-est.fr",
            company=self.company,
            grants=[(self.metz, Service.DAT), (self.paris, Service.DAT)],
        )
        self.no_dat = make_user(
            "compta@batiments-est.fr", company=self.company, grants=[(self.metz, Service.LUCIE)]
        )
        self.cpam_57 = make_caisse("CPAM de Moselle", departements="57")
        self.cpam_75 = make_caisse("CPAM de Paris", departements="75")
        self.agent = make_user(
            "agent@cpam57.fr", kind=UserKind.CPAM, caisse_id=self.cpam_57.id, full_name="Marc Weber"
        )
        self.agent_75 = make_user(
            "agent@cpam75.fr", kind=UserKind.CPAM, caisse_id=self.cpam_75.id, full_name="Anne Petit"
        )
        self.stranger_company = make_company("Concurrent SA")
        self.stranger_site = make_establishment(
            self.stranger_company, departement="57", name="Usine concurrente"
        )
        self.stranger = make_user(
            "patron@concurrent.fr", company=self.stranger_company, grants=[(self.stranger_site, Service.DAT)]
        )
        db.session.commit()
