"""``send_document()``: the one way a route sends a document (an uploaded file, a LUCIE letter, a PDF
the platform makes), so that none of them can run anything in our origin.

Every document answers with ``Content-Security-Policy: sandbox``: should a browser ever treat it as
a page (an SVG, HTML passed off as a PDF, a PDF viewer running its JavaScript), it runs in an opaque
origin with no scripts, no forms, no access to the session — and ``nosniff`` keeps the declared type.
Only a document known to be a plain PDF is shown in the browser (``inline``); anything else is a
download (``attachment``)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, make_response

PDF = "application/pdf"


def send_document(
    data: bytes,
    filename: str,
    *,
    media_type: str = PDF,
    inline: bool = False,
    framed_here: bool = False,
) -> Response:
    """A response carrying ``data`` as ``filename``.

    ``inline``: shown in the browser (only for PDFs without active content: the platform's own, a
    caisse's letter, an upload checked at upload time); otherwise downloaded. ``framed_here``: the
    page that shows it embeds it in an ``<iframe>`` of this site (a LUCIE letter); no other site may
    frame it either way."""
    response = make_response(data)
    response.headers["Content-Type"] = media_type
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(filename, safe='')}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if framed_here:
        response.headers["Content-Security-Policy"] = "sandbox; frame-ancestors 'self'"
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    else:
        response.headers["Content-Security-Policy"] = "sandbox; frame-ancestors 'none'"
    return response
