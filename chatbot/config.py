"""Configuration from the environment, validated once at start-up."""

from __future__ import annotations

import base64
import binascii
import importlib.util
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from rubrics.democratic import ALL_MEMBERS_MAX
from rubrics.quota import DEFAULT_QUOTA_PERCENT
from rubrics.scoring import DEFAULT_PASS_MARK

DEFAULT_TOKEN = "nianjiandevtoken"
DEFAULT_API_BASE_URL = "https://api.weixin.qq.com/cgi-bin/"
MB = 1024 * 1024
#: Reminder offsets in days before each deadline, and the variables that change them.
DEFAULT_OFFSETS: dict[str, tuple[int, ...]] = {
    "self_check": (7, 3, 1),
    "review": (7, 3, 1),
    "evaluation": (3, 1),
    "report": (14, 7, 3, 1),
    "re_review": (3, 1),
    "coverage": (30, 14, 7),
    "remediation": (14, 3),
}


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


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes")


def _production(env: Mapping[str, str]) -> bool:
    return env.get("NIANJIAN_ENV", "").lower() == "production"


def _aes_key(name: str, value: str | None) -> str | None:
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


@dataclass(frozen=True)
class Config:
    """Everything the service reads from its environment."""

    database_url: str
    redis_url: str | None
    instance_dir: Path
    wechat_token: str
    wechat_app_id: str
    wechat_aes_key: str | None
    wechat_aes_key_previous: str | None
    secret_key: str
    pass_mark: Decimal = DEFAULT_PASS_MARK
    democratic_weight: Decimal = Decimal(0)
    quota_percent: int = DEFAULT_QUOTA_PERCENT
    quota_scope: str = "city"
    #: 会员人数少的，全部参加: at most this many members, every member is in the electorate.
    evaluation_all_members_max: int = ALL_MEMBERS_MAX
    #: Days from a below-standard result's finalisation to its remediation's due date (补课).
    remediation_days: int = 90
    wechat_app_secret: str = ""
    wechat_api_base_url: str = DEFAULT_API_BASE_URL
    #: Template id per notice kind ("" = the default for every kind).
    templates: Mapping[str, str] = field(default_factory=dict)
    offsets: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: dict(DEFAULT_OFFSETS))
    secure_cookies: bool = False
    #: Reverse proxies in front of the service that set X-Forwarded-For/-Proto (0: the socket's address).
    proxy_hops: int = 0
    #: Where evidence photos are kept once downloaded from WeChat (EVIDENCE_DIR; default instance/evidence).
    evidence_dir: Path | None = None
    #: The largest photo kept, in bytes (EVIDENCE_MAX_MB; WeChat's own limit for an image is 10 MB).
    evidence_max_bytes: int = 10 * MB
    #: (connect, read) seconds of every WeChat API call (WECHAT_API_TIMEOUT, e.g. "3,10").
    wechat_api_timeout: tuple[float, float] = (3.05, 10.0)
    #: The key members' personal data is encrypted and looked up with (PERSONAL_DATA_KEY).
    personal_data_key: str = ""
    #: WECHAT_ALLOW_PLAINTEXT: plaintext pushes are taken in safe mode too (while switching modes), and
    #: plaintext mode is allowed in production.
    allow_plaintext: bool = False
    #: Wrong codes (绑定, 测评) a minute from all senders together before every code waits (WRONG_CODES_PER_MINUTE).
    wrong_codes_per_minute: int = 30

    @property
    def evidence_path(self) -> Path:
        """The evidence directory: EVIDENCE_DIR, else ``evidence`` under the instance directory."""
        return self.evidence_dir or self.instance_dir / "evidence"

    def template_for(self, kind: str) -> str:
        """The template id for a kind of notice: its own, else the default, else ''."""
        return self.templates.get(kind) or self.templates.get("", "")

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
        env = os.environ if env is None else env
        instance = env.get("NIANJIAN_INSTANCE")
        instance_dir = (Path(instance) if instance else default_instance_dir()).resolve()
        database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'nianjian.db'}"
        if database_url.startswith("postgres://"):
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
        elif database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
        if database_url.startswith("postgresql") and importlib.util.find_spec("psycopg") is None:
            raise ConfigError(
                "DATABASE_URL 指向 PostgreSQL，但没有安装它的驱动程序 psycopg。"
                "请运行 pip install -e '.[postgres]' 安装，或去掉 DATABASE_URL 改用 SQLite。"
            )
        token = env.get("WECHAT_TOKEN") or DEFAULT_TOKEN
        if not (3 <= len(token) <= 32 and token.isascii() and token.isalnum()):
            raise ConfigError("WECHAT_TOKEN 应为 3–32 位字母或数字（微信的要求）。")
        aes_key = _aes_key("WECHAT_ENCODING_AES_KEY", env.get("WECHAT_ENCODING_AES_KEY"))
        previous = _aes_key("WECHAT_ENCODING_AES_KEY_PREVIOUS", env.get("WECHAT_ENCODING_AES_KEY_PREVIOUS"))
        app_id = env.get("WECHAT_APP_ID", "")
        if aes_key and not app_id:
            raise ConfigError("设置了 WECHAT_ENCODING_AES_KEY（安全模式）时，还须设置 WECHAT_APP_ID。")
        if previous and not aes_key:
            raise ConfigError("设置 WECHAT_ENCODING_AES_KEY_PREVIOUS 时，还须设置 WECHAT_ENCODING_AES_KEY。")
        personal_data_key = _personal_data_key(env, instance_dir)
        allow_plaintext = _flag(env, "WECHAT_ALLOW_PLAINTEXT")
        if _production(env) and not aes_key and not allow_plaintext:
            raise ConfigError(PLAINTEXT_IN_PRODUCTION)
        return cls(
            database_url=database_url,
            redis_url=env.get("REDIS_URL") or None,
            instance_dir=instance_dir,
            wechat_token=token,
            wechat_app_id=app_id,
            wechat_aes_key=aes_key,
            wechat_aes_key_previous=previous,
            secret_key=env.get("SECRET_KEY") or _instance_secret(instance_dir),
            pass_mark=_decimal(env, "PASS_MARK", _default("pass_mark"), 0, 100),
            democratic_weight=_decimal(env, "DEMOCRATIC_WEIGHT", _default("democratic_weight"), 0, 1),
            quota_percent=int(_decimal(env, "FIVE_STAR_QUOTA_PERCENT", _default("quota_percent"), 0, 100)),
            quota_scope=_choice(env, "FIVE_STAR_QUOTA_SCOPE", _default("quota_scope"), ("city", "county")),
            evaluation_all_members_max=int(
                _decimal(env, "EVALUATION_ALL_MEMBERS_MAX", _default("evaluation_all_members_max"), 0, 100000)
            ),
            remediation_days=int(_decimal(env, "REMEDIATION_DAYS", _default("remediation_days"), 1, 3650)),
            wechat_app_secret=env.get("WECHAT_APP_SECRET", ""),
            wechat_api_base_url=_base_url(env.get("WECHAT_API_BASE_URL") or DEFAULT_API_BASE_URL),
            templates=_templates(env),
            offsets={kind: _offsets(env, kind, days) for kind, days in DEFAULT_OFFSETS.items()},
            secure_cookies=_flag(env, "CONSOLE_SECURE_COOKIES"),
            proxy_hops=int(_decimal(env, "PROXY_HOPS", _default("proxy_hops"), 0, 5)),
            evidence_dir=Path(env["EVIDENCE_DIR"]).resolve() if env.get("EVIDENCE_DIR") else None,
            evidence_max_bytes=int(
                _decimal(env, "EVIDENCE_MAX_MB", _default("evidence_max_bytes") // MB, 1, 100) * MB
            ),
            wechat_api_timeout=_timeouts(env),
            personal_data_key=personal_data_key,
            allow_plaintext=allow_plaintext,
            wrong_codes_per_minute=int(
                _decimal(env, "WRONG_CODES_PER_MINUTE", _default("wrong_codes_per_minute"), 1, 100000)
            ),
        )


#: Every setting's default, read from its field above: declared once.
_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(Config) if f.default is not MISSING}


def _timeouts(env: Mapping[str, str]) -> tuple[float, float]:
    """WECHAT_API_TIMEOUT: "CONNECT,READ" seconds (or one number for both), each 0.1–60."""
    raw = env.get("WECHAT_API_TIMEOUT")
    if not raw:
        default: tuple[float, float] = _default("wechat_api_timeout")
        return default
    try:
        parts = [float(part) for part in raw.split(",")]
    except ValueError as exc:
        raise ConfigError(f"WECHAT_API_TIMEOUT 应写作 连接秒数,读取秒数，如 3,10；现在是“{raw}”。") from exc
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or not all(0.1 <= part <= 60 for part in parts):
        raise ConfigError(f"WECHAT_API_TIMEOUT 应为两个 0.1 到 60 之间的秒数，现在是“{raw}”。")
    return parts[0], parts[1]


def _personal_data_key(env: Mapping[str, str], instance_dir: Path) -> str:
    """PERSONAL_DATA_KEY (32 bytes, URL-safe base64: ``nianjian privacy keygen``). Required when
    NIANJIAN_ENV=production; elsewhere a key is generated once into instance/personal_data_key."""
    value = env.get("PERSONAL_DATA_KEY", "").strip()
    if not value:
        if env.get("NIANJIAN_ENV", "").lower() == "production":
            raise ConfigError(
                "生产环境（NIANJIAN_ENV=production）必须设置 PERSONAL_DATA_KEY：会员的手机号用它加密。"
                "可用 nianjian privacy keygen 生成一个。"
            )
        return _instance_secret(instance_dir, "personal_data_key", _new_data_key)
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ConfigError(
            "PERSONAL_DATA_KEY 不是 URL 安全的 base64 编码，请用 nianjian privacy keygen 生成。"
        ) from exc
    if len(raw) != 32:
        raise ConfigError(f"PERSONAL_DATA_KEY 解码后应为 32 字节，现在是 {len(raw)} 字节。")
    return value


def _new_data_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def _base_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"WECHAT_API_BASE_URL 应为以 http:// 或 https:// 开头的地址，现在是“{value}”。")
    return value if value.endswith("/") else value + "/"


def _templates(env: Mapping[str, str]) -> dict[str, str]:
    """WECHAT_TEMPLATE_ID for every kind; WECHAT_TEMPLATE_ID_<KIND> for one kind."""
    templates = {"": env.get("WECHAT_TEMPLATE_ID", "")}
    prefix = "WECHAT_TEMPLATE_ID_"
    for name, value in env.items():
        if name.startswith(prefix) and value:
            templates[name.removeprefix(prefix).lower()] = value
    return templates


def _offsets(env: Mapping[str, str], kind: str, default: tuple[int, ...]) -> tuple[int, ...]:
    name = f"REMIND_{kind.upper()}_DAYS"
    raw = env.get(name)
    if not raw:
        return default
    try:
        days = tuple(sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True))
    except ValueError as exc:
        raise ConfigError(f"{name} 应列出整数天数，用逗号分隔，如 7,3,1；现在是“{raw}”。") from exc
    if not days or min(days) < 0:
        raise ConfigError(f"{name} 的天数应不小于 0，现在是“{raw}”。")
    return days


def _default(name: str) -> Any:
    """The default of a setting, as the one declaration (the field of ``Config``) states it."""
    return _DEFAULTS[name]


def _decimal(env: Mapping[str, str], name: str, default: Decimal | int, low: int, high: int) -> Decimal:
    raw = env.get(name) or str(default)
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ConfigError(f"{name} 应为数字，现在是“{raw}”。") from exc
    if not low <= value <= high:
        raise ConfigError(f"{name} 应在 {low} 到 {high} 之间，现在是 {raw}。")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name) or default
    if value not in allowed:
        raise ConfigError(f"{name} 应为 {'、'.join(allowed)} 之一，现在是“{value}”。")
    return value


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
