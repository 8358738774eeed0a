"""A tiny PDF writer for tests and benchmarks: one or more A4 pages of plain text in Helvetica.

Real readers (browsers, pypdf, poppler) open its output: the cross-reference table carries the
exact byte offset of every object. It stands for what arrives from outside (a caisse's letter, an
employer's attachment), which may be untagged, and costs nothing to make. It is not tagged: the
application's own PDFs, the demo letters included, go through :mod:`app.services.pdf` (WeasyPrint,
tagged, in French, titled), and nothing in ``app/`` calls this module.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 56
LINES_PER_PAGE = 52
WRAP = 90


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _page_stream(title: str | None, lines: list[str]) -> bytes:
    out = [b"BT", f"{MARGIN} {PAGE_HEIGHT - MARGIN} Td".encode()]
    if title is not None:
        out += [b"/F2 14 Tf 18 TL", b"(" + _escape(title) + b") Tj T*", b"T*"]
    out += [b"/F1 11 Tf 14 TL"]
    out += [b"(" + _escape(line) + b") Tj T*" for line in lines]
    out.append(b"ET")
    return b"\n".join(out)


def make_pdf(
    title: str, paragraphs: list[str] | tuple[str, ...] = (), *, created: datetime | None = None
) -> bytes:
    """A PDF document whose first page starts with ``title`` in bold, then ``paragraphs`` wrapped
    to the page width (an empty string is a blank line)."""
    lines: list[str] = []
    for paragraph in paragraphs:
        lines.extend(textwrap.wrap(paragraph, WRAP) or [""])
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)] or [[]]

    # Objects: 1 catalog, 2 page tree, 3 regular font, 4 bold font, 5 info, then page + content pairs.
    page_ids = [6 + 2 * i for i in range(len(pages))]
    stamp = (created or datetime.now(UTC)).strftime("D:%Y%m%d%H%M%SZ")
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids ["
        + b" ".join(f"{p} 0 R".encode() for p in page_ids)
        + f"] /Count {len(pages)} >>".encode(),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        4: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        5: b"<< /Title ("
        + _escape(title)
        + b") /Producer (Services AT/MP) /CreationDate ("
        + stamp.encode()
        + b") >>",
    }
    for index, (page_id, page_lines) in enumerate(zip(page_ids, pages, strict=True)):
        stream = _page_stream(title if index == 0 else None, page_lines)
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
            f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {page_id + 1} 0 R >>"
        ).encode()
        objects[page_id + 1] = f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream"

    body = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(body)
        body += f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n"
    xref_at = len(body)
    size = max(objects) + 1
    body += f"xref\n0 {size}\n".encode() + b"0000000000 65535 f \n"
    for number in range(1, size):
        body += f"{offsets[number]:010d} 00000 n \n".encode()
    body += f"trailer\n<< /Size {size} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(body)
