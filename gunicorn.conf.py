"""gunicorn settings, read from the working directory by `make run`, the benchmarks and a deployment."""

import gc
import html
import signal
import sys

from gunicorn.workers.base import Worker

# gunicorn ≥ 25.1 opens a control socket at $XDG_RUNTIME_DIR/gunicorn.ctl (or ~/.gunicorn/): one path
# for every instance of the same user, so a second instance (another port, a test, a benchmark) takes
# it over from the first. Nothing here uses gunicornc. Older gunicorns ignore the unknown setting.
control_socket_disable = True

# The longest request line gunicorn accepts (its maximum). The application refuses a URL longer than
# its own MAX_URL_LENGTH with a French 414 page (app/web.py); beyond this, gunicorn answers itself, in
# French too (below).
limit_request_line = 8190

# What gunicorn answers by itself, before the application sees the request (a request line or headers
# too long, a malformed request): French, like the application's error pages, and without echoing any
# of the request back.
GUNICORN_ERRORS = {
    400: ("Requête incorrecte", "La requête n'a pas pu être comprise. Revenez en arrière et réessayez."),
    414: (
        "Adresse trop longue",
        "L'adresse de la page demandée est trop longue. Revenez en arrière, ou repartez de l'accueil.",
    ),
    431: (
        "Requête trop volumineuse",
        "La requête envoyée est trop volumineuse. Revenez en arrière et réessayez.",
    ),
}
OTHER_ERROR = ("Erreur", "La requête n'a pas pu être traitée. Réessayez dans quelques instants.")


def write_error_in_french(sock, status_int, reason, mesg):
    """gunicorn.util.write_error's replacement: the same response, in French."""
    from gunicorn import util

    title, text = GUNICORN_ERRORS.get(status_int, OTHER_ERROR)
    body = (
        '<!DOCTYPE html>\n<html lang="fr">\n<head><meta charset="utf-8">'
        f"<title>{html.escape(title)} – Services AT/MP</title></head>\n"
        f"<body><h1>{html.escape(title)}</h1>\n<p>{html.escape(text)}</p>\n"
        '<p><a href="/">Revenir à l\'accueil</a></p></body>\n</html>\n'
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: text/html; charset=utf-8\r\nContent-Language: fr\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1")
    util.write_nonblock(sock, head + body)


def on_starting(server):
    """Check the configuration once, before any worker starts: a refusal (app/config.py, e.g. the
    development key or per-worker rate limits in production) stops gunicorn with its reason, instead
    of every worker failing to boot. Another application served with this file (the Django peer of
    ../shared/peer-bench, which borrows it for the same gunicorn settings) has no `app` package: nothing
    to check then."""
    try:
        from app.config import ConfigError, load_config
    except ModuleNotFoundError:
        return

    try:
        config = load_config()
    except ConfigError as error:
        sys.exit(f"Configuration refused: {error}")
    from app.services.metrics import reset_directory

    reset_directory(config.get("METRICS_DIR"))  # the workers' latency counts start from zero


def post_worker_init(worker):
    """Once a worker has loaded the application, move what it keeps for its whole life (SQLAlchemy,
    Jinja, WeasyPrint and fontTools caches) out of the garbage collector's reach: full collections
    walking them made the PDFs' p95 (docs/performance.md, DAT). And answer gunicorn's own errors in
    French."""
    from gunicorn import util

    util.write_error = write_error_in_french
    quit_once(worker)
    gc.collect()
    gc.freeze()


def quit_once(worker):
    """A worker told to quit (SIGINT, SIGQUIT) leaves its thread pool alone and takes the order once.

    gthread's own quit handler shuts its thread pool down from inside the signal handler, which takes
    the pool's lock; when the order lands while the worker's main thread is handing a connection to
    that pool (holding that same lock), the handler waits for a lock its own thread holds, and the
    worker hangs until the master's graceful timeout kills it (30 s). Ctrl-C in a terminal made it
    likelier (each worker has SIGINT twice, from the terminal and from the master), but one order at
    the wrong moment was enough. Here the worker quits as gunicorn's base worker does (stop, then
    SystemExit, which releases every lock on its way out); the pool's idle threads end at the
    interpreter's exit, which concurrent.futures already waits for. The flag is read and set with no
    call or backward jump between the two, where CPython runs signal handlers, so a second order
    returns at once instead of quitting again inside the first."""
    quitting = False

    def handle_quit_once(sig, frame):
        nonlocal quitting
        if quitting:
            return
        quitting = True
        Worker.handle_quit(worker, sig, frame)

    for each in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(each, handle_quit_once)
