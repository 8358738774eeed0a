"""Benchmark: `flask compte notify --year 2025` on N establishments (one company each, headcounts spread
over the three modes, three years of wages and a few claims each, subscribed to LUCIE), run as the real
command in a child process. Prints the time, the child's peak memory (max RSS) and per establishment;
with --interrupt S the first run is killed after S seconds and a second run finishes the job (resumable:
the proof counts one rate and one letter per establishment, none twice). --workers N: the command's
own parallel run (N processes, one shard each). Peak RSS: the largest of the command's processes. CPU:
the user + system time of the command's processes (not PostgreSQL's). Each run prints the machine's CPU
calibration (bench/step_save.py's: seconds for 5 million additions, 0.15 s on a quiet machine) and its
load average before and after, as the machine is shared.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_compte \\
        .venv/bin/python bench/compte_notify.py --establishments 300 --workers 2 --interrupt 20

It wipes the database it is given. See docs/performance.md for figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compte_render import cpu_calibration
from support import ROOT, VENV_BIN, app_env, fresh_database


def seed(url: str, storage: Path, count: int) -> None:
    from sqlalchemy import insert

    from app import create_app
    from app.extensions import db
    from app.models import Caisse, Claim, Company, Establishment, LucieSubscription, RateProfile, WageYear
    from app.services import compte
    from tests.factories import luhn_complete

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "STORAGE_DIR": str(storage)})
    with app.app_context():
        db.session.add(Caisse(name="Carsat Alsace-Moselle", kind="carsat", departements="57 67 68"))
        db.session.commit()
        for kind in compte.KINDS:
            compte.load_reference_file(kind)
        compte.load_reference(
            "taux-collectifs",
            b"year,code_risque,region,label,rate_pct\n2025,26.6AA,alsace_moselle,Bench,5.20\n",
            filename="bench.csv",
        )
        for start in range(0, count, 1000):
            chunk = range(start + 1, min(count, start + 1000) + 1)
            companies = [{"siren": luhn_complete(f"{70000000 + n:08d}"), "name": f"Bench {n}"} for n in chunk]
            db.session.execute(insert(Company), companies)
            ids = dict(
                db.session.execute(
                    db.select(Company.siren, Company.id).where(Company.name.like("Bench %"))
                ).all()
            )
            establishments = [
                {
                    "company_id": ids[c["siren"]],
                    "siret": luhn_complete(f"{c['siren']}0001"),
                    "name": c["name"],
                    "address": "1 rue",
                    "postal_code": "57000",
                    "city": "Metz",
                    "departement": "57",
                    "code_risque": "26.6AA",
                    "headcount": 0,
                    "is_head_office": True,
                }
                for c in companies
            ]
            db.session.execute(insert(Establishment), establishments)
            est_ids = [
                row[0]
                for row in db.session.execute(
                    db.select(Establishment.id).where(
                        Establishment.siret.in_([e["siret"] for e in establishments])
                    )
                )
            ]
            db.session.execute(
                insert(RateProfile),
                [
                    {
                        "establishment_id": i,
                        "ctn": "A",
                        "btp": False,
                        "taux_unique": False,
                        "always_collective": False,
                    }
                    for i in est_ids
                ],
            )
            db.session.execute(
                insert(LucieSubscription), [{"establishment_id": i, "active": True} for i in est_ids]
            )
            wages, claims = [], []
            for i in est_ids:
                headcount = (30, 80, 200)[i % 3]  # collective, mixed, individual in Alsace-Moselle
                for year in (2021, 2022, 2023):
                    wages.append(
                        {
                            "establishment_id": i,
                            "year": year,
                            "wages": Decimal(headcount * 30000),
                            "headcount": headcount,
                            "hours": headcount * 1600,
                        }
                    )
                    claims.append(
                        {
                            "establishment_id": i,
                            "reference": f"B-{i}-{year}",
                            "kind": "at",
                            "recognised_on": date(year, 6, 1),
                            "imputation_year": year,
                            "stoppage_days": (i + year) % 60,
                            "death": False,
                            "source": "import",
                        }
                    )
            db.session.execute(insert(WageYear), wages)
            db.session.execute(insert(Claim), claims)
            db.session.commit()
        db.engine.dispose()


def run_notify(env: dict, interrupt: float | None, workers: int) -> tuple[float, int]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(VENV_BIN / "flask"), "compte", "notify", "--year", "2025", "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    if interrupt:
        try:
            process.wait(interrupt)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # a crash: no clean shutdown
    out, _ = process.communicate()
    elapsed = time.perf_counter() - started
    if out:
        print(out.decode().strip())
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--establishments", type=int, default=300)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--interrupt", type=float, default=None, help="kill the first run after S seconds")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.gettempdir()}/bench_compte.sqlite3"
    storage = Path(tempfile.mkdtemp(prefix="bench-compte-"))
    fresh_database(url, storage)
    t0 = time.perf_counter()
    seed(url, storage, args.establishments)
    print(f"seed: {args.establishments} establishments in {time.perf_counter() - t0:.1f} s")
    env = app_env(url, storage)
    env["FLASK_APP"] = "wsgi.py"
    calibration = min(cpu_calibration() for _ in range(3))
    load_before = os.getloadavg()[0]
    cpu_before = children_cpu()
    total = 0.0
    if args.interrupt:
        elapsed, _ = run_notify(env, args.interrupt, args.workers)
        total += elapsed
        print(f"first run killed after {elapsed:.1f} s")
    elapsed, max_rss = run_notify(env, None, args.workers)
    total += elapsed
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rates = conn.execute(
            text("SELECT count(*), count(DISTINCT establishment_id) FROM compte_notified_rate")
        ).one()
        letters = conn.execute(text("SELECT count(*) FROM letter")).scalar()
        no_letter = conn.execute(
            text("SELECT count(*) FROM compte_notified_rate WHERE letter_id IS NULL")
        ).scalar()
    engine.dispose()
    per = total / args.establishments * 1000
    cpu = (children_cpu() - cpu_before) / args.establishments * 1000
    print(
        f"notify: {total:.1f} s in all, {per:.0f} ms per establishment ({cpu:.0f} ms CPU of the command), "
        f"peak RSS {max_rss / 1024:.0f} MiB; rates {rates[0]} ({rates[1]} establishments), "
        f"letters {letters}, "
        f"rates without letter {no_letter}; CPU calibration {calibration:.2f} s, load average "
        f"{load_before:.1f} → {os.getloadavg()[0]:.1f}, workers {args.workers}"
    )
    assert rates[0] == rates[1] == letters == args.establishments and no_letter == 0


if __name__ == "__main__":
    main()
