"""Every command type has exactly one handler, checked when chatbot.service.apply is imported.

The Applier registers its handlers by the type of their ``command`` parameter; a command type of
dialogs.commands.Command with no handler, or with two, raises HandlerRegistryError at import, so the
service does not start rather than a user's turn returning nothing after the chat replied.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass
from typing import get_args

import pytest

from chatbot.service.apply import HANDLER_FUNCTIONS, HANDLERS, Applier, MemberCommand
from chatbot.service.handlers import HandlerRegistryError, checked_registry
from dialogs.commands import Command, FileObjection, StartSelfCheck

REAL_HANDLERS = list(HANDLER_FUNCTIONS)


@dataclass(frozen=True)
class WithdrawSelfCheck:
    """A command the dialogs might add without a handler."""

    inspection_id: int


def test_the_real_registry_gives_every_command_of_dialogs_one_handler() -> None:
    assert set(HANDLERS) == set(get_args(Command))
    assert HANDLERS[StartSelfCheck] is Applier._as_chair_do
    assert HANDLERS[FileObjection] is Applier._as_member_do


def test_a_command_type_without_a_handler_is_refused() -> None:
    with pytest.raises(HandlerRegistryError, match="命令 WithdrawSelfCheck 没有处理函数"):
        checked_registry(REAL_HANDLERS, Command | WithdrawSelfCheck)


def test_a_handler_left_out_of_the_registry_leaves_its_commands_without_one() -> None:
    without_member = [h for h in REAL_HANDLERS if h is not Applier._as_member_do]
    with pytest.raises(HandlerRegistryError) as refused:
        checked_registry(without_member, Command)
    for kind in get_args(MemberCommand):
        assert f"命令 {kind.__name__} 没有处理函数" in str(refused.value)


def test_a_command_type_with_two_handlers_is_refused() -> None:
    def again(applier: Applier, command: StartSelfCheck) -> None:
        pass

    with pytest.raises(HandlerRegistryError, match="命令 StartSelfCheck 有多个处理函数"):
        checked_registry([*REAL_HANDLERS, again], Command)


def test_a_handler_of_a_type_that_is_no_command_is_refused() -> None:
    def stray(applier: Applier, command: WithdrawSelfCheck) -> None:
        pass

    with pytest.raises(HandlerRegistryError, match="WithdrawSelfCheck 不是命令类型"):
        checked_registry([*REAL_HANDLERS, stray], Command)


def test_a_handler_without_a_command_annotation_is_refused() -> None:
    def untyped(applier, command):
        pass

    with pytest.raises(HandlerRegistryError, match="没有标注 command 参数的类型"):
        checked_registry([*REAL_HANDLERS, untyped], Command)


def test_a_command_added_to_dialogs_without_a_handler_stops_the_import() -> None:
    """As a new command in dialogs.commands.Command would: the service's module does not import."""
    script = textwrap.dedent(
        """
        from dataclasses import dataclass

        import dialogs.commands


        @dataclass(frozen=True)
        class WithdrawSelfCheck:
            inspection_id: int


        dialogs.commands.Command = dialogs.commands.Command | WithdrawSelfCheck
        try:
            import chatbot.service.apply
        except Exception as error:
            print(type(error).__name__, error)
        else:
            print("imported")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "HandlerRegistryError 命令 WithdrawSelfCheck 没有处理函数。"
