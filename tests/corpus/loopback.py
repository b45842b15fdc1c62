"""A real HTTP server on loopback for a test module: werkzeug's threaded server in a thread, and a
watch on everything the server side logs, so that a traceback anywhere fails the test that caused it."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


class Problems(logging.Handler):
    """Log records with a traceback or at ERROR and above, and exceptions that escaped a thread."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR or "Traceback" in record.getMessage():
            self.seen.append(f"{record.name} {record.levelname}: {record.getMessage()}")

    def thread_died(self, args: threading.ExceptHookArgs) -> None:
        self.seen.append(f"thread {args.thread}: {args.exc_type.__name__}: {args.exc_value}")

    def take(self) -> list[str]:
        seen, self.seen = self.seen, []
        return seen


@dataclass
class Loopback:
    """A WSGI app served on 127.0.0.1 until the context ends."""

    url: str
    port: int
    problems: Problems
    server: BaseWSGIServer

    def raw(self, data: bytes, then: bytes | None = None, timeout: float = 10.0) -> tuple[int, bytes]:
        """Send ``data`` on a socket of its own, read the answer's status and body; ``then`` is sent
        only after the answer came (never, when the server answers before reading it)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(data)
            answer = _read_response(sock)
            if then is not None:
                with suppress(OSError):  # the server closed the connection after answering: as it should
                    sock.sendall(then)
        head, _, body = answer.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        return status, body


def _read_response(sock: socket.socket) -> bytes:
    """Read until the server closes the connection or its Content-Length is complete."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length" and len(body) >= int(value):
                    return data
    return data


@contextmanager
def serve(app: Any) -> Iterator[Loopback]:
    """Serve ``app`` on a free loopback port, with its logs and threads watched."""
    problems = Problems()
    root = logging.getLogger()
    root.addHandler(problems)
    previous_hook = threading.excepthook
    threading.excepthook = problems.thread_died
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="loopback", daemon=True)
    thread.start()
    try:
        yield Loopback(f"http://127.0.0.1:{server.server_port}", server.server_port, problems, server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        threading.excepthook = previous_hook
        root.removeHandler(problems)


class Quiet:
    """Silence werkzeug's access log (one line per request) while the corpus runs."""

    def __enter__(self) -> None:
        self._level = logging.getLogger("werkzeug").level
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        logging.getLogger("werkzeug").setLevel(self._level)
