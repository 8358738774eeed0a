"""Rendering a step's fields costs no page render each (docs/performance.md, « Form models: a page
of 40 questions »): the GOV.UK widgets call their macro, not ``render_template`` (which ran every
context processor — the navigation's queries among them — once per field)."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime

import time_machine
from flask import template_rendered

from app.extensions import db
from app.models import Service
from app.services import form_models
from app.workflows.form_models import MODELS_DIR
from tests.factories import make_company, make_establishment, make_user

EXAMPLE = MODELS_DIR / "exemple-questionnaire-v1.yaml"


def rendered_templates(app, call) -> tuple[object, list[str]]:
    names: list[str] = []

    def record(sender, template, context, **extra):
        names.append(template.name)

    with template_rendered.connected_to(record, app):
        return call(), names


def test_a_step_page_and_its_errors_render_one_template_whatever_its_fields(app, client, login, tmp_path):
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    form_models.load_models(tmp_path)
    establishment = make_establishment(make_company("Transports Lorrains"), departement="57")
    user = make_user(
        "camille@exemple.fr", company=establishment.company, grants=[(establishment, Service.QRPRO)]
    )
    db.session.commit()
    login(user)
    token = client.csrf("/demarches/")
    started = client.post(
        "/demarches/exemple-questionnaire/commencer",
        data={"csrf_token": token, "establishment": str(establishment.id)},
    )
    step_url = re.search(r"/demarches/brouillons/\d+/etapes/lieu", started.headers["Location"]).group(0)

    page, names = rendered_templates(app, lambda: client.get(step_url))
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and body.count('class="govuk-radios__input"') >= 4  # the fields
    assert names == ["workflows/step.html"]

    version = re.search(r'name="version" value="(\d+)"', body).group(1)
    data = {"csrf_token": token, "version": version, "action": "continue"}
    refused, names = rendered_templates(app, lambda: client.post(step_url, data=data))
    assert refused.status_code == 422 and "govuk-error-message" in refused.get_data(as_text=True)
    assert names == ["workflows/step.html"]


def test_a_step_with_a_file_answer_renders_one_template(app, client, login):
    establishment = make_establishment(make_company("Transports Lorrains"), departement="57")
    user = make_user(
        "camille@exemple.fr", company=establishment.company, grants=[(establishment, Service.COMPTE)]
    )
    db.session.commit()
    login(user)
    token = client.csrf("/demarches/")
    started = client.post(
        "/demarches/pieces/commencer", data={"csrf_token": token, "establishment": str(establishment.id)}
    )
    step_url = re.search(r"/demarches/brouillons/\d+/etapes/dossier", started.headers["Location"]).group(0)

    page, names = rendered_templates(app, lambda: client.get(step_url))
    assert page.status_code == 200 and "Joindre le fichier" in page.get_data(as_text=True)
    assert names == ["workflows/step.html"]


TOKEN_RE = re.compile(r'(name="csrf_token" (?:type="hidden" )?value=")[^"]+"|("X-CSRFToken": ")[^"]+"')


def _pages(client, urls: list[str]) -> list[str]:
    return [TOKEN_RE.sub(r'\1\2TOKEN"', client.get(url).get_data(as_text=True)) for url in urls]


def _with_macro(app, python: bool) -> None:
    """GOV.UK's ``govukAttributes`` as Python (the application's way) or as its Jinja macro: the
    templates are loaded again, so that each module imports the one asked for."""
    app.jinja_env.python_attributes = python
    app.jinja_env.cache.clear()


def _same_both_ways(app, client, urls: list[str]) -> list[str]:
    try:
        _with_macro(app, python=False)
        by_macro = _pages(client, urls)
        _with_macro(app, python=True)
        by_python = _pages(client, urls)
    finally:
        _with_macro(app, python=True)
    for url, macro_page, python_page in zip(urls, by_macro, by_python, strict=True):
        assert python_page == macro_page, url
    return by_python


def test_every_dat_step_renders_the_same_with_govuk_attributes_in_python(app, client):
    """app/templating.py's ``govukAttributes`` prints what GOV.UK's macro prints, on every DAT step: new,
    with every error shown, refused, answered; and on « Vérifier vos réponses »."""
    from tests.dat_support import STEPS, DatClient, World, valid_answers

    world = World()
    declarant = DatClient(client, world.employer)
    answers = valid_answers()
    pages = []
    # The clock stopped: a page saying how long the 48 hours have left reads the same both ways.
    with time_machine.travel(datetime.now(UTC), tick=False):
        draft_id = declarant.start(world.metz)
        for step in STEPS:
            url = f"/demarches/brouillons/{draft_id}/etapes/{step}"
            pages += _same_both_ways(app, client, [url, f"{url}?erreurs=1"])
            refused = declarant.post_step(draft_id, step, {"nom": "x" * 300, "telephone": "abc"})
            assert refused.status_code == 422
            pages += _same_both_ways(app, client, [f"{url}?erreurs=1"])
            assert declarant.post_step(draft_id, step, answers[step]).status_code == 303
            pages += _same_both_ways(app, client, [url])
        pages += _same_both_ways(app, client, [f"/demarches/brouillons/{draft_id}/verifier"])
    assert len(pages) == 7 * 4 + 1
    assert sum(page.count("govuk-error-message") for page in pages) > 30  # the errors were shown
    assert sum(page.count("govuk-radios__input") for page in pages) > 20
