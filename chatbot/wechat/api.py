"""The WeChat API client: wechatpy's WeChatClient pointed at WECHAT_API_BASE_URL, with a shared token.

Closes wechatpy's known gaps: the token lives in Redis (or the database) so every process shares one
and only one refresher fetches under a lock; a rejected token is refreshed once, not recursively;
every HTTP call has a connect and a read timeout; WeChat's errors are classified as transient,
permanent, the daily quota, or *unconfirmed* — a send whose answer never came (a read timeout, a
connection cut after the request went out, a gateway's 504) may have reached the user, and WeChat has
no idempotency key, so the outbox must not send it again. One client is shared by the threads of a delivery worker that
overlaps its calls (requests' session and the token stores are safe to share).
"""

from __future__ import annotations

import fcntl
import json
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session, sessionmaker
from urllib3.exceptions import NewConnectionError
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from chatbot.config import Config
from chatbot.store.models import ApiToken
from chatbot.store.upsert import insert_for
from chatbot.timeutil import SHANGHAI, as_utc
from dialogs import markup

log = logging.getLogger(__name__)

#: (connect, read) seconds of every API call; WECHAT_API_TIMEOUT changes them.
HTTP_TIMEOUT_SECONDS: tuple[float, float] = (3.05, 10.0)
DAILY_TOKEN_QUOTA = 2000
REFRESH_MARGIN = timedelta(minutes=5)
#: Seconds a process waits for another one's token refresh before giving up (the call is retried later).
REFRESH_LOCK_WAIT = 15
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
#: "reach max api daily quota limit": the API's calls of the day are used up; they renew at midnight.
DAILY_QUOTA = 45009
#: How many days WeChat keeps a temporary media file (a photo sent in chat) after its upload.
MEDIA_KEPT_DAYS = 3
#: Errors that will not go away by retrying: record and stop.
PERMANENT_ERRORS: dict[int, str] = {
    43004: "用户未关注公众号",
    40003: "openid 无效",
    45015: "超出 48 小时客服消息窗口",
    45047: "客服消息超过下发条数",
    40037: "模板 id 无效",
    47003: "模板消息参数不合规（字段名、类型、长度或换行）",
    43101: "用户拒收订阅消息",
}


#: Errors of the customer-service channel that say the user's window is closed, whatever our count says.
WINDOW_CLOSED = frozenset({45015, 45047})


class ApiError(Exception):
    """A failed API call: ``errcode`` is WeChat's (None for HTTP or network failures); ``status`` the
    HTTP status when WeChat's gateway answered with an error page; ``unconfirmed`` when the request went
    out and no answer came back, so it may have taken effect."""

    def __init__(
        self, errcode: int | None, message: str, status: int | None = None, unconfirmed: bool = False
    ) -> None:
        super().__init__(f"{errcode if status is None else f'HTTP {status}'}: {message}")
        self.errcode = errcode
        self.message = message
        self.status = status
        self.unconfirmed = unconfirmed

    @property
    def permanent(self) -> bool:
        return self.errcode in PERMANENT_ERRORS

    @property
    def daily_quota(self) -> bool:
        """The API's daily quota is used up (45009): nothing to gain by trying again before midnight."""
        return self.errcode == DAILY_QUOTA


class TokenQuotaError(ApiError):
    """45009 on the access_token fetch: no API call at all can be made until the quota renews."""

    def __init__(self, message: str = "今日 access_token 获取次数已用完") -> None:
        super().__init__(DAILY_QUOTA, message)


class MediaTooLarge(ApiError):
    """media/get: the file is larger than the caller's cap (not read past it)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(None, f"media larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: datetime


class TokenStore(ABC):
    """Where every process finds the current access token, and the lock its one refresher holds."""

    @abstractmethod
    def get(self) -> Token | None: ...

    @abstractmethod
    def refresh(self, fetch: Any, rejected: str | None, now: datetime) -> Token:
        """Under the lock: unless another process already replaced it, fetch a new token."""


class RedisTokenStore(TokenStore):
    def __init__(self, client: redis.Redis, app_id: str) -> None:
        self._redis = client
        self._key = f"nianjian:{app_id}:access-token"
        self._fetches = f"nianjian:{app_id}:token-fetches"

    def get(self) -> Token | None:
        raw = self._redis.get(self._key)
        if raw is None:
            return None
        data = json.loads(raw)
        return Token(data["token"], datetime.fromisoformat(data["expires_at"]))

    def refresh(self, fetch: Any, rejected: str | None, now: datetime) -> Token:
        try:
            with self._redis.lock(self._key + ":lock", timeout=30, blocking_timeout=REFRESH_LOCK_WAIT):
                return self._refresh_locked(fetch, rejected, now)
        except (redis.exceptions.LockError, redis.exceptions.ConnectionError) as error:
            raise ApiError(None, f"token refresh unavailable: {error}") from error

    def _refresh_locked(self, fetch: Any, rejected: str | None, now: datetime) -> Token:
        current = self.get()
        if current is not None and current.value != rejected and current.expires_at - REFRESH_MARGIN > now:
            return current
        day_key = f"{self._fetches}:{now.astimezone(SHANGHAI).date()}"
        if int(self._redis.get(day_key) or 0) >= DAILY_TOKEN_QUOTA:
            raise TokenQuotaError()
        token = fetch()
        pipe = self._redis.pipeline()
        pipe.incr(day_key)
        pipe.expire(day_key, 2 * 86400)
        pipe.set(
            self._key,
            json.dumps({"token": token.value, "expires_at": token.expires_at.isoformat()}),
            ex=max(int((token.expires_at - now).total_seconds()), 1),
        )
        pipe.execute()
        return token


class DatabaseTokenStore(TokenStore):
    """For installations without Redis: the token row, shared by every process, and one refresher at a
    time. On PostgreSQL the row is made to exist, then locked (``FOR UPDATE``) through the fetch. SQLite
    has no row locks: there an exclusive file lock beside the database serialises the refreshers, and the
    fetch runs outside any write transaction, so the database is not held while WeChat answers."""

    _local_lock = threading.Lock()

    def __init__(self, sessions: sessionmaker[Session], app_id: str) -> None:
        self._sessions = sessions
        self._app_id = app_id
        with sessions() as session:
            self._lock_path = _refresh_lock_path(session.get_bind())

    def get(self) -> Token | None:
        with self._sessions() as session:
            return _usable(session.get(ApiToken, self._app_id), None, None)

    def refresh(self, fetch: Any, rejected: str | None, now: datetime) -> Token:
        with self._local_lock:
            if self._lock_path is None:
                return self._refresh_under_row_lock(fetch, rejected, now)
            with _file_lock(self._lock_path):
                return self._refresh_under_file_lock(fetch, rejected, now)

    def _refresh_under_row_lock(self, fetch: Any, rejected: str | None, now: datetime) -> Token:
        with self._sessions.begin() as session:
            blank = {"app_id": self._app_id, "token": "", "day": "", "fetches": 0}
            session.execute(
                insert_for(session)(ApiToken)
                .values(**blank)
                .on_conflict_do_nothing(index_elements=["app_id"])
            )
            row = session.scalars(
                select(ApiToken).where(ApiToken.app_id == self._app_id).with_for_update()
            ).one()
            current = _usable(row, rejected, now)
            if current is not None:
                return current  # another process refreshed it while this one waited for the lock
            day, fetches = _count_one_more(row, now)
            token = fetch()
            row.token, row.expires_at, row.day, row.fetches = token.value, token.expires_at, day, fetches
            return token

    def _refresh_under_file_lock(self, fetch: Any, rejected: str | None, now: datetime) -> Token:
        with self._sessions() as session:  # no refresher writes the row but the lock's holder
            row = session.get(ApiToken, self._app_id)
            current = _usable(row, rejected, now)
            if current is not None:
                return current
            day, fetches = _count_one_more(row, now)
        token = fetch()
        values = {"token": token.value, "expires_at": token.expires_at, "day": day, "fetches": fetches}
        with self._sessions.begin() as session:
            session.execute(
                insert_for(session)(ApiToken)
                .values(app_id=self._app_id, **values)
                .on_conflict_do_update(index_elements=["app_id"], set_=values)
            )
        return token


def _usable(row: ApiToken | None, rejected: str | None, now: datetime | None) -> Token | None:
    """The stored token unless it is missing, the one WeChat rejected, or (at ``now``) about to expire."""
    if row is None or not row.token or row.expires_at is None or row.token == rejected:
        return None
    token = Token(row.token, as_utc(row.expires_at))
    return token if now is None or token.expires_at - REFRESH_MARGIN > now else None


def _count_one_more(row: ApiToken | None, now: datetime) -> tuple[str, int]:
    """Today (Asia/Shanghai) and its token fetches with one more; TokenQuotaError when they are used up."""
    today = now.astimezone(SHANGHAI).date().isoformat()
    fetches = row.fetches if row is not None and row.day == today else 0
    if fetches >= DAILY_TOKEN_QUOTA:
        raise TokenQuotaError()
    return today, fetches + 1


def _refresh_lock_path(bind: Engine | Connection) -> Path | None:
    """The token's refresh lock beside a SQLite database file; None on PostgreSQL (the row is locked)
    and for an in-memory SQLite database (one process: the thread lock is enough)."""
    url = bind.engine.url if isinstance(bind, Connection) else bind.url
    if bind.dialect.name != "sqlite" or not url.database or url.database == ":memory:":
        return None
    database = Path(url.database).resolve()
    return database.with_name(database.name + ".token-lock")


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path``, among processes; the system drops it when its holder dies. Given
    up (ApiError) after REFRESH_LOCK_WAIT seconds, as the Redis lock is."""
    with path.open("a") as handle:
        deadline = time.monotonic() + REFRESH_LOCK_WAIT
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ApiError(None, "token refresh unavailable: its lock is held") from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _reached_wechat(error: requests.RequestException) -> bool:
    """Whether the failed request may have reached WeChat: a read timeout or a connection cut after it
    was sent may have; a failure to connect (refused, DNS, connect timeout) did not."""
    if isinstance(error, requests.ConnectTimeout):
        return False
    if isinstance(error, requests.ReadTimeout):
        return True
    if isinstance(error, requests.ConnectionError):
        reason = error.args[0] if error.args else None
        return not isinstance(getattr(reason, "reason", reason), NewConnectionError)
    return False  # an invalid URL and the like: refused before anything was sent


def _network_error(error: requests.RequestException, what: str) -> ApiError:
    """A transport failure, unconfirmed when the request may have taken effect."""
    reached = _reached_wechat(error)
    return ApiError(None, f"{what}: {type(error).__name__}: {error}"[:300], unconfirmed=reached)


def _http_error(error: WeChatClientException) -> ApiError:
    """WeChat's gateway answered 4xx/5xx instead of JSON: 504 is a timeout behind it (unconfirmed);
    other statuses mean the request was not taken and may be tried again later."""
    response = error.response
    status = response.status_code if response is not None else None
    return ApiError(None, "WeChat API answered with an HTTP error", status=status, unconfirmed=status == 504)


class ApiClient(WeChatClient):
    """wechatpy's client with our base URL, timeouts and shared token; no recursive token refetch."""

    def __init__(
        self,
        config: Config,
        store: TokenStore,
        clock: Any = None,
        timeout: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(
            config.wechat_app_id,
            config.wechat_app_secret,
            timeout=timeout or config.wechat_api_timeout,
            auto_retry=False,
        )
        self.API_BASE_URL = config.wechat_api_base_url
        # One kept-alive connection per call a delivery worker has in flight (requests keeps 10).
        pooled = HTTPAdapter(pool_maxsize=max(10, config.delivery_concurrency))
        for scheme in ("http://", "https://"):
            self._http.mount(scheme, pooled)
        self._store = store
        self._clock = clock or (lambda: datetime.now(UTC))

    # wechatpy reads the token through this property and fetches through fetch_access_token.
    @property
    def access_token(self) -> str:
        token = self._store.get()
        now = self._clock()
        if token is None or token.expires_at - REFRESH_MARGIN <= now:
            token = self._store.refresh(self._fetch_token, None, now)
        return token.value

    def fetch_access_token(self) -> dict[str, Any]:
        current = self._store.get()
        return {"access_token": self._refresh(current.value if current else None).value}

    def _refresh(self, rejected: str | None) -> Token:
        """A new token unless another process already replaced ``rejected``."""
        return self._store.refresh(self._fetch_token, rejected, self._clock())

    def _fetch_token(self) -> Token:
        try:
            response = self._http.get(
                self.API_BASE_URL + "token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
                timeout=self.timeout,
            )
            data = response.json()
        except (requests.RequestException, ValueError) as error:
            # A token fetch has no effect a retry could repeat: never "unconfirmed".
            raise ApiError(None, f"token fetch failed: {type(error).__name__}: {error}"[:300]) from error
        if "access_token" not in data:
            code = int(data.get("errcode", -1))
            if code == DAILY_QUOTA:
                raise TokenQuotaError(str(data.get("errmsg", "access_token quota")))
            raise ApiError(code, str(data.get("errmsg", "no access_token")))
        log.info("fetched a new WeChat access token")
        return Token(
            data["access_token"], self._clock() + timedelta(seconds=int(data.get("expires_in", 7200)))
        )

    def call(self, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
        """One API call; a rejected token (40001/40014/42001) is refreshed — once, shared by every
        process — and the call repeated once; a second rejection is an error like any other."""
        for attempt in (1, 2):
            token = self.access_token
            try:
                return self._request(method, endpoint, params={"access_token": token}, **kwargs)
            except WeChatClientException as error:
                if error.errcode is None:
                    raise _http_error(error) from error
                code = int(error.errcode)
                if code in TOKEN_ERRORS and attempt == 1:
                    log.info("WeChat rejected the access token (%s): refreshing it once", code)
                    self._refresh(token)
                    continue
                raise ApiError(code, str(error.errmsg)) from error
            except requests.RequestException as error:
                raise _network_error(error, "network") from error
            except ValueError as error:  # a 200 whose body is not JSON
                raise ApiError(None, f"not JSON: {error}"[:300]) from error
        raise ApiError(None, "unreachable")

    def send_text(self, openid: str, text: str) -> dict[str, Any]:
        """A customer-service text, neutral (dialogs.markup): what a person wrote in it (an objection, a
        reason, a union's name) cannot become a link."""
        return self.call(
            "post",
            "message/custom/send",
            data={"touser": openid, "msgtype": "text", "text": {"content": markup.neutral(text)}},
        )

    def send_template(
        self, openid: str, template_id: str, data: dict[str, Any], url: str = ""
    ) -> dict[str, Any]:
        """A template message (with ``url``, the page a tap opens); each field's value neutral, as a text's."""
        fields = {
            name: field | {"value": markup.neutral(str(field["value"]))} if "value" in field else field
            for name, field in data.items()
        }
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": fields}
        if url:
            body["url"] = url
        return self.call("post", "message/template/send", data=body)

    def create_menu(self, menu: dict[str, Any]) -> dict[str, Any]:
        return self.call("post", "menu/create", data=menu)

    def get_media(self, media_id: str, max_bytes: int | None = None) -> tuple[bytes, str]:
        """A temporary media file (a chair's evidence photo): its bytes and content type.

        WeChat answers an unknown or expired media_id (kept 3 days) with a JSON error, e.g. 40007; that
        errcode is raised. A body longer than ``max_bytes`` is not read past the cap (ApiError, no code).
        A rejected token is refreshed and the download repeated once, as ``call`` does.
        """
        for attempt in (1, 2):
            token = self.access_token
            try:
                with self._http.get(
                    self.API_BASE_URL + "media/get",
                    timeout=self.timeout,
                    params={"access_token": token, "media_id": media_id},
                    stream=True,
                ) as response:
                    kind = response.headers.get("Content-Type", "").split(";")[0].strip()
                    body = _read_capped(response, max_bytes)
            except requests.RequestException as error:
                raise ApiError(None, f"network: {error}") from error
            if response.status_code != 200:
                raise ApiError(None, f"media {media_id}: HTTP {response.status_code}")
            if not kind.startswith(("application/json", "text/")):
                return body, kind or "application/octet-stream"
            code, message = _error_of(body)
            if code in TOKEN_ERRORS and attempt == 1:
                self._refresh(token)
                continue
            raise ApiError(code, message or f"media {media_id} not available")
        raise ApiError(None, "unreachable")

    def create_qrcode(self, scene: str) -> dict[str, Any]:
        return self.call(
            "post",
            "qrcode/create",
            data={"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene}}},
        )


def _read_capped(response: requests.Response, max_bytes: int | None) -> bytes:
    """The body, refusing (ApiError) to read more than ``max_bytes``."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise MediaTooLarge(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _error_of(body: bytes) -> tuple[int | None, str]:
    """WeChat's errcode and errmsg from a JSON error body (None when it is not one)."""
    try:
        data = json.loads(body)
        return int(data["errcode"]), str(data.get("errmsg", ""))
    except (ValueError, KeyError, TypeError):
        return None, body[:200].decode("utf-8", "replace")


def make_client(config: Config, sessions: sessionmaker[Session], clock: Any = None) -> ApiClient:
    """The API client with the token kept in Redis when configured, else in the database."""
    store: TokenStore
    if config.redis_url:
        store = RedisTokenStore(
            redis.Redis.from_url(config.redis_url, socket_timeout=5), config.wechat_app_id
        )
    else:
        store = DatabaseTokenStore(sessions, config.wechat_app_id)
    return ApiClient(config, store, clock)
