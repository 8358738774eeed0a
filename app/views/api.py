"""The caisses' HTTP API (SPEC §4): deposit a letter, read back its legal dates.

Authentication is a bearer token per caisse (no cookies), so the blueprint is exempt from CSRF.
Every answer is JSON; errors are ``{"error": "<code>", "message": "<French text>"}``. The
OpenAPI description at /api/v1/openapi.json is kept true by tests/integration/test_api_contract.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, g, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from app.api_spec import (
    CONTROL_CHARACTER,
    REFERENCE_FORBIDDEN,
    SIRET_PATTERN,
    VISIBLE_CHARACTER,
    matches,
    openapi_document,
)
from app.domain.lucie import LetterSource
from app.extensions import csrf, limiter
from app.services import access, lucie
from app.services.api_tokens import caisse_for_token, hash_token
from app.services.lucie import MAX_REFERENCE, MAX_TITLE, DepositRefused

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

ERRORS = {
    400: ("bad_request", "La requête n'a pas pu être comprise."),
    401: (
        "unauthorized",
        "Jeton d'accès absent, invalide ou révoqué : envoyez l'en-tête Authorization: Bearer <jeton>.",
    ),
    403: ("forbidden", "Accès refusé."),
    404: ("not_found", "Ressource introuvable."),
    405: ("method_not_allowed", "Méthode non autorisée sur cette adresse."),
    409: ("conflict", "La ressource a été modifiée entre-temps."),
    413: ("file_too_large", "Le fichier ou la requête dépasse la taille autorisée."),
    415: ("unsupported_media_type", "Le fichier n'est pas un PDF."),
    422: ("invalid_fields", "Des champs sont absents ou invalides."),
    429: ("too_many_requests", "Trop de requêtes : patientez avant de réessayer."),
    500: ("server_error", "Une erreur s'est produite de notre côté ; réessayez dans quelques instants."),
}


def error(status: int, message: str | None = None, code: str | None = None, **extra):
    default_code, default_message = ERRORS.get(status, ERRORS[500])
    body = {"error": code or default_code, "message": message or default_message, **extra}
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    return error(exc.code or 500)


def api_rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", "1200 per minute")


def token_key() -> str:
    """Rate limits count per valid token, and per client address until a token is valid: a made-up
    token must not open a fresh bucket of its own."""
    if _authenticate() is not None:
        return "token:" + hash_token(_bearer() or "")
    return "ip:" + (request.remote_addr or "")


def _bearer() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _authenticate():
    """The caisse of the request's token (looked up once per request: the rate limit asks first)."""
    if "api_caisse" not in g:
        g.api_caisse = caisse_for_token(_bearer())
    return g.api_caisse


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value is not None else None


def letter_json(letter) -> dict:
    return {
        "id": letter.id,
        "siret": letter.establishment.siret,
        "type": letter.letter_type,
        "titre": letter.title,
        "deposited_at": _iso(letter.deposited_at),
        "sha256": letter.sha256,
    }


def _contract_errors(form, upload) -> dict[str, str]:
    """Refusals of the published contract (/api/v1/openapi.json), on the values as sent: the
    description's patterns and lengths, checked the way JSON Schema checks them."""
    errors = {}
    siret = form.get("siret")
    if not siret:
        errors["siret"] = "Indiquez le SIRET de l'établissement destinataire."
    elif not matches(SIRET_PATTERN, siret):
        errors["siret"] = "Le SIRET doit faire 14 chiffres."
    title = form.get("titre")
    if title and (
        len(title) > MAX_TITLE or not matches(VISIBLE_CHARACTER, title) or matches(CONTROL_CHARACTER, title)
    ):
        errors["titre"] = (
            f"Le titre doit faire de 1 à {MAX_TITLE} caractères, dont au moins un visible, sans caractère "
            "de contrôle ni retour à la ligne."
        )
    reference = form.get("reference_dossier")
    if reference and (len(reference) > MAX_REFERENCE or matches(REFERENCE_FORBIDDEN, reference)):
        errors["reference_dossier"] = (
            f"La référence du dossier doit faire au plus {MAX_REFERENCE} caractères : lettres, chiffres, "
            "espaces et les signes . / _ -, en commençant par une lettre ou un chiffre."
        )
    if upload is None and "fichier" in form:
        errors["fichier"] = (
            "Joignez le courrier comme fichier (une partie multipart avec un nom de fichier), au format PDF."
        )
    return errors


@bp.post("/courriers")
@limiter.limit(api_rate_limit, key_func=token_key)
def create_letter():
    caisse = _authenticate()
    if caisse is None:
        return error(401)
    form, files = request.form, request.files  # a body over MAX_CONTENT_LENGTH raises 413 here
    upload = files.get("fichier") or None  # a part without a file name is no file
    try:
        if contract_errors := _contract_errors(form, upload):
            field_errors = lucie.validate_fields(
                form.get("type"), form.get("titre"), form.get("reference_dossier"), upload
            )
            errors = {**field_errors, **contract_errors}
            raise DepositRefused("invalid_fields", " ".join(errors.values()), status=422, errors=errors)
        establishment = lucie.establishment_by_siret(form["siret"].strip())
        if establishment is not None and not access.caisse_covers(caisse, establishment):
            establishment = None  # another caisse's territory: as unknown as a wrong SIRET
        result = lucie.deposit_letter(
            establishment=establishment,
            letter_type=form.get("type"),
            title=form.get("titre"),
            case_reference=form.get("reference_dossier"),
            document=upload.stream if upload else None,
            filename=upload.filename if upload else None,
            source=LetterSource.API,
            caisse=caisse,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
    except DepositRefused as refusal:
        extra = {"fields": refusal.errors} if refusal.status == 422 and refusal.errors else {}
        return error(refusal.status, refusal.message, refusal.code, **extra)
    response = jsonify(letter_json(result.letter))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_letter", letter_id=result.letter.id)
    if not result.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/courriers/<int:letter_id>")
@limiter.limit(api_rate_limit, key_func=token_key)
def get_letter(letter_id: int):
    caisse = _authenticate()
    if caisse is None:
        return error(401)
    letter = lucie.letter_for_caisse(caisse, letter_id)
    if letter is None:
        return error(404, "Aucun courrier de votre caisse ne porte ce numéro.")
    dates = lucie.letter_dates(letter)
    return jsonify(
        {
            **letter_json(letter),
            "reference_dossier": letter.case_reference,
            "alert_sent_at": _iso(dates.alert_sent_at),
            "first_consulted_at": _iso(dates.first_consulted_at),
            "deemed_notified_at": _iso(dates.deemed_notified_at),
            "appeal_deadline": dates.appeal_deadline.isoformat() if dates.appeal_deadline else None,
        }
    )


@bp.get("/openapi.json")
def openapi():
    config = current_app.config
    return jsonify(openapi_document(config["BASE_URL"], config["MAX_UPLOAD_BYTES_PER_FILE"]))
