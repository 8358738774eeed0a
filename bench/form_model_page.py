"""Benchmark (run by hand, not a test): a 40-question page of a form model — its page and its save —
and a 20-question page, next to the DAT's "victime" step (20 fields, the engine's heaviest Python-defined
step) in the same run.

    .venv/bin/python -m bench.form_model_page --rounds 200

In one process, through the Flask test client (the whole request: session, CSRF, the user,
authorization, the draft, the path, the form built from the model version, validation, the version
check, the update and an audit row; no HTTP server), on a fresh SQLite database. Rounds alternate the
four requests so that the machine's noise falls on both sides. Issue 12 asks the model's page and save
to stay within 1.5 × the DAT step's.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from bench.support import fresh_database

VERSION_RE = re.compile(r'name="version" value="(\d+)"')
CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')

KINDS = ["short_text"] * 10 + ["integer"] * 5 + ["money"] * 5 + ["yes_no"] * 5 + ["radios"] * 5
KINDS += ["date"] * 5 + ["checkboxes"] * 5


def _questions(prefix: str, count: int, answers: dict[str, object]) -> list[str]:
    options = "[{value: a, label: Première}, {value: b, label: Deuxième}, {value: c, label: Troisième}]"
    lines = []
    for n, kind in enumerate(KINDS[:: len(KINDS) // count][:count], 1):
        qid = f"{prefix}{n:02d}"
        extra = f", options: {options}" if kind in ("radios", "checkboxes") else ""
        extra += ", min: 0, max: 100000" if kind in ("integer", "money") else ""
        extra += ", condition: detail == true" if n % 4 == 0 else ""
        lines.append(
            f"          - {{id: {qid}, type: {kind}, label: 'Question {n} ?', required: true{extra}}}"
        )
        answers[qid] = {
            "short_text": "Une réponse assez courte",
            "integer": "42",
            "money": "1 250,50",
            "yes_no": "oui",
            "radios": "b",
            "date": ["27", "3", "2026"],
            "checkboxes": ["a", "c"],
        }[kind]
    return lines


def big_model() -> tuple[str, dict[str, object], dict[str, object]]:
    """A model whose second page has 40 questions and third page 20 (a quarter of them conditional),
    with valid answers to each."""
    forty: dict[str, object] = {}
    twenty: dict[str, object] = {}
    lines = [
        "code: bench-quarante",
        "title: Questionnaire de 40 questions",
        "version: 1",
        "status: published",
        "service: qrpro",
        "reference_prefix: BQQ",
        "sections:",
        "  - title: Tout",
        "    pages:",
        "      - id: intro",
        "        title: Introduction",
        "        questions:",
        "          - {id: detail, type: yes_no, label: 'Voulez-vous tout détailler ?', required: true}",
        "      - id: grande",
        "        title: Quarante questions",
        "        questions:",
        *_questions("q", 40, forty),
        "      - id: moyenne",
        "        title: Vingt questions",
        "        questions:",
        *_questions("r", 20, twenty),
    ]
    return "\n".join(lines) + "\n", forty, twenty


def timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    response = call()
    return (time.perf_counter() - start) * 1000, response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-form-model-"))
    url = f"sqlite:///{work / 'bench.db'}"
    fresh_database(url, work / "storage")
    (work / "models").mkdir()
    text, forty, twenty = big_model()
    (work / "models" / "bench-quarante-v1.yaml").write_text(text, encoding="utf-8")

    from app import create_app
    from app.extensions import db
    from app.services import drafts, form_models
    from app.workflows import get_workflow
    from tests.dat_support import STEPS, to_multidict, valid_answers
    from tests.factories import PASSWORD, make_company, make_establishment, make_user

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "STORAGE_DIR": str(work / "storage"), "RATELIMIT_ENABLED": False}
    )
    with app.app_context():
        form_models.load_models(work / "models")
        company = make_company("Bench BTP")
        establishment = make_establishment(company, departement="57", city="Metz", postal_code="57000")
        user = make_user("bench@exemple.fr", company=company, grants=[(establishment, "*")])
        db.session.commit()
        with app.test_request_context():
            model = form_models.current_workflow("bench-quarante")
            model_draft = drafts.start_draft(user, model, establishment)
            drafts.save_step(
                user, model_draft, model, model.step("intro"), to_multidict({"detail": "oui"}), base_version=1
            )
            dat = get_workflow("dat")
            dat_draft = drafts.start_draft(user, dat, establishment)
            answers = valid_answers()
            employeur = {**dat_draft.answers.get("employeur", {}), **answers["employeur"]}
            saved = drafts.save_step(
                user,
                dat_draft,
                dat,
                dat.step(STEPS[0]),
                to_multidict(employeur),
                base_version=dat_draft.version,
            )
            assert saved.valid, saved.form.errors
            model_id, dat_id = model_draft.id, dat_draft.id

        client = app.test_client()
        token = CSRF_RE.search(client.get("/connexion").get_data(as_text=True)).group(1)
        client.post("/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        targets = {
            "modèle, 40 questions": (f"/demarches/brouillons/{model_id}/etapes/grande", forty),
            "modèle, 20 questions": (f"/demarches/brouillons/{model_id}/etapes/moyenne", twenty),
            "DAT, étape victime": (f"/demarches/brouillons/{dat_id}/etapes/victime", answers["victime"]),
        }
        times: dict[tuple[str, str], list[float]] = {
            (name, kind): [] for name in targets for kind in ("GET", "POST")
        }
        for round_number in range(args.rounds + 5):
            for name, (path, data) in targets.items():
                elapsed, page = timed(lambda path=path: client.get(path))
                body = page.get_data(as_text=True)
                assert page.status_code == 200, (name, page.status_code)
                form = {
                    "csrf_token": CSRF_RE.search(body).group(1),
                    "version": VERSION_RE.search(body).group(1),
                    "action": "continue",
                    **data,
                }
                saved_ms, saved = timed(lambda path=path, form=form: client.post(path, data=form))
                assert saved.status_code == 303, (
                    name,
                    saved.status_code,
                    saved.get_data(as_text=True)[:3000],
                )
                if round_number >= 5:  # the first rounds warm the caches
                    times[(name, "GET")].append(elapsed)
                    times[(name, "POST")].append(saved_ms)

    print(f"{args.rounds} rounds, SQLite, Flask test client (ms: median / p95)")
    medians = {}
    for (name, kind), values in times.items():
        values.sort()
        medians[(name, kind)] = statistics.median(values)
        p95 = values[int(len(values) * 0.95) - 1]
        print(f"  {name:<22} {kind:<4} {medians[(name, kind)]:7.2f} / {p95:7.2f}")
    for size in ("40", "20"):
        for kind in ("GET", "POST"):
            ratio = medians[(f"modèle, {size} questions", kind)] / medians[("DAT, étape victime", kind)]
            print(f"  ratio modèle {size} questions / DAT, 20 champs ({kind}) : {ratio:.2f}")


if __name__ == "__main__":
    main()
