"""No stored raw answer may ever break a page (issue 10, item 1).

Autosave keeps what was typed, valid or not. A knowledge date typed 31/12/9999 at 23:59 once made the
home page, « Mes démarches », the DAT list, the step, the overview and the delete page answer 500 for
that user (an OverflowError in the 48-hour computation), and the draft could not be deleted.

Here extreme and malformed values (years 0001 and 9999, 31/02, 25:61, 10 000 characters, control
characters, negative and huge numbers, choices that are not offered) go into every field of every step
of every registered workflow — the fields are read from the workflow registry and the forms, so a new
field or workflow is covered without touching this file — by the autosave endpoint and by « Enregistrer
et reprendre plus tard ». Then every page the user can reach must answer without a server error, the
draft can still be deleted, and the background commands run over such drafts without crashing.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField

from app.extensions import db
from app.forms.workflow_groups import FileAnswerField
from app.forms.workflows import FrenchDateField, FrenchTimeField
from app.models import Draft, Service
from app.services.simple_pdf import make_pdf
from app.workflows import all_workflows
from app.workflows.engine import Step
from tests.dat_support import DatClient, fresh_draft, local_today, parts, valid_answers
from tests.factories import make_user

# Extreme and malformed values by kind of field, one per "variant": variant i puts the i-th value of its
# kind in every field.
TEN_THOUSAND = "9" * 10_000
CONTROL = "\x00\x01\x07\x08\x0b\x1b[2J\x7f\u202e"
DATES = [
    ["31", "12", "9999"],
    ["1", "1", "0001"],
    ["31", "2", "2026"],
    ["0", "0", "0000"],
    ["-1", "13", "-999"],
    [TEN_THOUSAND, TEN_THOUSAND, TEN_THOUSAND],
    [CONTROL, CONTROL, CONTROL],
    ["99999999999999999999", "1", "2026"],
    ["1", "2", "3", "4", "5"],
    ["٣١", "١٢", "٩٩٩٩"],  # Arabic-Indic digits: \d matches them
]
TIMES = [
    "23:59",
    "00:00",
    "25:61",
    "24:00",
    "-1:-1",
    TEN_THOUSAND,
    CONTROL,
    "99999999999999999999",
    "x",
    "٢٣:٥٩",
]
TEXTS = [
    "99999999999999999999",
    "-1",
    "-99999999999999999999",
    "1e309",
    "NaN",
    "x" * 10_000,
    CONTROL,
    "²",
    "<b>gras</b>\"'&",
    "٩٩",
]
VARIANTS = range(len(DATES))
MODES = ("autosave", "later")
assert len(TIMES) == len(TEXTS) == len(DATES)

# Valid answers of each workflow, to make every step reachable before its hostile values go in.
# A new workflow must add its own here: the test below fails until it does.
VALID = {
    "dat": valid_answers(),
    "coordonnees": {
        "nature": {"nature": "adresse"},
        "adresse": {"voie": "12 rue des Clercs", "code_postal": "57000", "commune": "Metz"},
        "date_effet": {"date_effet": parts(local_today())},
        "motif": {"motif": "Déménagement des bureaux au 1er étage."},
    },
    # A group step: the answers of its one item (its files are attached through the page).
    "pieces": {
        "dossier": {"nature": "accident"},
        "pieces": {"type_piece": "certificat", "description": "Certificat initial"},
    },
}


def hostile_step(step, variant: int) -> dict:
    """Every input of ``step``'s form, each with the variant's hostile value for its kind."""
    data = {}
    for field in step.form_class():
        if isinstance(field, FrenchDateField):
            data[field.name] = DATES[variant]
        elif isinstance(field, FrenchTimeField):
            data[field.name] = TIMES[variant]
        elif isinstance(field, SelectMultipleField):
            data[field.name] = [TEXTS[variant], TEXTS[(variant + 1) % len(TEXTS)]]
        elif isinstance(field, RadioField | SelectField | BooleanField):
            data[field.name] = TEXTS[variant]
        else:  # text, text areas, hidden inputs (the attachment's id), numbers typed as text
            data[field.name] = TEXTS[variant]
    return data


class Filler(DatClient):
    """A signed-in user filling any workflow's drafts through the pages."""

    def start_workflow(self, workflow, establishment) -> int:
        response = self.client.post(
            f"/demarches/{workflow.name}/commencer",
            data={"csrf_token": self.token, "establishment": str(establishment.id)},
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        return int(re.search(r"/brouillons/(\d+)/", response.headers["Location"]).group(1))

    def add_item(self, draft_id: int, step, data: dict):
        """One valid item in a group step: each of its file answers attached through the page."""
        url = f"/demarches/brouillons/{draft_id}/etapes/{step.name}"
        element, typed = "", dict(data)
        for field in step.group.item_form():
            if isinstance(field, FileAnswerField):
                response = self.client.post(
                    f"{url}/fichiers?champ={field.name}",
                    data={
                        "csrf_token": self.token,
                        "version": str(fresh_draft(draft_id).version),
                        "element": element,
                        **typed,
                        f"fichier-{field.name}": (io.BytesIO(make_pdf("Pièce")), "piece.pdf"),
                    },
                    content_type="multipart/form-data",
                )
                assert response.status_code == 303, response.get_data(as_text=True)[:3000]
                element = response.headers["Location"].rsplit("/", 1)[1].split("?")[0]
                answers = fresh_draft(draft_id).answers[step.name]
                typed[field.name] = answers[f"{step.group.group_name}-{element}-{field.name}"]
        return self.save_item(draft_id, step, element, typed, "later")

    def save_item(self, draft_id: int, step, element: str, data: dict, mode: str, version=None):
        if version is None:
            version = fresh_draft(draft_id).version
        form = {"version": str(version), "csrf_token": self.token, "element": element, **data}
        url = f"/demarches/brouillons/{draft_id}/etapes/{step.name}/elements"
        if mode == "autosave":
            return self.client.post(
                f"{url}/enregistrement-automatique", data=form, headers={"HX-Request": "true"}
            )
        return self.client.post(url, data={**form, "action": "later"})

    def save(self, draft_id: int, step: str, data: dict, mode: str, version=None):
        if version is None:
            version = fresh_draft(draft_id).version
        form = {"version": str(version), "csrf_token": self.token, **data}
        url = f"/demarches/brouillons/{draft_id}/etapes/{step}"
        if mode == "autosave":
            return self.client.post(
                f"{url}/enregistrement-automatique", data=form, headers={"HX-Request": "true"}
            )
        return self.client.post(url, data={**form, "action": "later"})


def get(client, url: str, **kw):
    response = client.get(url, **kw)
    assert response.status_code < 500, (url, response.status_code)
    assert response.status_code in (200, 302, 303), (url, response.status_code)
    return response


@pytest.fixture
def filler(client, world):
    user = make_user(
        "hostile@batiments-est.fr",
        company=world.company,
        grants=[(world.metz, Service.DAT), (world.metz, Service.COMPTE)],
    )
    db.session.commit()
    return Filler(client, user)


def test_every_workflow_has_valid_answers_to_start_from():
    assert {w.name for w in all_workflows()} <= set(VALID)


def test_a_knowledge_date_in_year_9999_does_not_lock_the_user_out(client, world, declarant):
    """The case of the issue: 31/12/9999 at 23:59 autosaved on step 5."""
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, until="connaissance")
    typed = {
        **valid_answers()["connaissance"],
        "date_connaissance": ["31", "12", "9999"],
        "heure_connaissance": "23:59",
    }
    response = declarant.post_step(draft_id, "connaissance", typed, action="later")
    assert response.status_code == 303
    for url in ("/", "/demarches/", "/dat/", f"/demarches/brouillons/{draft_id}/sommaire"):
        assert get(client, url).status_code == 200
    step = get(client, f"/demarches/brouillons/{draft_id}/etapes/connaissance?erreurs=1")
    assert "La date de connaissance ne peut pas être dans le futur" in step.get_data(as_text=True)
    assert get(client, f"/demarches/brouillons/{draft_id}/supprimer").status_code == 200
    response = client.post(
        f"/demarches/brouillons/{draft_id}/supprimer",
        data={"csrf_token": declarant.token, "version": str(fresh_draft(draft_id).version)},
    )
    assert response.status_code == 303
    assert fresh_draft(draft_id).discarded_at is not None


# Not at the other moments of `make test` (docs/testing.md): what it checks cannot depend on the date or
# the hour. The hostile values are fixed (years 0001 and 9999, impossible dates and times, text), so each
# comparison with today gives the same result on any day of years 1900 to 9998, and the assertions are
# only statuses (no 5xx, 409 for a stale tab, 414 for an overlong URL), counts and deletions. The valid
# answers it starts from (`valid_answers()`, `local_today()`) are the ones the modules run at every moment
# submit (test_dat_workflow, test_workflows); the retention step ages the drafts by 365 days from now.
@pytest.mark.any_day
@pytest.mark.parametrize("variant", VARIANTS)
def test_hostile_answers_in_every_field_break_no_page(app, client, world, filler, variant):
    draft_ids = []
    for workflow in all_workflows():
        draft_id = filler.start_workflow(workflow, world.metz)
        draft_ids.append(draft_id)
        valid = VALID[workflow.name]
        path = workflow.path(valid)
        for step in path:
            data = valid[step.name]
            if step.name == "employeur":
                data = {**fresh_draft(draft_id).answers.get("employeur", {}), **data}
            if step.group is not None:
                response = filler.add_item(draft_id, step, data)
            else:
                response = filler.save(draft_id, step.name, data, "later")
            assert response.status_code == 303, (step.name, response.get_data(as_text=True)[:3000])
        assert fresh_draft(draft_id).valid_steps == [s.name for s in path]

        # Last step first: each step is still reachable (the ones before it are valid) when it is saved.
        for index, step in reversed(list(enumerate(path))):
            # By the autosave endpoint or by « Enregistrer et reprendre plus tard », in turn: across the
            # variants every step goes through both.
            mode = MODES[(variant + index) % 2]
            if step.group is not None:
                # A group's page posts nothing: the hostile values go into its item, through its page.
                data = hostile_step(Step("element", "", step.group.item_form), variant)
                response = filler.save_item(draft_id, step, "0", data, mode)
                assert response.status_code in (200, 303), (step.name, response.status_code)
                item_url = f"/demarches/brouillons/{draft_id}/etapes/{step.name}/elements/0"
                get(client, item_url)
                get(client, f"{item_url}?erreurs=1")
                get(client, f"/demarches/brouillons/{draft_id}/etapes/{step.name}")
                stale = filler.save_item(
                    draft_id, step, "0", data, "autosave", version=fresh_draft(draft_id).version - 1
                )
                assert stale.status_code == 409, (step.name, stale.status_code)
                continue
            data = hostile_step(step, variant)
            response = filler.save(draft_id, step.name, data, mode)
            assert response.status_code in (200, 303), (step.name, response.status_code)
            step_url = f"/demarches/brouillons/{draft_id}/etapes/{step.name}"
            get(client, step_url)
            get(client, f"{step_url}?erreurs=1")
            # A stale tab saving the same values: the conflict page shows both versions.
            stale = filler.save(draft_id, step.name, data, "later", version=fresh_draft(draft_id).version - 1)
            assert stale.status_code == 409, (step.name, stale.status_code)

        base = f"/demarches/brouillons/{draft_id}"
        for url in (
            base,
            f"{base}/sommaire",
            f"{base}/verifier",
            f"{base}/supprimer",
            *(f"{base}/etapes/{s.name}" for s in workflow.steps),
        ):
            get(client, url)

    dat_draft = draft_ids[[w.name for w in all_workflows()].index("dat")]
    due = DATES[variant]
    query = "&".join(f"date_connaissance={p}" for p in due[:3]) + f"&heure_connaissance={TIMES[variant]}"
    due_url = f"/dat/brouillons/{dat_draft}/echeance?{query}"
    if len(due_url) > client.application.config["MAX_URL_LENGTH"]:
        # Longer than any address of ours: refused before any view, in French.
        assert client.get(due_url, headers={"HX-Request": "true"}).status_code == 414
    else:
        get(client, due_url, headers={"HX-Request": "true"})
    for url in (
        "/",
        "/demarches/",
        "/dat/",
        "/dat/?statut=brouillon&hors_delai=y",
        "/dat/?q=x&du=2026-01-01",
    ):
        get(client, url)

    # The background commands read the same drafts: the reminders now, the retention once they are old.
    runner = CliRunner()
    result = runner.invoke(app.cli, ["dat", "remind"], obj=None)
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    for draft_id in draft_ids:
        db.session.get(Draft, draft_id).updated_at -= timedelta(days=365)
    db.session.commit()
    result = runner.invoke(app.cli, ["drafts", "expire"], obj=None)
    assert result.exit_code == 0, result.output
    assert f"{len(draft_ids)} brouillon(s) signalé(s)" in result.output

    # And the user can still delete every one of them.
    for draft_id in draft_ids:
        response = client.post(
            f"/demarches/brouillons/{draft_id}/supprimer",
            data={"csrf_token": filler.token, "version": str(fresh_draft(draft_id).version)},
        )
        assert response.status_code == 303, response.status_code
        assert fresh_draft(draft_id).discarded_at is not None
    assert db.session.get(Draft, draft_ids[0]).answers == {}


DAT_DATES = [
    ("victime", "date_naissance", {}, "La date de naissance"),
    ("victime", "date_embauche", {}, "La date d'embauche"),
    ("accident", "date_accident", {}, "La date de l'accident"),
    ("lesions", "date_deces", {"consequences": "deces"}, "La date du décès"),
    ("connaissance", "date_connaissance", {}, "La date de connaissance"),
    (
        "connaissance",
        "registre_date",
        {"registre": "oui", "registre_numero": "12"},
        "La date d'inscription au registre",
    ),
]


@pytest.mark.parametrize(("step", "name", "with_", "what"), DAT_DATES, ids=[d[1] for d in DAT_DATES])
def test_every_dat_date_says_next_to_it_that_it_is_before_1900_or_in_the_future(
    client, world, declarant, step, name, with_, what
):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, until=step)
    for typed, message in (
        (["31", "12", "1899"], f"{what} doit être le 1er janvier 1900 ou après"),
        (["1", "1", "0001"], f"{what} doit être le 1er janvier 1900 ou après"),
        (["31", "12", "9999"], f"{what} ne peut pas être dans le futur"),
        (parts(local_today() + timedelta(days=1)), f"{what} ne peut pas être dans le futur"),
    ):
        data = {**valid_answers()[step], **with_, name: typed}
        response = declarant.post_step(draft_id, step, data)
        assert response.status_code == 422, (typed, response.status_code)
        page = response.get_data(as_text=True).replace("&#39;", "'")
        error = re.search(rf'<p id="{name}-error" class="govuk-error-message">(.*?)</p>', page, re.S)
        assert error, (typed, page[:3000])
        assert message in error.group(1), (typed, error.group(1))
        # One message for the date: the rules comparing it with the other dates say nothing more.
        assert page.count(f'href="#{name}-day"') == 1


def test_a_knowledge_date_that_gives_no_deadline_says_so(client, world, declarant):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, until="connaissance")
    for typed, hour in (
        (["31", "12", "9999"], "23:59"),
        (["31", "2", "2026"], "10:00"),
        (["1", "4", "2026"], "25:61"),
    ):
        live = client.get(
            f"/dat/brouillons/{draft_id}/echeance",
            query_string=[*(("date_connaissance", p) for p in typed), ("heure_connaissance", hour)],
            headers={"HX-Request": "true"},
        )
        assert live.status_code == 200
        assert "La date limite de transmission ne peut pas être calculée : vérifiez la date et l'heure" in (
            live.get_data(as_text=True).replace("&#39;", "'")
        )
    typed = {
        **valid_answers()["connaissance"],
        "date_connaissance": ["31", "12", "9999"],
        "heure_connaissance": "23:59",
    }
    declarant.post_step(draft_id, "connaissance", typed, action="later")
    for url in ("/demarches/", f"/demarches/brouillons/{draft_id}/sommaire"):
        page = get(client, url).get_data(as_text=True).replace("&#39;", "'")
        assert "Délai de 48 heures : vérifiez la date et l'heure de connaissance de l'accident" in page, url
