from flask import Blueprint, render_template
from flask_login import current_user, login_required

from app.services.uploads import StoredFileCorrupted, get_upload
from app.views.documents import send_document

bp = Blueprint("files", __name__, url_prefix="/fichiers")


@bp.get("/<int:upload_id>")
@login_required
def download(upload_id: int):
    try:
        upload, data = get_upload(upload_id, current_user)
    except (StoredFileCorrupted, FileNotFoundError):
        # Never serve a file whose bytes changed since it was stored.
        return render_template(
            "errors/error.html",
            code=500,
            title="Fichier altéré",
            text="Ce fichier ne correspond plus à l'original enregistré : il ne peut pas être affiché. "
            "Contactez votre caisse si vous en avez besoin.",
        ), 500
    # Shown in the browser only when it is a PDF checked at upload and found plain.
    return send_document(data, upload.filename, media_type=upload.media_type, inline=upload.served_inline)
