"""gunicorn settings, read from the working directory by `make run`, the benchmarks and a deployment."""

import gc


def post_worker_init(worker):
    """Once a worker has loaded the application, move what it keeps for its whole life (SQLAlchemy,
    Jinja, WeasyPrint and fontTools caches) out of the garbage collector's reach: full collections
    walking them made the PDFs' p95 (docs/performance.md, DAT)."""
    gc.collect()
    gc.freeze()
