"""Counting SQL statements: what the set-based campaign work is held to (a number of statements that
does not grow with the number of unions or members), in tests and in the benchmarks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


class StatementCounter:
    """The statements every engine sends while it listens (``before_cursor_execute``): one per
    execution — an executemany is one statement, as it is one round of the driver."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __str__(self) -> str:
        return "\n".join(f"{n}. {s.splitlines()[0][:160]}" for n, s in enumerate(self.statements, 1))


@contextmanager
def counting() -> Iterator[StatementCounter]:
    """Count the statements of the block, on every engine (those the CLI makes included)."""
    counter = StatementCounter()
    event.listen(Engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(Engine, "before_cursor_execute", counter)
