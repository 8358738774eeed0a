"""No stored raw answer breaks a QR Pro questionnaire's pages (issue 13, item 5; the rule of
tests/integration/test_hostile_answers.py, applied to the four models, which that test does not reach:
they are not registered Python workflows). Each model is answered validly, then, last page first, every
field of every page — and of one item of each group — gets the variant's extreme or malformed value by
autosave or « Enregistrer et reprendre plus tard »; every page, the overview, « Vérifier vos réponses »,
« Mes dossiers » and the employer's list still answer without a server error."""

from __future__ import annotations

import pytest

from app.domain.cases import Party, SubjectKind
from app.extensions import db
from app.services import drafts
from app.workflows.engine import Step
from tests.integration.test_hostile_answers import MODES, hostile_step
from tests.qrpro_parties_support import VALID, fresh
from tests.qrpro_parties_support import Party as Browser
from tests.subjects_support import World

MODELS = [
    ("qr-at-employeur", Party.EMPLOYER, "AT"),
    ("qr-at-victime", Party.VICTIM, "AT"),
    ("qr-mp-employeur", Party.EMPLOYER, "MP"),
    ("qr-mp-victime", Party.VICTIM, "MP"),
]


@pytest.fixture
def world(app):
    result = app.test_cli_runner().invoke(args=["forms", "load"])
    assert result.exit_code == 0, result.output
    return World()


def ok(response, what) -> None:
    assert response.status_code in (200, 302, 303), (what, response.status_code)


@pytest.mark.parametrize("variant", [0, 2, 5, 6, 9])  # year 9999, 31/02, 10 000 characters, controls, digits
@pytest.mark.parametrize(("code", "party", "kind"), MODELS)
def test_hostile_answers_break_no_page_of_a_questionnaire(app, world, code, party, kind, variant):
    world.case_a.kind = kind
    db.session.commit()
    user = world.victim if party == Party.VICTIM else world.employer
    workflow = drafts.workflow_or_404(code, SubjectKind.CASE_PARTY)
    draft = drafts.start_case_draft(user, workflow, world.case_a, party)
    db.session.commit()
    browser = Browser(app, user)
    browser.fill(draft.id, code)
    assert set(fresh(draft.id).valid_steps) == {page for page, _ in VALID[code]}

    base = f"/demarches/brouillons/{draft.id}"
    path = workflow.path(fresh(draft.id).answers)
    for index, step in reversed(list(enumerate(path))):
        mode = MODES[(variant + index) % 2]
        if step.group is not None:
            data = hostile_step(Step("element", "", step.group.item_form), variant)
            url = f"{base}/etapes/{step.name}/elements"
            form = {"element": "0", **data}
            if mode == "autosave":
                response = browser.client.post(
                    f"{url}/enregistrement-automatique",
                    data={"csrf_token": browser.token, "version": str(fresh(draft.id).version), **form},
                    headers={"HX-Request": "true"},
                )
            else:
                response = browser.post(url, {"action": "later", **form})
            ok(response, step.name)
            ok(browser.client.get(f"{url}/0"), step.name)
            ok(browser.client.get(f"{url}/0?erreurs=1"), step.name)
        else:
            data = hostile_step(step, variant)
            url = f"{base}/etapes/{step.name}"
            if mode == "autosave":
                response = browser.client.post(
                    f"{url}/enregistrement-automatique",
                    data={"csrf_token": browser.token, "version": str(fresh(draft.id).version), **data},
                    headers={"HX-Request": "true"},
                )
            else:
                response = browser.post(url, {"action": "later", **data})
            ok(response, step.name)
            ok(browser.client.get(url), step.name)
            ok(browser.client.get(f"{url}?erreurs=1"), step.name)
    for url in (
        base,
        f"{base}/sommaire",
        f"{base}/verifier",
        *(f"{base}/etapes/{s.name}" for s in workflow.steps),
    ):
        ok(browser.client.get(url), url)
    ok(browser.client.get("/mes-dossiers/" if party == Party.VICTIM else "/qrpro/questionnaires"), "list")
    ok(browser.client.get("/demarches/"), "drafts")
