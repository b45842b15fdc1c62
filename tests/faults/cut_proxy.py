"""A TCP proxy on loopback that a test controls: it passes traffic to a real server (PostgreSQL,
Redis), and on command refuses connections (the server down), swallows them (a server that accepts and
never answers: a dead host, a stalled process), or cuts a connection mid-way (a
failure in the middle of a turn: at the first write carrying a marker). Nothing is mocked: the service talks to the real server through it."""

from __future__ import annotations

import selectors
import socket
import threading
from contextlib import suppress

PASS, REFUSE, SWALLOW = "pass", "refuse", "swallow"


class CutProxy:
    """127.0.0.1:``port`` → ``target``, in one of three modes; ``cut_at(marker)`` cuts the connection
    whose client sends ``marker`` (that write is not passed on) and then refuses every connection."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode = PASS
        self._cut_at: bytes | None = None
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._mutex = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="cut-proxy", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ the controls

    def set(self, mode: str) -> None:
        """Switch mode; every open connection is closed (the clients see their server go)."""
        self.mode = mode
        self._cut_at = None
        self.close_all()

    def cut_at(self, marker: bytes) -> None:
        self._cut_at = marker

    def close_all(self) -> None:
        with self._mutex:
            sockets, self._open = self._open, set()
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                sock.close()

    def stop(self) -> None:
        self._stopped.set()
        with suppress(OSError):
            self._listener.close()
        self.close_all()
        self._thread.join(timeout=5)

    # ------------------------------------------------------------ the plumbing

    def _keep(self, *sockets: socket.socket) -> None:
        with self._mutex:
            self._open.update(sockets)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == REFUSE:
                client.close()
                continue
            self._keep(client)
            if self.mode == SWALLOW:
                continue  # accepted, never answered
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            self._keep(upstream)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        try:
            while True:
                for key, _ in selector.select(timeout=1):
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = source.recv(65536)
                    if not data:
                        return
                    if source is client and self._cut_at is not None and self._cut_at in data:
                        self.mode = REFUSE
                        self._cut_at = None
                        return
                    key.data.sendall(data)
                if self._stopped.is_set():
                    return
        except OSError:
            return
        finally:
            selector.close()
            for sock in (client, upstream):
                with suppress(OSError):
                    sock.close()
