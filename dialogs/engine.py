"""The dialog engine's types: what comes in, what goes out, and the state kept between messages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from dialogs import markup
from dialogs.commands import Command

#: ``voice``: a voice message WeChat sent without its recognised text (a voice message with text is
#: ``text``, its ``heard`` set).
InputKind = Literal["text", "photo", "click", "scan", "subscribe", "unsubscribe", "voice", "other"]

#: WeChat's limit for a passive text reply, in bytes of UTF-8.
MAX_REPLY_BYTES = 2048


@dataclass(frozen=True)
class Choice:
    """A tap-to-answer link: the label shown and the text sent back when tapped."""

    label: str
    content: str


@dataclass(frozen=True)
class Reply:
    text: str
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Addendum:
    """Text the service adds at the end of the dialog's reply once a command is applied: what only
    the database knows, such as the stars a submitted assessment got in its quota scope."""

    text: str


@dataclass(frozen=True)
class UserInput:
    """One message from a user, freed of the WeChat protocol."""

    kind: InputKind
    text: str = ""
    media_id: str = ""
    pic_url: str = ""
    #: A voice message's recognised text as the reply echoes it (听到：…); "" for anything typed.
    heard: str = ""


@dataclass
class DialogState:
    """What a user's conversation remembers between messages. JSON-safe: it lives in Redis.

    ``rubric_version`` is the version of the sheet the state was made with; a state made with another
    version is dropped rather than applied to the wrong items.
    """

    dialog: str = ""
    step: str = ""
    item: int = 0
    page: int = 1
    inspection_id: int = 0
    rubric_key: str = ""
    rubric_version: str = ""
    wrong_inputs: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DialogState:
        """Rebuild a state; unknown keys and values of the wrong type fall back to the defaults."""
        if not isinstance(data, dict):
            return cls()
        defaults = cls()
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name, getattr(defaults, f.name))
            values[f.name] = (
                value if isinstance(value, type(getattr(defaults, f.name))) else getattr(defaults, f.name)
            )
        return cls(**values)


@dataclass(frozen=True)
class Outcome:
    """The result of one turn: the reply (None when a command's result decides it), the new state,
    and the commands the service must apply in one transaction before the reply is sent.

    ``kept`` is what the turn's record keeps for WeChat's retry when the reply must not be stored as
    sent (it shows a ballot's answer to its voter); None: the reply itself."""

    reply: Reply | None
    state: DialogState
    commands: tuple[Command, ...] = ()
    kept: Reply | None = None


def fit(prefix: str, reply: Reply) -> Reply:
    """``prefix`` before the reply, cut (with “…”) where the whole would pass WeChat's limit once
    neutral (dialogs.markup): the question and its links always fit whole."""
    whole = Reply(prefix + reply.text, reply.choices)
    if reply_bytes(whole) <= MAX_REPLY_BYTES:
        return whole
    room = MAX_REPLY_BYTES - reply_bytes(reply) - len("…\n".encode())
    cut = markup.cut(prefix, max(room, 0))
    return Reply((cut + "…\n" if cut else "") + reply.text, reply.choices)


def reply_bytes(reply: Reply, link_overhead: int = 64) -> int:
    """An upper bound of a reply's size as sent: its text neutral, its choices rendered as links."""
    size = markup.size(reply.text)
    for choice in reply.choices:
        label, content = markup.neutral(choice.label), markup.attribute(choice.content)
        size += link_overhead + len(label.encode("utf-8")) + len(content.encode("utf-8"))
    return size
