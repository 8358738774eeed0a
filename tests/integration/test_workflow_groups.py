""" "Add another" groups and files kept with the draft (issue 12, items 4 and 7), driven through the
"Envoi de pièces complémentaires" workflow without JavaScript (plain POSTs, as a test client does):
add, change, delete items, the item limit, autosave inside an item, « Vérifier vos réponses »; files
attached, listed, removed, kept with the submission, erased with a deleted draft; the size limits."""

from __future__ import annotations

import hashlib
import html
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Draft, Service, Submission, Upload
from app.models.types import utcnow
from app.services.simple_pdf import make_pdf
from app.services.uploads import blob_path
from tests.factories import PASSWORD, make_company, make_establishment, make_user

START = "/demarches/pieces/commencer"


def fresh(draft_id: int) -> Draft:
    db.session.expire_all()
    return db.session.get(Draft, draft_id)


def pdf(title: str = "Certificat médical") -> bytes:
    return make_pdf(title, ["Une pièce du dossier."])


class Employer:
    """A signed-in employer filling the workflow like a person without JavaScript."""

    def __init__(self, client, user):
        self.client = client
        token = client.csrf("/connexion")
        response = client.post(
            "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302
        self.token = client.csrf("/demarches/")

    def url(self, draft_id: int, tail: str = "") -> str:
        return f"/demarches/brouillons/{draft_id}/etapes{tail}"

    def start(self, establishment) -> int:
        response = self.client.post(
            START, data={"csrf_token": self.token, "establishment": str(establishment.id)}
        )
        assert response.status_code == 303
        return int(re.search(r"/brouillons/(\d+)/", response.headers["Location"]).group(1))

    def post(self, url: str, data: dict, *, headers=None, files: dict | None = None, version=None):
        draft_id = int(re.search(r"/brouillons/(\d+)", url).group(1))
        form = {"csrf_token": self.token, "version": str(version or fresh(draft_id).version), **data}
        if files:
            form.update(
                {name: (io.BytesIO(content), filename) for name, (content, filename) in files.items()}
            )
            return self.client.post(url, data=form, headers=headers or {}, content_type="multipart/form-data")
        return self.client.post(url, data=form, headers=headers or {})

    def answer_dossier(self, draft_id: int):
        response = self.post(self.url(draft_id, "/dossier"), {"action": "continue", "nature": "accident"})
        assert response.status_code == 303, response.get_data(as_text=True)
        assert response.headers["Location"].endswith("/etapes/pieces")

    def attach(self, draft_id: int, element: str, *, name="certificat.pdf", content=None, typed=None):
        data = {"element": element, **(typed or {})}
        return self.post(
            self.url(draft_id, "/pieces/fichiers?champ=fichier"),
            data,
            files={"fichier-fichier": (content or pdf(), name)},
        )

    def add_piece(self, draft_id: int, description: str, *, name="certificat.pdf") -> int:
        """A complete item: its file attached (which adds the item), then « Continuer »."""
        typed = {"type_piece": "certificat", "description": description}
        response = self.attach(draft_id, "", name=name, typed=typed)
        assert response.status_code == 303, response.get_data(as_text=True)
        index = int(response.headers["Location"].rsplit("/", 1)[1])
        ids = items(draft_id)[index]["fichier"]
        response = self.post(
            self.url(draft_id, "/pieces/elements"),
            {"action": "continue", "element": str(index), **typed, "fichier": ids},
        )
        assert response.status_code == 303, response.get_data(as_text=True)
        assert response.headers["Location"].endswith("/etapes/pieces")
        return index


def items(draft_id: int) -> list[dict]:
    raw = fresh(draft_id).answers.get("pieces", {})
    found: dict[int, dict] = {}
    for key, value in raw.items():
        index, name = re.match(r"pieces-(\d+)-(.+)", key).groups()
        found.setdefault(int(index), {})[name] = value
    return [found[i] for i in sorted(found)]


@pytest.fixture
def company(app):
    return make_company("Transports Lorrains")


@pytest.fixture
def establishment(company):
    return make_establishment(company, departement="57", name="Dépôt de Metz", city="Metz")


@pytest.fixture
def employer(client, company, establishment):
    user = make_user("camille@exemple.fr", company=company, grants=[(establishment, Service.COMPTE)])
    db.session.commit()
    return Employer(client, user)


@pytest.fixture
def draft_id(employer, establishment) -> int:
    draft_id = employer.start(establishment)
    employer.answer_dossier(draft_id)
    return draft_id


def body(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# -- groups ------------------------------------------------------------------------------------------


def test_the_group_page_starts_empty_and_cannot_be_left_without_an_item(employer, draft_id):
    page = body(employer.client.get(employer.url(draft_id, "/pieces")))
    assert "La liste est vide pour l'instant." in page
    assert "Ajouter une pièce" in page
    response = employer.post(employer.url(draft_id, "/pieces"), {"action": "continue"})
    assert response.status_code == 422
    assert "Ajoutez au moins 1 pièce" in body(response)
    assert "pieces" not in fresh(draft_id).valid_steps


def test_an_item_is_added_listed_with_its_file_and_the_group_then_continues(employer, draft_id):
    employer.add_piece(draft_id, "Certificat initial du 2 mars")
    page = body(employer.client.get(employer.url(draft_id, "/pieces")))
    assert "Pièce 1" in page and "Certificat initial du 2 mars" in page
    assert "Modifier" in page and "Supprimer" in page
    assert "Incomplet" not in page
    response = employer.post(employer.url(draft_id, "/pieces"), {"action": "continue"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/verifier")
    # « Continuer » on the list posts no item: the stored items are kept, not wiped.
    assert items(draft_id)[0]["description"] == "Certificat initial du 2 mars"


def test_an_invalid_item_is_kept_as_typed_and_answered_422_with_its_errors(employer, draft_id):
    response = employer.post(
        employer.url(draft_id, "/pieces/elements"),
        {"action": "continue", "element": "", "description": "Brouillon"},
    )
    assert response.status_code == 422
    page = body(response)
    assert "Indiquez de quelle pièce il s'agit" in page
    assert "Joignez le fichier de cette pièce" in page
    assert items(draft_id) == [{"description": "Brouillon"}]
    listing = body(employer.client.get(employer.url(draft_id, "/pieces")))
    assert "Incomplet" in listing
    response = employer.post(employer.url(draft_id, "/pieces"), {"action": "continue"})
    assert response.status_code == 422
    assert "Complétez ou supprimez « Pièce 1 »" in body(response)


def test_an_item_is_changed_on_its_own_page(employer, draft_id):
    employer.add_piece(draft_id, "Premier certificat")
    employer.add_piece(draft_id, "Attestation de salaire", name="salaire.pdf")
    page = body(employer.client.get(employer.url(draft_id, "/pieces/elements/1")))
    assert 'value="Attestation de salaire"' in page and "salaire.pdf" in page
    ids = items(draft_id)[1]["fichier"]
    response = employer.post(
        employer.url(draft_id, "/pieces/elements"),
        {
            "action": "continue",
            "element": "1",
            "type_piece": "salaire",
            "description": "Salaires de février",
            "fichier": ids,
        },
    )
    assert response.status_code == 303
    assert [i["description"] for i in items(draft_id)] == ["Premier certificat", "Salaires de février"]


def test_an_item_is_deleted_after_a_confirmation_with_its_file(app, employer, draft_id):
    employer.add_piece(draft_id, "Premier certificat")
    employer.add_piece(draft_id, "Second certificat", name="second.pdf")
    second = db.session.get(Upload, int(items(draft_id)[1]["fichier"][0]))
    confirm = body(employer.client.get(employer.url(draft_id, "/pieces/elements/0/supprimer")))
    assert "Voulez-vous vraiment supprimer « Pièce 1 » ?" in confirm
    first_id = int(items(draft_id)[0]["fichier"][0])
    response = employer.post(employer.url(draft_id, "/pieces/elements/0/supprimer"), {})
    assert response.status_code == 303
    assert [i["description"] for i in items(draft_id)] == ["Second certificat"]
    db.session.expire_all()
    assert db.session.get(Upload, first_id) is None  # its file went with it
    assert db.session.get(Upload, second.id) is not None
    assert employer.client.get(f"/fichiers/{first_id}").status_code == 404
    assert employer.client.get(employer.url(draft_id, "/pieces/elements/1")).status_code == 404


def test_the_item_limit_hides_the_button_and_refuses_one_more(employer, draft_id):
    for n in range(5):
        employer.add_piece(draft_id, f"Pièce numéro {n + 1}", name=f"p{n}.pdf")
    page = body(employer.client.get(employer.url(draft_id, "/pieces")))
    assert "Vous avez atteint le nombre maximal de pièces (5)" in page
    assert "Ajouter une pièce" not in page
    response = employer.client.get(employer.url(draft_id, "/pieces/elements/nouveau"))
    assert response.status_code == 302
    response = employer.post(
        employer.url(draft_id, "/pieces/elements"),
        {"action": "continue", "element": "", "type_piece": "autre", "description": "Une de trop"},
    )
    assert response.status_code == 303
    assert len(items(draft_id)) == 5
    assert "Vous avez atteint le nombre maximal" in body(employer.client.get(response.headers["Location"]))


def test_autosave_inside_a_new_item_adds_it_once_and_says_where_it_is(employer, draft_id):
    url = employer.url(draft_id, "/pieces/elements/enregistrement-automatique")
    first = employer.post(url, {"element": "", "description": "Tapé"}, headers={"HX-Request": "true"})
    assert first.status_code == 200
    assert "Brouillon enregistré" in body(first)
    assert 'name="element" value="0"' in body(first) and 'hx-swap-oob="true"' in body(first)
    second = employer.post(
        url, {"element": "0", "description": "Tapé encore"}, headers={"HX-Request": "true"}
    )
    assert second.status_code == 200
    assert items(draft_id) == [{"description": "Tapé encore"}]
    assert db.session.scalar(
        select(AuditEvent.id).where(
            AuditEvent.action == "draft.autosave", AuditEvent.object_id == str(draft_id)
        )
    )


def test_check_answers_lists_each_item_with_its_file_and_a_link_to_change_it(employer, draft_id):
    employer.add_piece(draft_id, "Certificat initial", name="initial.pdf")
    page = body(employer.client.get(f"/demarches/brouillons/{draft_id}/verifier"))
    assert "Pièce 1" in page
    assert "Description : Certificat initial" in page
    assert "initial.pdf" in page
    assert f"/brouillons/{draft_id}/etapes/pieces/elements/0?retour=verifier" in page


def test_the_submission_keeps_the_items_and_their_files(employer, draft_id):
    employer.add_piece(draft_id, "Certificat initial", name="initial.pdf")
    upload_id = int(items(draft_id)[0]["fichier"][0])
    response = employer.post(f"/demarches/brouillons/{draft_id}/envoyer", {})
    assert response.status_code == 303, body(response)
    submission = db.session.scalar(select(Submission).where(Submission.draft_id == draft_id))
    piece = submission.data["answers"]["pieces"]["pieces"][0]
    assert piece["description"] == "Certificat initial"
    assert piece["fichier"][0]["filename"] == "initial.pdf"
    upload = db.session.get(Upload, upload_id)
    assert piece["fichier"][0]["sha256"] == upload.sha256
    assert employer.client.get(f"/fichiers/{upload_id}").status_code == 200


# -- files -------------------------------------------------------------------------------------------


def test_a_file_on_a_plain_step_is_attached_listed_and_removed(employer, establishment):
    draft_id = employer.start(establishment)
    response = employer.post(
        employer.url(draft_id, "/dossier/fichiers?champ=courrier"),
        {"nature": "maladie", "reference": "MP-12"},
        files={"fichier-courrier": (pdf("Courrier"), "courrier.pdf")},
    )
    assert response.status_code == 303
    raw = fresh(draft_id).answers["dossier"]
    assert raw["nature"] == "maladie" and raw["reference"] == "MP-12"  # what was typed is kept
    upload_id = int(raw["courrier"][0])
    page = body(employer.client.get(employer.url(draft_id, "/dossier")))
    assert "courrier.pdf" in page and "Joindre le fichier" not in page  # max 1 file: no input left
    assert employer.client.get(f"/fichiers/{upload_id}").status_code == 200
    sha = db.session.get(Upload, upload_id).sha256
    response = employer.post(
        employer.url(draft_id, f"/dossier/fichiers/retirer?champ=courrier&fichier={upload_id}"),
        {"nature": "maladie", "reference": "MP-12", "courrier": str(upload_id)},
    )
    assert response.status_code == 303
    assert fresh(draft_id).answers["dossier"].get("courrier") in ([], None, "")
    assert employer.client.get(f"/fichiers/{upload_id}").status_code == 404
    assert not blob_path(sha).exists()


def test_a_deleted_draft_takes_its_files_with_it(employer, draft_id):
    employer.add_piece(draft_id, "Certificat", name="certificat.pdf")
    upload_id = int(items(draft_id)[0]["fichier"][0])
    sha = db.session.get(Upload, upload_id).sha256
    assert employer.client.get(f"/fichiers/{upload_id}").status_code == 200
    response = employer.post(f"/demarches/brouillons/{draft_id}/supprimer", {})
    assert response.status_code == 303
    assert employer.client.get(f"/fichiers/{upload_id}").status_code == 404
    assert not blob_path(sha).exists()


def test_an_upload_of_another_draft_cannot_be_named_in_an_answer(employer, establishment, draft_id):
    employer.add_piece(draft_id, "Certificat")
    other_upload = items(draft_id)[0]["fichier"][0]
    other = employer.start(establishment)
    employer.answer_dossier(other)
    response = employer.post(
        employer.url(other, "/pieces/elements"),
        {
            "action": "continue",
            "element": "",
            "type_piece": "certificat",
            "description": "Volée",
            "fichier": other_upload,
        },
    )
    assert response.status_code == 422
    assert "Un fichier joint est introuvable : joignez-le de nouveau" in body(response)


def test_a_file_of_an_unaccepted_type_is_refused_in_french_and_nothing_is_kept(employer, draft_id):
    response = employer.attach(
        draft_id, "", name="notes.txt", content=b"juste du texte", typed={"description": "x"}
    )
    assert response.status_code == 422
    assert "Le fichier doit être au format JPEG, PDF, PNG." in body(response)
    assert items(draft_id) == []
    assert db.session.scalar(select(Upload.id)) is None


@pytest.mark.parametrize("app_config", [{"MAX_UPLOAD_BYTES_PER_FILE": 4000}])
def test_the_per_file_limit_is_said_in_french(employer, draft_id, app_config):
    big = pdf("Gros") + b"%" + b"0" * 5000
    response = employer.attach(draft_id, "", content=big, typed={"description": "x"})
    assert response.status_code == 422
    assert "Le fichier dépasse la taille maximale" in body(response)
    assert db.session.scalar(select(Upload.id)) is None


@pytest.mark.parametrize("app_config", [{"MAX_UPLOAD_BYTES_PER_DRAFT": 1500}])
def test_the_per_draft_limit_counts_every_file_the_draft_holds(employer, draft_id, app_config):
    small = pdf("Petit")
    assert len(small) < 1500 < 2 * len(small)
    assert employer.attach(draft_id, "", content=small, typed={"description": "a"}).status_code == 303
    ids = items(draft_id)[0]["fichier"]
    response = employer.attach(draft_id, "0", content=small, typed={"description": "a", "fichier": ids})
    assert response.status_code == 422
    assert "Les fichiers d'un brouillon ne peuvent dépasser" in body(response)
    assert len(items(draft_id)[0]["fichier"]) == 1


def test_a_stale_continue_on_the_group_page_goes_back_to_the_list(employer, draft_id):
    employer.add_piece(draft_id, "Certificat")
    stale = fresh(draft_id).version - 1
    response = employer.post(employer.url(draft_id, "/pieces"), {"action": "continue"}, version=stale)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/etapes/pieces")
    assert "Cette démarche a été modifiée entre-temps" in body(
        employer.client.get(response.headers["Location"])
    )


def test_a_file_for_a_step_not_reachable_yet_is_not_stored(employer, establishment):
    draft_id = employer.start(establishment)  # « Le dossier » not answered: the group cannot be shown
    response = employer.attach(draft_id, "", typed={"description": "x"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/etapes/dossier")
    assert db.session.scalar(select(Upload.id)) is None


def test_a_file_sent_with_a_stale_version_is_not_kept(employer, draft_id):
    employer.add_piece(draft_id, "Certificat")
    stale = fresh(draft_id).version - 1
    content = pdf("Envoyé depuis un vieil onglet")
    response = employer.post(
        employer.url(draft_id, "/pieces/fichiers?champ=fichier"),
        {"element": "0", "type_piece": "certificat", "description": "Certificat"},
        files={"fichier-fichier": (content, "vieux.pdf")},
        version=stale,
    )
    assert response.status_code == 303
    page = body(employer.client.get(response.headers["Location"]))
    assert "Cette démarche a été modifiée entre-temps" in page
    assert db.session.scalar(select(Upload.id).where(Upload.filename == "vieux.pdf")) is None
    assert not blob_path(hashlib.sha256(content).hexdigest()).exists()  # checked before any byte is stored


def test_after_the_closing_time_no_item_nor_file_changes_and_nothing_is_stored(employer, draft_id):
    employer.add_piece(draft_id, "Certificat")
    draft = fresh(draft_id)
    draft.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    before = dict(fresh(draft_id).answers)
    typed = {"element": "0", "type_piece": "autre", "description": "Trop tard"}
    response = employer.post(employer.url(draft_id, "/pieces/elements"), {"action": "continue", **typed})
    assert response.status_code == 303 and response.headers["Location"].endswith("/etapes/pieces")
    autosave_url = employer.url(draft_id, "/pieces/elements/enregistrement-automatique")
    autosave = employer.post(autosave_url, typed, headers={"HX-Request": "true"})
    assert autosave.status_code == 409
    assert employer.attach(draft_id, "0", typed=typed).status_code == 303
    assert employer.post(employer.url(draft_id, "/pieces/elements/0/supprimer"), {}).status_code == 302
    assert fresh(draft_id).answers == before
    assert db.session.scalar(select(func.count(Upload.id))) == 1
    assert employer.client.get(employer.url(draft_id, "/pieces/elements/0")).status_code == 302
    page = body(employer.client.get(employer.url(draft_id, "/pieces")))
    assert "Ajouter une pièce" not in page and "Certificat" in page  # read-only
