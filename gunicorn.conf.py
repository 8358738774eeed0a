"""gunicorn settings, read from the working directory by `make run`, the benchmarks and a deployment."""

import gc
import html
import signal
import sys

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
    """A worker told to quit stops listening for that order. Ctrl-C in a terminal sends SIGINT to the
    whole process group, so each worker has it twice, from the terminal and from the master; the
    second, arriving while gthread's quit handler shut its thread pool down, ran the handler again
    inside itself, which waited for the pool's lock held by the first: the worker hung until the
    master's graceful timeout killed it (30 s), one Ctrl-C of `make run` in about twenty. The flag is
    read and set with no call or backward jump between the two, where CPython runs signal handlers, so
    a second order cannot pass the test before the first has set it."""
    handle_quit = worker.handle_quit
    quitting = False

    def handle_quit_once(sig, frame):
        nonlocal quitting
        if quitting:
            return
        quitting = True
        handle_quit(sig, frame)

    for each in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(each, handle_quit_once)
