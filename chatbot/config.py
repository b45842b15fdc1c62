"""Configuration from the environment, validated once at start-up."""

from __future__ import annotations

import base64
import binascii
import importlib.util
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from chatbot.notify.templates import Template, TemplateError, TemplateMap, legacy_template, load_templates
from rubrics.democratic import ALL_MEMBERS_MAX, MIN_BALLOTS_SHOWN, MIN_BALLOTS_SHOWN_FLOOR
from rubrics.quota import DEFAULT_QUOTA_PERCENT
from rubrics.scoring import DEFAULT_PASS_MARK

DEFAULT_TOKEN = "nianjiandevtoken"
DEFAULT_API_BASE_URL = "https://api.weixin.qq.com/cgi-bin/"
MB = 1024 * 1024


#: The source checkout the package runs from (an editable install: ``pip install -e .``), if it does:
#: the directory holding this project's pyproject.toml next to the package. None when installed as a
#: wheel into site-packages.
_PACKAGE_PARENT = Path(__file__).resolve().parents[1]
SOURCE_CHECKOUT: Path | None = _PACKAGE_PARENT if (_PACKAGE_PARENT / "pyproject.toml").is_file() else None


def default_instance_dir() -> Path:
    """Where the SQLite database and the generated secrets live when NIANJIAN_INSTANCE is not set:
    ``instance/`` in the source checkout, so that every command finds the same database whichever
    directory it is run from; for a wheel install, ``instance/`` in the current directory."""
    base = SOURCE_CHECKOUT if SOURCE_CHECKOUT is not None else Path.cwd()
    return base / "instance"


class ConfigError(ValueError):
    """The configuration cannot work; the message says which variable and why."""


PLAINTEXT_IN_PRODUCTION = (
    "生产环境（NIANJIAN_ENV=production）不能以明文模式运行：明文模式下微信的签名只覆盖时间戳和随机数，"
    "不覆盖消息内容，截获一个签名链接的人就能冒用任何用户发消息。请在公众平台“基本配置”中启用安全模式，"
    "并设置 WECHAT_ENCODING_AES_KEY（43 位 EncodingAESKey）和 WECHAT_APP_ID；"
    "确需明文模式时，设置 WECHAT_ALLOW_PLAINTEXT=1 明确允许。"
)


def _aes_key(name: str, value: str) -> str | None:
    if not value:
        return None
    if len(value) != 43:
        raise ConfigError(f"{name} 应为 43 位的 EncodingAESKey，现在是 {len(value)} 位。")
    try:
        if len(base64.b64decode(value + "=", validate=True)) != 32:
            raise ConfigError(f"{name} 解码后不是 32 字节的密钥，请从公众平台重新复制。")
    except binascii.Error as exc:
        raise ConfigError(f"{name} 不是有效的 base64 编码，请从公众平台重新复制。") from exc
    return value


def _text(_name: str, raw: str) -> str:
    return raw


def _text_or_none(_name: str, raw: str) -> str | None:
    return raw or None


def _flag(_name: str, raw: str) -> bool:
    return raw.strip().lower() in ("1", "true", "yes")


def _production(_name: str, raw: str) -> bool:
    return raw.lower() == "production"


def _path(_name: str, raw: str) -> Path:
    return Path(raw).resolve()


def _number(low: int, high: int, kind: Callable[[Decimal], Any] = int) -> Parser:
    """A number from ``low`` to ``high``, as ``kind`` (int: the whole part)."""

    def parse(name: str, raw: str) -> Any:
        try:
            value = Decimal(raw)
        except InvalidOperation as exc:
            raise ConfigError(f"{name} 应为数字，现在是“{raw}”。") from exc
        if not low <= value <= high:
            raise ConfigError(f"{name} 应在 {low} 到 {high} 之间，现在是 {raw}。")
        return kind(value)

    return parse


def _choice(*allowed: str) -> Parser:
    def parse(name: str, value: str) -> str:
        if value not in allowed:
            raise ConfigError(f"{name} 应为 {'、'.join(allowed)} 之一，现在是“{value}”。")
        return value

    return parse


def _database_url(_name: str, url: str) -> str:
    """A SQLAlchemy URL, PostgreSQL's with the psycopg driver, which must be installed."""
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgresql") and importlib.util.find_spec("psycopg") is None:
        raise ConfigError(
            "DATABASE_URL 指向 PostgreSQL，但没有安装它的驱动程序 psycopg。"
            "请运行 pip install -e '.[postgres]' 安装，或去掉 DATABASE_URL 改用 SQLite。"
        )
    return url


def _token(_name: str, token: str) -> str:
    if not (3 <= len(token) <= 32 and token.isascii() and token.isalnum()):
        raise ConfigError("WECHAT_TOKEN 应为 3–32 位字母或数字（微信的要求）。")
    return token


@dataclass(frozen=True)
class Config:
    """Everything the service reads from its environment: each field filled by the settings of
    ``SETTINGS`` that name it, which declare its variable, default, parser and meaning."""

    database_url: str
    redis_url: str | None
    instance_dir: Path
    wechat_token: str
    wechat_app_id: str
    wechat_aes_key: str | None
    wechat_aes_key_previous: str | None
    secret_key: str
    pass_mark: Decimal
    democratic_weight: Decimal
    quota_percent: int
    quota_scope: str
    #: 会员人数少的，全部参加: at most this many members, every member is in the electorate.
    evaluation_all_members_max: int
    #: The small-count rule: a democratic evaluation's figures are shown only with this many ballots.
    evaluation_min_ballots_shown: int
    #: Days from a below-standard result's finalisation to its remediation's due date (补课).
    remediation_days: int
    wechat_app_secret: str
    wechat_api_base_url: str
    #: Template id per notice kind ("" = the default for every kind): the old layout (keyword1–3).
    templates: Mapping[str, str]
    #: The account's templates and their typed fields per kind (WECHAT_TEMPLATES_FILE), else None.
    template_map: TemplateMap | None
    #: The service's public address (https://…/): template notices link to their full text under it.
    public_base_url: str
    #: Reminder offsets in days before each deadline, by the deadline's kind.
    offsets: Mapping[str, tuple[int, ...]]
    secure_cookies: bool
    #: Reverse proxies in front of the service that set X-Forwarded-For/-Proto (0: the socket's address).
    proxy_hops: int
    #: Where evidence photos are kept once downloaded from WeChat (None: instance/evidence).
    evidence_dir: Path | None
    #: The largest photo kept, in bytes.
    evidence_max_bytes: int
    #: (connect, read) seconds of every WeChat API call.
    wechat_api_timeout: tuple[float, float]
    #: WeChat calls one `deliver` worker keeps in flight at once (并发发送数).
    delivery_concurrency: int
    #: The key members' personal data is encrypted and looked up with.
    personal_data_key: str
    #: Plaintext pushes are taken in safe mode too (while switching modes), and plaintext mode is
    #: allowed in production.
    allow_plaintext: bool
    #: Seconds a push may have waited before a worker took it; past them it is answered busy at once.
    busy_after: float
    #: The front proxy stamps X-Request-Start: the wait is read from it, not from the signed second.
    request_start_header: bool
    #: Wrong codes (绑定, 测评) a minute from all senders together before every code waits.
    wrong_codes_per_minute: int
    #: NIANJIAN_ENV=production: the personal data key and safe mode are required.
    production: bool

    @property
    def evidence_path(self) -> Path:
        """The evidence directory: EVIDENCE_DIR, else ``evidence`` under the instance directory."""
        return self.evidence_dir or self.instance_dir / "evidence"

    def template_for(self, kind: str) -> str:
        """The template id for a kind of notice: from the templates file, else its own, else the
        default, else '' (customer-service text in WeChat's window)."""
        template = self.template_of(kind)
        return template.id if template is not None else ""

    def template_of(self, kind: str) -> Template | None:
        """The template a kind of notice is sent with, its fields typed; None when it has none."""
        if self.template_map is not None:
            return self.template_map.by_kind.get(kind)
        legacy = self.templates.get(kind) or self.templates.get("", "")
        return legacy_template(legacy) if legacy else None

    @property
    def api_configured(self) -> bool:
        return bool(self.wechat_app_id and self.wechat_app_secret)

    @property
    def safe_mode(self) -> bool:
        """安全模式: messages are AES-encrypted."""
        return self.wechat_aes_key is not None

    @property
    def accepts_plaintext(self) -> bool:
        """Whether a plaintext push is taken: always without an EncodingAESKey, with one only when
        WECHAT_ALLOW_PLAINTEXT is set (WeChat's safe and compatible modes both send encrypt_type=aes)."""
        return not self.safe_mode or self.allow_plaintext

    @property
    def uses_default_token(self) -> bool:
        return self.wechat_token == DEFAULT_TOKEN

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """The configuration from ``env`` (the process's environment): every setting read and parsed,
        then the rules between settings checked; a ConfigError says which variable and why."""
        env = os.environ if env is None else env
        instance_dir = INSTANCE.value(env, default_instance_dir().resolve())
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            setting.fill(values, env, instance_dir)
        _check_together(values)
        return cls(**values)


Parser = Callable[[str, str], Any]
#: A default computed when the variable is not set: from the environment and the instance directory.
Derived = Callable[[Mapping[str, str], Path], Any]


@dataclass(frozen=True)
class Setting:
    """One environment variable: the field of ``Config`` it fills (under ``key`` in a mapping field),
    how its text is parsed (a ConfigError in Chinese when invalid), its default, and its meaning and
    default as docs/configuration.md states them."""

    name: str
    field: str
    meaning: str
    parse: Parser
    #: The variable's text when it is not set (parsed like a value that is set).
    default: str = ""
    #: Computes the field when the variable is not set, instead of ``default``.
    derive: Derived | None = None
    #: The default in the docs' words, when it is not the literal ``default``.
    described: str = ""
    key: str | None = None
    #: Surrounding whitespace is not part of the value (a key pasted with a newline).
    strip: bool = False

    @property
    def shown_default(self) -> str:
        """The default as the docs' settings table shows it."""
        return self.described or (f"`{self.default}`" if self.default else "—")

    def value(self, env: Mapping[str, str], instance_dir: Path) -> Any:
        raw = env.get(self.name) or ""
        if self.strip:
            raw = raw.strip()
        if not raw and self.derive is not None:
            return self.derive(env, instance_dir)
        return self.parse(self.name, raw or self.default)

    def fill(self, values: dict[str, Any], env: Mapping[str, str], instance_dir: Path) -> None:
        if self.key is None:
            values[self.field] = self.value(env, instance_dir)
        else:
            values.setdefault(self.field, {})[self.key] = self.value(env, instance_dir)


@dataclass(frozen=True)
class KindSetting(Setting):
    """A variable per kind of notice: ``PREFIX<KIND>``, each set one filling the mapping under its kind."""

    def fill(self, values: dict[str, Any], env: Mapping[str, str], instance_dir: Path) -> None:
        prefix = self.name.removesuffix("<KIND>")
        found = values.setdefault(self.field, {})
        for name, raw in env.items():
            if name.startswith(prefix) and raw:
                found[name.removeprefix(prefix).lower()] = self.parse(name, raw)


def _timeouts(name: str, raw: str) -> tuple[float, float]:
    """ "CONNECT,READ" seconds (or one number for both), each 0.1–60."""
    try:
        parts = [float(part) for part in raw.split(",")]
    except ValueError as exc:
        raise ConfigError(f"{name} 应写作 连接秒数,读取秒数，如 3,10；现在是“{raw}”。") from exc
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or not all(0.1 <= part <= 60 for part in parts):
        raise ConfigError(f"{name} 应为两个 0.1 到 60 之间的秒数，现在是“{raw}”。")
    return parts[0], parts[1]


def _data_key(name: str, value: str) -> str:
    """32 bytes, URL-safe base64 (``nianjian privacy keygen``)."""
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ConfigError(f"{name} 不是 URL 安全的 base64 编码，请用 nianjian privacy keygen 生成。") from exc
    if len(raw) != 32:
        raise ConfigError(f"{name} 解码后应为 32 字节，现在是 {len(raw)} 字节。")
    return value


def _generated_data_key(env: Mapping[str, str], instance_dir: Path) -> str:
    """Without PERSONAL_DATA_KEY: required in production; elsewhere generated once into
    instance/personal_data_key."""
    if PRODUCTION.value(env, instance_dir):
        raise ConfigError(
            "生产环境（NIANJIAN_ENV=production）必须设置 PERSONAL_DATA_KEY：会员的手机号用它加密。"
            "可用 nianjian privacy keygen 生成一个。"
        )
    return _instance_secret(instance_dir, "personal_data_key", _new_data_key)


def _new_data_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def _base_url(name: str, value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name} 应为以 http:// 或 https:// 开头的地址，现在是“{value}”。")
    return value if value.endswith("/") else value + "/"


def _templates_file(name: str, value: str) -> TemplateMap | None:
    """The account's templates file (``default``: the shipped mapping), read and checked now."""
    if not value:
        return None
    try:
        return load_templates(value)
    except TemplateError as error:
        raise ConfigError(f"{name}：{error}") from None


def _public_url(name: str, value: str) -> str:
    return _base_url(name, value) if value else ""


def _days(name: str, raw: str) -> tuple[int, ...]:
    """Whole days before a deadline, comma-separated; largest first, each once."""
    try:
        days = tuple(sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True))
    except ValueError as exc:
        raise ConfigError(f"{name} 应列出整数天数，用逗号分隔，如 7,3,1；现在是“{raw}”。") from exc
    if not days or min(days) < 0:
        raise ConfigError(f"{name} 的天数应不小于 0，现在是“{raw}”。")
    return days


def _check_together(values: Mapping[str, Any]) -> None:
    """The rules between settings: safe mode needs the AppID, a previous key needs the current one,
    production needs safe mode (or plaintext allowed explicitly)."""
    if values["wechat_aes_key"] and not values["wechat_app_id"]:
        raise ConfigError("设置了 WECHAT_ENCODING_AES_KEY（安全模式）时，还须设置 WECHAT_APP_ID。")
    if values["wechat_aes_key_previous"] and not values["wechat_aes_key"]:
        raise ConfigError("设置 WECHAT_ENCODING_AES_KEY_PREVIOUS 时，还须设置 WECHAT_ENCODING_AES_KEY。")
    if values["production"] and not values["wechat_aes_key"] and not values["allow_plaintext"]:
        raise ConfigError(PLAINTEXT_IN_PRODUCTION)
    if values["template_map"] is not None and any(values["templates"].values()):
        raise ConfigError(
            "设置了 WECHAT_TEMPLATES_FILE 时，不再使用 WECHAT_TEMPLATE_ID 及 WECHAT_TEMPLATE_ID_<类型>："
            "请把这些模板写进模板配置文件，并删去这些环境变量。"
        )


def _mb(value: Decimal) -> int:
    return int(value * MB)


INSTANCE = Setting(
    "NIANJIAN_INSTANCE",
    "instance_dir",
    "directory for the SQLite file and generated secret",
    _path,
    derive=lambda _env, instance_dir: instance_dir,
    described="`instance/` in the source checkout (an editable install), whichever directory a command runs "
    "from; `./instance` for a wheel install",
)
PRODUCTION = Setting(
    "NIANJIAN_ENV",
    "production",
    "`production` makes `PERSONAL_DATA_KEY` and safe mode (`WECHAT_ENCODING_AES_KEY`, or "
    "`WECHAT_ALLOW_PLAINTEXT=1`) required: the service, the scheduler and every command refuse to start "
    "without them, and say why",
    _production,
)
#: The days before each deadline when reminders go out: (the deadline's kind, default, meaning).
REMINDERS = (
    ("self_check", "7,3,1", "days before the self-check deadline when chairs yet to submit are reminded"),
    ("review", "7,3,1", "days before the review deadline when evaluators with self-checks waiting are reminded"),
    ("evaluation", "3,1", "days before a democratic evaluation closes when those yet to vote are reminded"),
    ("report", "14,7,3,1", "days before the annual summary is due when counties without one are reminded"),
    ("re_review", "3,1", "days before a re-review (复查) is due when reminders go out"),
    ("coverage", "30,14,7", "days before the review deadline when counties below the year's target are warned"),
    ("remediation", "14,3", "days before the remediation's due date when the chair is reminded"),
)  # fmt: skip
#: Every setting, in the order of docs/configuration.md's tables.
SETTINGS: tuple[Setting, ...] = (
    # Storage
    Setting(
        "DATABASE_URL",
        "database_url",
        "SQLAlchemy URL; `postgres://…` is accepted. PostgreSQL needs its driver: "
        "`.venv/bin/pip install -e '.[postgres]'`",
        _database_url,
        derive=lambda _env, instance_dir: f"sqlite:///{instance_dir / 'nianjian.db'}",
        described="`sqlite:///instance/nianjian.db`",
    ),
    Setting(
        "REDIS_URL",
        "redis_url",
        "dialog state, per-user locks, rate limits; needed for more than one worker (with more than one, "
        "`serve` refuses to start while Redis does not answer)",
        _text_or_none,
        described="in-process",
    ),
    INSTANCE,
    Setting(
        "EVIDENCE_DIR",
        "evidence_dir",
        "where evidence photos are kept once downloaded from WeChat (back it up with the database; shared by "
        "every app process)",
        _path,
        derive=lambda _env, _instance_dir: None,
        described="`instance/evidence`",
    ),
    Setting(
        "EVIDENCE_MAX_MB",
        "evidence_max_bytes",
        "the largest evidence photo kept, in MB (1–100; WeChat's own limit for an image is 10 MB)",
        _number(1, 100, _mb),
        default="10",
    ),
    # WeChat
    Setting(
        "WECHAT_TOKEN",
        "wechat_token",
        "the account's server token (3–32 letters/digits)",
        _token,
        default=DEFAULT_TOKEN,
        described="a development token",
    ),
    Setting("WECHAT_APP_ID", "wechat_app_id", "the account's AppID; required in safe mode", _text),
    Setting(
        "WECHAT_ENCODING_AES_KEY",
        "wechat_aes_key",
        "43-character EncodingAESKey; setting it enables safe mode (安全模式)",
        _aes_key,
        described="plaintext mode",
    ),
    Setting(
        "WECHAT_ENCODING_AES_KEY_PREVIOUS",
        "wechat_aes_key_previous",
        "the key before a rotation, still accepted for decryption",
        _aes_key,
    ),
    Setting(
        "WECHAT_ALLOW_PLAINTEXT",
        "allow_plaintext",
        "`1`: plaintext pushes are taken although `WECHAT_ENCODING_AES_KEY` is set (only while the account "
        "switches from 明文模式: WeChat's 兼容模式 and 安全模式 both send `encrypt_type=aes`), and "
        "`NIANJIAN_ENV=production` may run in plaintext mode. Without it safe mode answers a plaintext "
        "push 403",
        _flag,
        described="off",
    ),
    Setting(
        "WECHAT_BUSY_AFTER",
        "busy_after",
        "seconds (1–4) a push may have waited before a worker takes it — read from WeChat's signed "
        "timestamp, or the proxy's `X-Request-Start` — past which it is answered 系统繁忙 at once, applying "
        "nothing, so that every push is answered within 4.5 s (WeChat waits 5)",
        _number(1, 4, float),
        default="2",
    ),
    Setting(
        "WECHAT_REQUEST_START",
        "request_start_header",
        "`1`: the front proxy stamps every request with `X-Request-Start` (nginx: "
        '`proxy_set_header X-Request-Start "t=${msec}";`), and the wait is read from it to the '
        "millisecond. Set it only when the proxy overwrites the header a sender may send",
        _flag,
        described="off: from the signed timestamp",
    ),
    Setting(
        "WECHAT_APP_SECRET",
        "wechat_app_secret",
        "the account's AppSecret: needed to send notices, create QR codes and the menu",
        _text,
        described="notices wait in the outbox",
    ),
    Setting(
        "WECHAT_API_TIMEOUT",
        "wechat_api_timeout",
        "connect and read timeout of every WeChat API call, in seconds (`CONNECT,READ`, or one number "
        "for both)",
        _timeouts,
        default="3.05,10",
    ),
    Setting(
        "DELIVERY_CONCURRENCY",
        "delivery_concurrency",
        "并发发送数: WeChat calls each `nianjian deliver` worker keeps in flight at once (1–64; the "
        "scheduler's own delivery sends one at a time)",
        _number(1, 64),
        default="16",
    ),
    Setting(
        "WECHAT_API_BASE_URL",
        "wechat_api_base_url",
        "the WeChat API (point it at `nianjian fake-wechat` for development)",
        _base_url,
        default=DEFAULT_API_BASE_URL,
    ),
    Setting(
        "WECHAT_TEMPLATE_ID",
        "templates",
        "template for every kind of notice (keyword1 事项, keyword2 截止时间, keyword3 说明)",
        _text,
        described="customer-service text in the 48-hour window",
        key="",
    ),
    KindSetting(
        "WECHAT_TEMPLATE_ID_<KIND>",
        "templates",
        "template for one kind (see `nianjian notices kinds`), e.g. `WECHAT_TEMPLATE_ID_REPORT_DUE`",
        _text,
        described="`WECHAT_TEMPLATE_ID`",
    ),
    Setting(
        "WECHAT_TEMPLATES_FILE",
        "template_map",
        "the account's templates: a TOML file mapping each kind of notice to its template id and typed fields "
        "(`default`: the shipped mapping, placeholder ids; see [Notices](notices.md#templates)); replaces "
        "`WECHAT_TEMPLATE_ID`",
        _templates_file,
        described="the `WECHAT_TEMPLATE_ID` layout",
    ),
    Setting(
        "PUBLIC_BASE_URL",
        "public_base_url",
        "the service's public address (`https://…/`): each template notice links to its full text at "
        "`/n/<token>` under it",
        _public_url,
        described="no link in template notices",
    ),
    # Security and personal data
    PRODUCTION,
    Setting(
        "SECRET_KEY",
        "secret_key",
        "server secret",
        _text,
        derive=lambda _env, instance_dir: _instance_secret(instance_dir),
        described="generated once into `instance/secret_key`",
    ),
    Setting(
        "PERSONAL_DATA_KEY",
        "personal_data_key",
        "the key members' phone numbers are encrypted with (32 bytes, URL-safe base64; `nianjian privacy "
        "keygen` prints one). Keep it **outside** the database and its backups, the same on every host: "
        "without it the phones cannot be read",
        _data_key,
        derive=_generated_data_key,
        described="generated once into `instance/personal_data_key` (development only)",
        strip=True,
    ),
    Setting(
        "CONSOLE_SECURE_COOKIES",
        "secure_cookies",
        "`1` when the console is served over HTTPS: the session cookie becomes `Secure` (`__Host-` name) and "
        "HSTS is sent",
        _flag,
        described="off",
    ),
    Setting(
        "PROXY_HOPS",
        "proxy_hops",
        "how many reverse proxies in front of the service set `X-Forwarded-For`/`-Proto` (the sign-in limit "
        "counts the socket's address without it)",
        _number(0, 5),
        default="0",
    ),
    Setting(
        "WRONG_CODES_PER_MINUTE",
        "wrong_codes_per_minute",
        "wrong invitation and evaluation codes (`绑定`, `测评`) from all senders together within a minute "
        "before every code waits for the rest of it (1–100000; see "
        "[Wrong codes](reliability.md#signed-queries-and-guessed-codes))",
        _number(1, 100000),
        default="30",
    ),
    # The plan's rules
    Setting(
        "PASS_MARK",
        "pass_mark",
        "below this 百分制 score a result misses the standard (补课)",
        _number(0, 100, Decimal),
        default=str(DEFAULT_PASS_MARK),
    ),
    Setting(
        "DEMOCRATIC_WEIGHT",
        "democratic_weight",
        "share (0–1) of the democratic score blended into the final score",
        _number(0, 1, Decimal),
        default="0",
    ),
    Setting(
        "FIVE_STAR_QUOTA_PERCENT",
        "quota_percent",
        "five-star results at most this percentage of those rated",
        _number(0, 100),
        default=str(DEFAULT_QUOTA_PERCENT),
    ),
    Setting(
        "FIVE_STAR_QUOTA_SCOPE",
        "quota_scope",
        "`city` (one quota for the city) or `county` (one per county/zone federation, and one for the "
        "city-direct unions)",
        _choice("city", "county"),
        default="city",
    ),
    Setting(
        "EVALUATION_ALL_MEMBERS_MAX",
        "evaluation_all_members_max",
        "a union with at most this many members evaluates with all of them (会员人数少的，全部参加): those not "
        "bound in chat get paper forms, and the turnout counts every member on the roll but the chair",
        _number(0, 100000),
        default=str(ALL_MEMBERS_MAX),
    ),
    Setting(
        "EVALUATION_MIN_BALLOTS_SHOWN",
        "evaluation_min_ballots_shown",
        "a democratic evaluation's satisfaction rate and score are shown only once it is closed with at "
        "least this many ballots (and its chat ballots none or at least this many), to keep the voters "
        "anonymous; fixed on each evaluation when it opens (at least 2)",
        _number(MIN_BALLOTS_SHOWN_FLOOR, 1000),
        default=str(MIN_BALLOTS_SHOWN),
    ),
    Setting(
        "REMEDIATION_DAYS",
        "remediation_days",
        "days from a below-standard result's finalisation to its remediation's (补课) due date",
        _number(1, 3650),
        default="90",
    ),
    # Reminders
    *(
        Setting(f"REMIND_{kind.upper()}_DAYS", "offsets", meaning, _days, default=days, key=kind)
        for kind, days, meaning in REMINDERS
    ),
)


def _instance_secret(
    instance_dir: Path, name: str = "secret_key", make: Callable[[], str] = lambda: secrets.token_hex(32)
) -> str:
    """A per-installation secret kept under instance/ when its variable is not set: created once,
    atomically (processes starting together all read the one that won)."""
    path = instance_dir / name
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    draft = instance_dir / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
    draft.write_text(make())
    draft.chmod(0o600)
    try:
        os.link(draft, path)  # fails if another process made it first
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()
