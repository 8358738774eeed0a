"""Rendering a step's fields costs no page render each (docs/performance.md, « Form models: a page
of 40 questions »): the GOV.UK widgets call their macro, not ``render_template`` (which ran every
context processor — the navigation's queries among them — once per field)."""

from __future__ import annotations

import re
import shutil

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
