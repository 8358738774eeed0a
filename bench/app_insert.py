"""A second reference for bench/step_save.py: the bare route's insert, served by the application
itself for a signed-in user. It pays what every signed-in request of the platform pays (session
cookie, the user loaded by Flask-Login, CSRF, the security headers, the SQLAlchemy session) and
nothing of the workflow engine (no draft, no authorization, no validation, no audit).

Placed between the bare route and the step save, it tells how much of the gap is the platform's
per-request price and how much is the step save's own work. Benchmark code only: the application
never serves this route.
"""

from __future__ import annotations

from flask import request
from flask_login import login_required

from app import create_app
from app.extensions import db
from bench.bare_app import bench_row

application = create_app()


@application.post("/banc/insertion")
@login_required
def signed_in_insert():
    payload = {"nature": {"nature": request.form.get("nature", "")}}
    db.session.execute(bench_row.insert().values(payload=payload))
    db.session.commit()
    return "", 204
