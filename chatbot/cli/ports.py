"""Ports on this machine: whether one can be listened on, and what answers on it — so that `serve`,
`fake-wechat`, `demo` and `chat` say in Chinese what is wrong before a library prints a traceback."""

from __future__ import annotations

import errno
import socket
import urllib.error
import urllib.parse
import urllib.request
from enum import Enum

#: The port `nianjian serve` listens on unless told otherwise.
DEFAULT_PORT = 8080
#: The port of the fake WeChat API `serve --fake-wechat` runs (that of `nianjian fake-wechat`).
FAKE_WECHAT_PORT = 8090
#: Seconds to wait for an answer from a local server.
PROBE_TIMEOUT = 2.0


def bind_problem(host: str, port: int) -> str | None:
    """Why a server cannot listen on host:port, in Chinese (the port taken, no permission, an unknown
    address); None when it can. Binds and releases a socket as gunicorn would (SO_REUSEADDR)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return f"无法识别地址 {host}。"
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
            probe.listen(1)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return f"端口 {port} 已被占用（{host}:{port}）。"
            if error.errno == errno.EACCES:
                return f"没有权限使用端口 {port}（小于 1024 的端口需要管理员权限）。"
            if error.errno == errno.EADDRNOTAVAIL:
                return f"本机没有地址 {host}。"
            return f"无法使用 {host}:{port}：{error.strerror or error}。"
    return None


class Found(Enum):
    """What answers at a server's address."""

    OURS = "ours"  # 年检助手 (its /healthz says ok)
    OTHER = "other"  # something else listens there
    NOTHING = "nothing"  # nothing listens: the server is not started


def service_at(base_url: str) -> Found:
    """Whether 年检助手 answers at ``base_url`` (e.g. http://127.0.0.1:8080), something else, or nothing."""
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/healthz", timeout=PROBE_TIMEOUT) as response:
            body = response.read(16)
    except urllib.error.HTTPError:
        return Found.OTHER
    except (urllib.error.URLError, OSError):
        return Found.NOTHING if _refused(base_url) else Found.OTHER
    return Found.OURS if body.strip() == b"ok" else Found.OTHER


def _refused(base_url: str) -> bool:
    """Nothing accepts a connection at the URL's host and port."""
    parts = urllib.parse.urlsplit(base_url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), PROBE_TIMEOUT):
            return False
    except OSError:
        return True
