"""Routers: each feature registers its command words, its dialog and its commands on its own
``Router``; dialogs/router.py includes them all in one place (modelled on aiogram's ``Router`` and
``include_router``).

A word is registered once with what the turn needs loaded for it, who it is for (its line in `帮助`)
and its handler; a dialog once with its turn handler and what it reads; a command type once by the
feature that gives it. Including a router that registers a word, a synonym, a dialog or a command
type already registered raises RoutingError: the service does not start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from typing import TypeVar

from dialogs.commands import Command, command_types
from dialogs.context import RoleView, UserContext
from dialogs.engine import DialogState, Outcome
from dialogs.parsing import Intent

#: A word's handler: None lets the dialog in progress answer.
WordHandler = Callable[[DialogState, Intent, UserContext], Outcome | None]
DialogHandler = Callable[[DialogState, Intent, UserContext], Outcome]
H = TypeVar("H", bound=WordHandler)
D = TypeVar("D", bound=DialogHandler)
V = TypeVar("V")


KINDS = {"word": "指令", "synonym": "同义说法", "alias": "别名", "dialog": "对话"}


class RoutingError(RuntimeError):
    """Something registered twice, found when the routers are included."""


@dataclass(frozen=True)
class Needs:
    """What the service must load for this turn beyond the user's bindings and own self-check."""

    evaluation_code: str = ""  # 测评 CODE, scene eval:CODE
    evaluation_id: int = 0  # the ballot in progress
    member_evaluation: bool = False  # 测评 without a code: the evaluation the user is invited to
    assess_org: str = ""  # 考评 / 复查 / 抽查 / 退回 / 录入测评 / 补课验收 C
    assess_inspection_id: int = 0  # the walk in progress
    assess_mode: str = ""  # assessment | re_review | sample_check | return | paper | remediation
    children: bool = False  # an evaluator's 进度
    result: bool = False  # 结果 / 异议
    result_code: str = ""  # 结果 CODE / 异议 CODE 理由: that union's publication
    remediation: bool = False  # the chair's 补课 / 补课完成
    self_check: bool = False  # the chair's own self-check (自评, 进度, its walk, an idle message)
    filed_objections: bool = False  # 进度: the objections the user filed, with their outcomes

    @property
    def campaign(self) -> bool:
        """Whether the turn reads the open campaign beyond the chair's own inspection."""
        return bool(self.assess_org or self.member_evaluation or self.result or self.children)

    def merged(self, fallback: Needs) -> Needs:
        """These needs, with whatever they leave empty taken from ``fallback`` (the dialog's own); a
        word that names its target (``assess_org``) replaces the dialog's target."""
        if self.assess_org:
            fallback = replace(fallback, assess_inspection_id=0, assess_mode="")
        values = {f.name: getattr(self, f.name) or getattr(fallback, f.name) for f in fields(self)}
        return Needs(**values)


def nothing(intent: Intent) -> Needs:
    """A word that reads nothing beyond the user's bindings."""
    return Needs()


def first_code(intent: Intent) -> str:
    """The word's first argument: an organisation's code."""
    return intent.arg.split()[0] if intent.arg else ""


def organisation(mode: str, always: bool = False) -> Callable[[Intent], Needs]:
    """A word whose first argument is an organisation's code, read for ``mode``; without one, the
    dialog in progress (unless ``always``)."""

    def needs(intent: Intent) -> Needs:
        if intent.arg or always:
            return Needs(assess_org=first_code(intent), assess_mode=mode)
        return Needs()

    return needs


def inspection_in_progress(state: DialogState) -> Needs:
    """What a dialog over an inspection reads: the inspection it walks, for its mode."""
    return Needs(assess_inspection_id=state.inspection_id, assess_mode=state.dialog)


def any_level(role: RoleView) -> bool:
    return True


def city(role: RoleView) -> bool:
    """The city federation's own binding: 抽查 is the city's."""
    return role.top


def inspected(role: RoleView) -> bool:
    """A union inspected each year (it has a rubric): its chair self-checks and remediates."""
    return role.inspected


@dataclass(frozen=True)
class Route:
    """One command word."""

    needs: Callable[[Intent], Needs]
    handle: WordHandler  # None: the dialog in progress answers
    roles: tuple[str, ...] = ()  # who it is for, in `帮助`; empty: everyone
    usage: str = ""  # its line in `帮助`
    anywhere: bool = True  # also inside a dialog; else only when no dialog is in progress
    #: Which of those bindings may use it (the level of the organisation), in `帮助`.
    level: Callable[[RoleView], bool] = any_level
    loads_self_check: bool = False  # the turn reads the chair's own self-check

    def offered_to(self, role: str, ctx: UserContext) -> bool:
        """Whether `帮助` lists the word under ``role`` for this user."""
        return role in self.roles and any(r.role == role and self.level(r) for r in ctx.roles)


@dataclass(frozen=True)
class DialogRoute:
    """One dialog: its turn handler and what it reads while it is in progress."""

    handle: DialogHandler
    needs: Callable[[DialogState], Needs]


def _no_needs(state: DialogState) -> Needs:
    return Needs()


@dataclass
class Router:
    """A feature's words, dialogs, synonyms and command types; ``include_router`` gathers routers."""

    name: str
    commands: tuple[type[Command], ...] = ()
    routes: dict[str, Route] = field(default_factory=dict)
    dialogs: dict[str, DialogRoute] = field(default_factory=dict)
    #: Other ways to say a whole message (`开始自评`) → the word.
    synonyms: dict[str, str] = field(default_factory=dict)
    #: Another spelling of a word that takes an argument (`纸质测评 C`) → the word.
    aliases: dict[str, str] = field(default_factory=dict)
    parent: Router | None = None

    @classmethod
    def of(cls, name: str, commands: object = None) -> Router:
        """A feature's router giving the command types of ``commands`` (a union, or one type)."""
        return cls(name, command_types(commands) if commands is not None else ())

    @property
    def root(self) -> Router:
        """The router every router is included in (dialogs/router.py)."""
        return self if self.parent is None else self.parent.root

    def word(
        self,
        word: str,
        *,
        needs: Callable[[Intent], Needs] = nothing,
        roles: tuple[str, ...] = (),
        usage: str = "",
        anywhere: bool = True,
        level: Callable[[RoleView], bool] = any_level,
        loads_self_check: bool = False,
        synonyms: Iterable[str] = (),
        aliases: Iterable[str] = (),
    ) -> Callable[[H], H]:
        """Register the decorated function as the handler of ``word``."""

        def register(handle: H) -> H:
            self._add(
                "word",
                self.routes,
                word,
                Route(needs, handle, roles, usage, anywhere, level, loads_self_check),
            )
            for said in synonyms:
                self._add("synonym", self.synonyms, said, word)
            for spelt in aliases:
                self._add("alias", self.aliases, spelt, word)
            return handle

        return register

    def dialog(self, name: str, needs: Callable[[DialogState], Needs] = _no_needs) -> Callable[[D], D]:
        """Register the decorated function as the turn handler of dialog ``name``."""

        def register(handle: D) -> D:
            self._add("dialog", self.dialogs, name, DialogRoute(handle, needs))
            return handle

        return register

    def include_router(self, *routers: Router) -> None:
        """Take every word, dialog, synonym and command type of ``routers``; RoutingError when any is
        registered twice."""
        for router in routers:
            if router.parent is not None or router is self:
                raise RoutingError(f"路由 {router.name} 被重复包含。")
            for word, route in router.routes.items():
                self._add("word", self.routes, word, route)
            for name, dialog in router.dialogs.items():
                self._add("dialog", self.dialogs, name, dialog)
            for said, word in router.synonyms.items():
                self._add("synonym", self.synonyms, said, word)
            for spelt, word in router.aliases.items():
                self._add("alias", self.aliases, spelt, word)
            doubled = set(self.commands) & set(router.commands)
            if doubled:
                raise RoutingError(f"命令 {'、'.join(sorted(t.__name__ for t in doubled))} 被重复声明。")
            self.commands = (*self.commands, *router.commands)
            router.parent = self

    def _add(self, kind: str, table: dict[str, V], key: str, value: V) -> None:
        if key in table:
            raise RoutingError(f"{KINDS[kind]}“{key}”被重复登记（{self.name}）。")
        table[key] = value
