"""Where one rate notification's time goes, in process: the notification PDF of stored rates rendered
again (Jinja, then WeasyPrint's parsing and layout, then the PDF writing), CPU time per phase, and
optionally a cProfile of the whole. Run it on a database a `bench/compte_notify.py` run left:

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_compte \\
        .venv/bin/python -m bench.compte_render --documents 30 [--profile]

Prints the median CPU time per phase and the page count. With --compare, each notification is rendered
alternately with WeasyPrint's defaults (a new font configuration, the stylesheet inlined and parsed in each
document: what app/services/pdf.py did before) and with pdf.py's shared font configuration and parsed
stylesheet, and the extracted texts are compared. Figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import ROOT  # noqa: F401  (sets the development configuration, puts the app on the path)


def cpu_calibration() -> float:
    """Seconds for 5 million additions in a Python loop (bench/step_save.py's): how fast this machine
    was during the run."""
    start, total = time.perf_counter(), 0
    for i in range(5_000_000):
        total += i
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=30)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--compare", action="store_true")
    args = parser.parse_args()
    if args.compare:
        compare(args.documents)
        return
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.gettempdir()}/bench_compte.sqlite3"

    from flask import render_template
    from sqlalchemy import select
    from weasyprint import HTML

    from app import create_app
    from app.extensions import db
    from app.models import NotifiedRate
    from app.services import pdf
    from app.services.compte import notification

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context(), app.test_request_context():
        rates = list(db.session.scalars(select(NotifiedRate).order_by(NotifiedRate.id).limit(args.documents)))
        if not rates:
            sys.exit("no notified rate: run bench/compte_notify.py on this database first")
        contexts = [
            {
                "establishment": rate.establishment,
                "rate": rate,
                "calc": json.loads(rate.calculation),
                "caisse": None,
                "legal_basis": notification.LEGAL_BASIS,
                "recourse": notification.RECOURSE_NOTICE,
                "mode_labels": notification.MODE_LABELS,
                "reason_labels": notification.REASON_LABELS,
            }
            for rate in rates
        ]
        for context in contexts[:2]:  # warm-up (imports, the first font lookups)
            pdf.render_pdf("pdf/notification_taux.html", **context)
        phases: dict[str, list[float]] = {
            name: [] for name in ("jinja", "parse + layout", "write PDF", "render_pdf")
        }
        pages = []
        profiler = cProfile.Profile() if args.profile else None
        for context in contexts:
            t0 = time.process_time()
            html = render_template("pdf/notification_taux.html", **context)
            t1 = time.process_time()
            document = HTML(string=html, base_url=pdf.static_root().as_uri() + "/").render(
                **getattr(pdf, "render_options", dict)()  # the shared fonts, where pdf.py has them
            )
            t2 = time.process_time()
            document.write_pdf(pdf_tags=True)
            t3 = time.process_time()
            if profiler:
                profiler.enable()
            pdf.render_pdf("pdf/notification_taux.html", **context)
            if profiler:
                profiler.disable()
            t4 = time.process_time()
            pages.append(len(document.pages))
            for name, value in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                phases[name].append(value * 1000)
    calibration = min(cpu_calibration() for _ in range(3))
    print(
        f"# {len(contexts)} notifications, pages {min(pages)}–{max(pages)}; CPU calibration "
        f"{calibration:.2f} s, load average {os.getloadavg()[0]:.1f}"
    )
    for name, values in phases.items():
        print(f"{name}: median {statistics.median(values):.1f} ms CPU (min {min(values):.1f})")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)


def compare(count: int) -> None:
    import io

    from flask import render_template
    from pypdf import PdfReader
    from sqlalchemy import select
    from weasyprint import HTML

    from app import create_app
    from app.extensions import db
    from app.models import NotifiedRate
    from app.services import pdf
    from app.services.compte import notification

    def text(document: bytes) -> str:
        return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.gettempdir()}/bench_compte.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context(), app.test_request_context():
        rates = list(db.session.scalars(select(NotifiedRate).order_by(NotifiedRate.id).limit(count)))
        css = app.jinja_env.loader.get_source(app.jinja_env, pdf.STYLESHEET)[0]
        base = pdf.static_root().as_uri() + "/"
        times: dict[str, list[float]] = {"defaults": [], "shared": []}
        same = 0
        for rate in rates * 2:  # two rounds, alternating the two ways document by document
            html = render_template(
                "pdf/notification_taux.html",
                establishment=rate.establishment,
                rate=rate,
                calc=json.loads(rate.calculation),
                caisse=None,
                legal_basis=notification.LEGAL_BASIS,
                recourse=notification.RECOURSE_NOTICE,
                mode_labels=notification.MODE_LABELS,
                reason_labels=notification.REASON_LABELS,
            )
            inlined = html.replace("</head>", f"<style>{css}</style></head>", 1)
            fetcher = pdf.StaticFilesOnly(pdf.static_root())
            start = time.process_time()
            before = HTML(string=inlined, base_url=base, url_fetcher=fetcher).write_pdf(pdf_tags=True)
            times["defaults"].append((time.process_time() - start) * 1000)
            start = time.process_time()
            after = HTML(string=html, base_url=base, url_fetcher=fetcher).write_pdf(
                pdf_tags=True, **pdf.render_options()
            )
            times["shared"].append((time.process_time() - start) * 1000)
            same += text(before) == text(after)
    calibration = min(cpu_calibration() for _ in range(3))
    load = os.getloadavg()[0]
    print(f"# {len(rates)} notifications × 2 rounds; CPU calibration {calibration:.2f} s, load {load:.1f}")
    for name, values in times.items():
        print(f"{name}: median {statistics.median(values):.1f} ms CPU (min {min(values):.1f})")
    print(f"same extracted text: {same} of {len(times['shared'])}")


if __name__ == "__main__":
    main()
