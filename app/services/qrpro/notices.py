"""The victim's e-mail when the caisse puts a letter in her space (issue 13, items 4 and 6; SPEC §1, §4):
the opening of the instruction, the information on the consultation, the decision. Written by
``letters.issue`` in the letter's own transaction through THE outbox (sent by the worker, retried), so the
e-mail exists exactly when the letter does: once per letter, none for a step that rolled back or was
retried.

Only to her account: while the case has none (the access code is in her paper letter), nothing is sent —
she finds every letter in « Mes dossiers » once she has activated the code. A notice only: the case's
reference, the kind of letter and a link to it behind her sign-in; never the letter's content, the
decision or any medical detail (SPEC §1).
"""

from __future__ import annotations

from flask import current_app

from app.domain.lucie import LETTER_TYPE_LABELS, LetterType
from app.extensions import db
from app.models import Case, CaseLetter, OutboxMessage, User
from app.services import outbox

MAIL_KIND = "qrpro_courrier_victime"


def letter_path(case: Case, row: CaseLetter) -> str:
    """The letter's address in the victim's space, built outside any request (a command, the API)."""
    return current_app.url_map.bind("").build(
        "qrpro_victim.letter", {"case_id": case.id, "letter_id": row.id}
    )


def letter_kept(case: Case, row: CaseLetter) -> OutboxMessage | None:
    """Queue the e-mail telling the victim that ``row`` is in her space, in the caller's transaction; None
    when the case has no victim account (or a closed one): nothing to send then."""
    victim = db.session.get(User, case.victim_id) if case.victim_id is not None else None
    if victim is None or not victim.is_active_account or not victim.email:
        return None
    kind = LETTER_TYPE_LABELS.get(LetterType(row.letter_type), "Courrier")
    caisse = case.caisse.name if case.caisse is not None else "Votre caisse"
    body = "\n".join(
        [
            "Bonjour,",
            "",
            f"{caisse} a mis un nouveau courrier dans votre espace, pour votre dossier {case.reference} :",
            f"« {kind} ».",
            "",
            "Pour le lire, connectez-vous à votre espace Services AT/MP :",
            current_app.config["BASE_URL"] + letter_path(case, row),
            "",
            "Pour votre sécurité, ce message ne contient pas le courrier lui-même.",
            "Ce message est envoyé automatiquement : merci de ne pas y répondre.",
        ]
    )
    return outbox.enqueue(
        victim.email,
        f"Nouveau courrier de votre caisse – dossier {case.reference}",
        body,
        kind=MAIL_KIND,
        related=("case_letter", row.id),
        user_id=victim.id,
    )
