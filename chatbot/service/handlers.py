"""The command registry's start-up check: every command type has exactly one handler.

A registry is built from handlers, each applying the command types its ``command`` parameter is
annotated with (one type or a union, so what a handler is registered for and what mypy checks its
match against are the same declaration), and checked against every command type the included routers
declare (dialogs/router.py) when the module that builds it is imported, so a command without a
handler, or with two, stops the service at start instead of reaching a user.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, get_args, get_type_hints

H = TypeVar("H", bound=Callable[..., Any])


class HandlerRegistryError(RuntimeError):
    """The registry does not give every command type exactly one handler."""


def command_types(union: object) -> tuple[type, ...]:
    """The command types a union (or a single command type) stands for."""
    members = get_args(union) or (union,)
    if not all(isinstance(member, type) for member in members):
        raise HandlerRegistryError(f"不是命令类型：{union!r}")
    return tuple(member for member in members if isinstance(member, type))


def handled_types(handler: Callable[..., Any]) -> tuple[type, ...]:
    """The command types ``handler`` applies: the annotation of its ``command`` parameter."""
    annotation = get_type_hints(handler).get("command")
    if annotation is None:
        raise HandlerRegistryError(f"处理函数 {handler.__qualname__} 没有标注 command 参数的类型")
    return command_types(annotation)


def checked_registry(handlers: Iterable[H], known_types: Iterable[type]) -> Mapping[type, H]:
    """The registry of ``handlers``, each of ``known_types`` mapped to its one handler; raises
    HandlerRegistryError when a type has no handler or several, or a handler applies a type that is
    not one of ``known_types``."""
    registry: dict[type, H] = {}
    doubled: list[str] = []
    for handler in handlers:
        for kind in handled_types(handler):
            if kind in registry:
                doubled.append(kind.__name__)
            registry[kind] = handler
    known = set(known_types)
    missing = sorted(kind.__name__ for kind in known - registry.keys())
    stray = sorted(kind.__name__ for kind in registry.keys() - known)
    problems = [
        *(f"命令 {name} 没有处理函数" for name in missing),
        *(f"命令 {name} 有多个处理函数" for name in sorted(set(doubled))),
        *(f"{name} 不是命令类型，却登记了处理函数" for name in stray),
    ]
    if problems:
        raise HandlerRegistryError("；".join(problems) + "。")
    return registry
