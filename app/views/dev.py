"""Development-only page listing the e-mails the local SMTP sink received (make run). They hold
password-reset links: the page answers only in development (``APP_ENV=development``) and only to a
browser on this machine (the request's address is loopback); anything else gets a 404, as if it did
not exist."""

import ipaddress
from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, request

bp = Blueprint("dev", __name__, url_prefix="/dev")


def _from_this_machine() -> bool:
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.before_request
def development_and_loopback_only():
    if current_app.config["APP_ENV"] != "development" or not _from_this_machine():
        abort(404)


def _mails() -> list[dict]:
    directory = Path(current_app.config["MAIL_SINK_DIR"])
    mails = []
    for path in sorted(directory.glob("*.eml"), reverse=True)[:200]:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        body = message.get_body(preferencelist=("plain", "html"))
        mails.append(
            {
                "name": path.name,
                "to": message["To"],
                "subject": message["Subject"],
                "date": message["Date"],
                "body": body.get_content() if body else "",
            }
        )
    return mails


@bp.get("/courriels")
def mails():
    return render_template("dev/mails.html", mails=_mails())


@bp.get("/courriels/<name>")
def mail(name: str):
    found = [m for m in _mails() if m["name"] == name]
    if not found:
        abort(404)
    return render_template("dev/mail.html", mail=found[0])
