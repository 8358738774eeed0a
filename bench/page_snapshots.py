"""The HTML of many pages, written to a folder, to compare two versions of the code (run by hand, not a
test): a change meant to make rendering cheaper must leave every page byte for byte as it was.

    .venv/bin/python -m bench.page_snapshots /tmp/pages-after
    (cd ../other-checkout && .venv/bin/python -m bench.page_snapshots /tmp/pages-before)
    diff -r /tmp/pages-before /tmp/pages-after

On a fresh SQLite database with the demo data (`flask demo load`), the clock stopped at one moment and
Python's random generator seeded, each demo account signs in and visits the pages its links lead to,
breadth first, in a fixed order (up to ``--pages`` each); the employer also fills a whole DAT: each
step's page, the step sent empty (422, every error shown), then sent valid, then « Vérifier vos
réponses ». Only text/html answers are written. What differs from one run to the next whatever the
code is replaced before writing: the CSRF token and the deposit form's random idempotency key. A
redirect is followed (a draft's address leads to its step)."""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import urllib.parse
from collections import deque
from datetime import datetime
from pathlib import Path

from bench.support import fresh_database

MOMENT = "2026-12-08T10:30"  # a Tuesday morning in Paris (no public holiday near)
ACCOUNTS = (
    "employeur@demo.test",
    "admin@demo.test",
    "cabinet@demo.test",
    "agent.cpam@demo.test",
    "agent.carsat@demo.test",
    "operateur@demo.test",
)
LINK_RE = re.compile(r'href="(/[^"#]*)"')
CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
TOKEN_RE = re.compile(
    r'(csrf_token" (?:type="hidden" )?value=")[^"]+"|("X-CSRFToken": ")[^"]+"|(csrf-token" content=")[^"]+"'
    r'|(name="idempotency_key" type="hidden" value=")[^"]+"'
)
# Never followed: leaving the session, files, and pages that only differ by a number of the list.
SKIPPED = re.compile(r"^/(deconnexion|static/)|/document|\.pdf$|/pdf|/telecharger|/fichiers/")
DAT_STEPS = ("employeur", "victime", "accident", "lesions", "connaissance", "temoins", "reserves")


def _normalized(html: str) -> str:
    return TOKEN_RE.sub(lambda m: next(g for g in m.groups() if g) + 'TOKEN"', html)


class Writer:
    def __init__(self, out: Path):
        self.out = out
        self.count = 0

    def write(self, who: str, label: str, response) -> None:
        if not response.content_type.startswith("text/html"):
            return
        self.count += 1
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_")[:120] or "root"
        path = self.out / who / f"{self.count:04d}_{name}_{response.status_code}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_normalized(response.get_data(as_text=True)))


def sign_in(client, email: str, password: str) -> str:
    page = client.get("/connexion").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    response = client.post("/connexion", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code in (302, 303), (email, response.status_code)
    return CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)


def crawl(client, writer: Writer, who: str, limit: int) -> None:
    seen, queue, visited = {"/"}, deque(["/"]), 0
    while queue and visited < limit:
        path = queue.popleft()
        response = client.get(path, follow_redirects=True)  # a draft's address leads to its step
        visited += 1
        writer.write(who, path, response)
        if not response.content_type.startswith("text/html"):
            continue
        for link in sorted(set(LINK_RE.findall(response.get_data(as_text=True)))):
            link = urllib.parse.unquote(link.replace("&amp;", "&"))
            if link not in seen and not SKIPPED.search(link):
                seen.add(link)
                queue.append(link)


def fill_a_declaration(client, writer: Writer, token: str, establishment_id: int, prefill: dict) -> None:
    from tests.dat_support import valid_answers

    answers = valid_answers()
    response = client.post(
        "/demarches/dat/commencer", data={"csrf_token": token, "establishment": str(establishment_id)}
    )
    draft_id = int(re.search(r"/brouillons/(\d+)/", response.headers["Location"]).group(1))
    for step in DAT_STEPS:
        url = f"/demarches/brouillons/{draft_id}/etapes/{step}"
        page = client.get(url)
        writer.write("dat", f"{step}", page)
        version = re.search(r'name="version" value="(\d+)"', page.get_data(as_text=True)).group(1)
        empty = client.post(url, data={"csrf_token": token, "version": version, "action": "continue"})
        writer.write("dat", f"{step}-empty", empty)
        htmx = client.get(url, headers={"HX-Request": "true"})
        writer.write("dat", f"{step}-htmx", htmx)
        version = re.search(r'name="version" value="(\d+)"', htmx.get_data(as_text=True)).group(1)
        data = dict(answers[step]) | (prefill if step == "employeur" else {})
        saved = client.post(url, data={**data, "csrf_token": token, "version": version, "action": "continue"})
        assert saved.status_code == 303, (step, saved.status_code, saved.get_data(as_text=True)[:2000])
    writer.write("dat", "check-answers", client.get(f"/demarches/brouillons/{draft_id}/verifier"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=120, help="pages visited per account")
    args = parser.parse_args()
    import time_machine

    from app.domain.calendars import PARIS

    traveller = time_machine.travel(datetime.fromisoformat(MOMENT).replace(tzinfo=PARIS), tick=False)
    traveller.start()
    random.seed(11)
    work = Path(tempfile.mkdtemp(prefix="page-snapshots-"))
    url, storage = f"sqlite:///{work / 'pages.sqlite3'}", work / "storage"
    fresh_database(url, storage)
    import logging

    logging.disable(logging.WARNING)
    from app import create_app
    from app.demo import DEMO_PASSWORD, load_demo
    from app.extensions import db
    from app.models import Establishment, User

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "STORAGE_DIR": str(storage), "RATELIMIT_ENABLED": False}
    )
    with app.app_context():
        for _ in load_demo():
            pass
        employer = db.session.scalar(db.select(User).where(User.email == "employeur@demo.test"))
        place = db.session.get(Establishment, sorted(e.id for e in employer.company.establishments)[0])
        prefill = {
            "siret": place.siret,
            "raison_sociale": employer.company.name,
            "adresse": place.address,
            "code_postal": place.postal_code,
            "commune": place.city,
            "code_risque": place.code_risque,
        }
        place_id = place.id
        db.session.remove()
    writer = Writer(args.out)
    for email in ACCOUNTS:
        with app.test_client() as client:
            token = sign_in(client, email, DEMO_PASSWORD)
            if email == "employeur@demo.test":
                fill_a_declaration(client, writer, token, place_id, prefill)
            crawl(client, writer, email.split("@")[0], args.pages)
    traveller.stop()
    print(f"{writer.count} pages written to {args.out}")


if __name__ == "__main__":
    sys.exit(main())
