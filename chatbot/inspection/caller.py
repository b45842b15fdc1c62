"""Who acts in the chat: a WeChat account, known by its id and openid."""

from __future__ import annotations

from typing import Protocol


class Caller(Protocol):
    """The account behind a chat message: an ``Account`` row, or the service's light copy of one."""

    @property
    def id(self) -> int: ...

    @property
    def openid(self) -> str: ...
