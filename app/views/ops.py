"""What operators' tools read: `/sante` (a load balancer's health check) and `/metrics` (a
Prometheus scrape). Neither needs a sign-in nor opens a session (docs/deployment.md)."""

from flask import Blueprint, Response, abort, jsonify, request

from app.services import health as health_service
from app.services import metrics as metrics_service

bp = Blueprint("ops", __name__)


@bp.get("/sante")
def health():
    """200 when this server can serve (database answers, file store reachable), else 503; the body
    says which check failed, in French."""
    state = health_service.check()
    response = jsonify(
        {
            "statut": "ok" if state.serving else "indisponible",
            "base_de_donnees": state.database,
            "stockage_fichiers": state.file_store,
        }
    )
    response.status_code = 200 if state.serving else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics")
def metrics():
    if not metrics_service.enabled():
        abort(404)
    if not metrics_service.allowed(request.headers.get("Authorization"), request.remote_addr):
        response = jsonify({"error": "forbidden", "message": "Accès aux métriques refusé."})
        response.status_code = 403
        return response
    return Response(
        metrics_service.exposition(),
        content_type=metrics_service.CONTENT_TYPE,
        headers={"Cache-Control": "no-store"},
    )
