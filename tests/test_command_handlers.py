"""Every command type has exactly one handler, checked when chatbot.service.apply is imported.

Each feature's handler (chatbot/service/features/) is registered by the type of its ``command``
parameter; a command type declared by a router included in dialogs/router.py with no handler, or with
two, raises HandlerRegistryError at import, so the service does not start rather than a user's turn
returning nothing after the chat replied. A word or command registered twice stops dialogs/router.py.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass
from typing import get_args

import pytest

from chatbot.service.apply import HANDLER_FUNCTIONS, HANDLERS
from chatbot.service.features import ballot, publication, selfcheck
from chatbot.service.handlers import HandlerRegistryError, checked_registry
from chatbot.service.rights import Rights
from dialogs.ballot import BallotCommand
from dialogs.commands import Command
from dialogs.context import UserContext
from dialogs.engine import DialogState
from dialogs.parsing import Intent
from dialogs.publication import FileObjection
from dialogs.router import root
from dialogs.routing import Router, RoutingError
from dialogs.selfcheck import StartSelfCheck

REAL_HANDLERS = list(HANDLER_FUNCTIONS)
COMMANDS = root.commands


@dataclass(frozen=True)
class ForgottenCommand(Command):
    """A command a dialog might add without a handler."""

    inspection_id: int


def test_the_real_registry_gives_every_command_the_routers_declare_one_handler() -> None:
    assert set(HANDLERS) == set(COMMANDS)
    assert len(COMMANDS) == len(set(COMMANDS))
    assert HANDLERS[StartSelfCheck] is selfcheck.apply
    assert HANDLERS[FileObjection] is publication.apply


def test_a_command_type_without_a_handler_is_refused() -> None:
    with pytest.raises(HandlerRegistryError, match="命令 ForgottenCommand 没有处理函数"):
        checked_registry(REAL_HANDLERS, (*COMMANDS, ForgottenCommand))


def test_a_handler_left_out_of_the_registry_leaves_its_commands_without_one() -> None:
    without_ballot = [h for h in REAL_HANDLERS if h is not ballot.apply]
    with pytest.raises(HandlerRegistryError) as refused:
        checked_registry(without_ballot, COMMANDS)
    for kind in get_args(BallotCommand):
        assert f"命令 {kind.__name__} 没有处理函数" in str(refused.value)


def test_a_command_type_with_two_handlers_is_refused() -> None:
    def again(applier: Rights, command: StartSelfCheck) -> None:
        pass

    with pytest.raises(HandlerRegistryError, match="命令 StartSelfCheck 有多个处理函数"):
        checked_registry([*REAL_HANDLERS, again], COMMANDS)


def test_a_handler_of_a_type_that_is_no_command_is_refused() -> None:
    def stray(applier: Rights, command: ForgottenCommand) -> None:
        pass

    with pytest.raises(HandlerRegistryError, match="ForgottenCommand 不是命令类型"):
        checked_registry([*REAL_HANDLERS, stray], COMMANDS)


def test_a_handler_without_a_command_annotation_is_refused() -> None:
    def untyped(applier, command):
        pass

    with pytest.raises(HandlerRegistryError, match="没有标注 command 参数的类型"):
        checked_registry([*REAL_HANDLERS, untyped], COMMANDS)


def test_a_word_or_a_command_registered_twice_stops_the_routers() -> None:
    def answer(state: DialogState, intent: Intent, ctx: UserContext) -> None:
        return None

    first, again = Router.of("first"), Router.of("again")
    first.word("自评")(answer)
    again.word("自评")(answer)
    with pytest.raises(RoutingError, match="指令“自评”被重复登记"):
        Router.of("root").include_router(first, again)
    with pytest.raises(RoutingError, match="命令 StartSelfCheck 被重复声明"):
        Router.of("root").include_router(Router.of("a", StartSelfCheck), Router.of("b", StartSelfCheck))
    with pytest.raises(RoutingError, match="同义说法“菜单”被重复登记"):
        first.word("帮助", synonyms=("菜单", "菜单"))(answer)


def test_a_command_a_router_declares_without_a_handler_stops_the_import() -> None:
    """As a new feature's command with no handler would: the service's module does not import."""
    script = textwrap.dedent(
        """
        from dataclasses import dataclass

        from dialogs.commands import Command
        from dialogs.router import root
        from dialogs.routing import Router


        @dataclass(frozen=True)
        class ForgottenCommand(Command):
            inspection_id: int


        root.include_router(Router.of("forgotten", ForgottenCommand))
        try:
            import chatbot.service.apply
        except Exception as error:
            print(type(error).__name__, error)
        else:
            print("imported")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "HandlerRegistryError 命令 ForgottenCommand 没有处理函数。"
