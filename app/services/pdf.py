"""THE PDF rendering service: an HTML template of app/templates/pdf/ rendered by WeasyPrint.

Fonts come from the system (Liberation Sans, DejaVu Sans through fontconfig). WeasyPrint never
touches the network: its URL fetcher serves only files under app/static/ and refuses anything else
(http, data beyond our files, other local paths), so a typed answer can never make the server
fetch a URL.

Every PDF is tagged (RGAA 4.1, criterion 13.3; issue 10): WeasyPrint writes the structure tree
(headings, paragraphs, tables, lists) read by screen readers, marks the document as tagged
(``/MarkInfo``), and shows its title rather than its file name (``DisplayDocTitle``). The language
(``/Lang``) comes from the template's ``<html lang>``, the title (``/Title``) from its ``<title>``.
We do not claim PDF/UA conformance (WeasyPrint calls its PDF/UA support experimental, and no PDF/UA
validator runs here): ``pdf_variant="pdf/ua-1"`` would write that claim.

Each thread keeps one font configuration (fontconfig's font set and Pango's font map, with the fonts
loaded and their shaping caches) and the parsed stylesheet ``pdf/_styles.css`` across documents, instead
of WeasyPrint's default of a new font configuration and a stylesheet parsed again in every document: about
a quarter less CPU per document (docs/performance.md, « Compte AT/MP »). Per thread, as Pango's font maps
are not shared between threads. The documents are the same (same fonts, same rules, same text).
"""

from __future__ import annotations

import atexit
import gc
import logging
import mimetypes
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

from blinker import Namespace
from flask import current_app, has_request_context, render_template
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)

PDF_MEDIA_TYPE = "application/pdf"
STYLESHEET = "pdf/_styles.css"  # every PDF's rules (templates extend pdf/_base.html, which has no <style>)

# Sent before each rendering with the template's name: a receiver can count, time or hold renders
# (the test that a submit's receipt renders outside the reference counter's lock holds one).
rendering = Namespace().signal("pdf-rendering")


class StaticFilesOnly(URLFetcher):
    """A WeasyPrint fetcher that serves the application's static files and nothing else."""

    def __init__(self, root: str | Path):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.root = Path(root).resolve()

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        parsed = urlparse(url)
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            raise ValueError(f"PDF rendering fetches no remote resource: {url[:80]}")
        path = Path(unquote(parsed.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise ValueError(f"PDF rendering serves only static files: {url[:80]}")
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), body=path.read_bytes(), headers={"Content-Type": media_type})


def static_root() -> Path:
    return Path(current_app.static_folder).resolve()


_shared = threading.local()


@atexit.register
def _release() -> None:
    """Drop the font configuration before the interpreter tears down: left to the interpreter's last
    collection, its fontconfig and Pango objects are freed after their libraries' own state, and a command
    that rendered a PDF (`flask demo load` on a fresh database) ended in a segmentation fault."""
    _shared.__dict__.clear()
    gc.collect()


def render_options() -> dict:
    """The font configuration and parsed stylesheet of this thread, for WeasyPrint's ``render`` and
    ``write_pdf``. The stylesheet is parsed again when its source changed (a template reload)."""
    if getattr(_shared, "fonts", None) is None:
        _shared.fonts = FontConfiguration()
        _shared.css_source, _shared.css = None, None
    source = current_app.jinja_env.loader.get_source(current_app.jinja_env, STYLESHEET)[0]
    if source != _shared.css_source:
        root = static_root()
        _shared.css = CSS(
            string=source,
            base_url=f"{root.as_uri()}/",
            url_fetcher=StaticFilesOnly(root),
            font_config=_shared.fonts,
        )
        _shared.css_source = source
    return {"font_config": _shared.fonts, "stylesheets": [_shared.css]}


def render_pdf(template: str, **context) -> bytes:
    """The PDF of ``template`` (a Jinja template rendered with ``context``). Relative URLs in it
    resolve against app/static/."""
    rendering.send(current_app._get_current_object(), template=template)
    if has_request_context():
        html = render_template(template, **context)
    else:  # a command (the demo data): the app's context processors read the request
        with current_app.test_request_context():
            html = render_template(template, **context)
    root = static_root()
    document = HTML(string=html, base_url=f"{root.as_uri()}/", url_fetcher=StaticFilesOnly(root))
    return document.write_pdf(pdf_tags=True, **render_options())
