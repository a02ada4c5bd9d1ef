"""Running the web platform under uvicorn on a listening socket bound here.

    from safetynet.api.server import run
    run(host="127.0.0.1", port=8000, workers=2)

Why not `uvicorn.run(..., workers=N)`: uvicorn 0.54 binds the socket of a multi-worker server
without naming its protocol (`socket.socket(AF_INET)`, proto 0). Accepted connections inherit
that, and asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets that say they are
TCP. With Nagle on, a response written in two parts (uvicorn writes headers, then body) waits
for the client's delayed ACK: about 40 ms on every request of a kept-alive connection after
its first (uvicorn issue #3149, open). Measured here at 1M persons: a household detail took
48 ms from one client instead of 2.5, and a browser paid it on each call of a page. So the
socket is bound here as TCP and handed to uvicorn; one code path for one worker or many.
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

from safetynet.files import make_private

APP = "safetynet.api.app:create_app"
# How long a worker may take to start before uvicorn replaces it: a spawned worker imports the
# command line and then the app, longer than uvicorn's default 5 s on a busy machine.
WORKER_STARTUP_SECONDS = 60


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP listening socket bound to (host, port) whose accepted connections asyncio sets
    to TCP_NODELAY, inheritable by worker processes."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def run(*, host: str, port: int, workers: int = 1, app: object = APP, access_log: bool = True,
        log_level: str = "info") -> None:
    """Serve `app` (an import string of the app factory, required for several workers, or an
    app object for one) until interrupted."""
    if workers > 1 and not isinstance(app, str):
        raise ValueError("several workers need the app as an import string (each builds its own)")
    # everything the server and its workers (which inherit the umask) create is private: the
    # database, the lake, attachments, exports' temporary files hold personal data
    make_private()
    config = uvicorn.Config(app, factory=isinstance(app, str), host=host, port=port, workers=workers,
                            log_level=log_level, access_log=access_log,
                            timeout_worker_healthcheck=WORKER_STARTUP_SECONDS)
    sock = listening_socket(host, port)
    try:
        if workers > 1:
            Multiprocess(config, sockets=[sock]).run()
        else:
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
