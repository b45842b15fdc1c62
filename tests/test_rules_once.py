"""Each rule stated once: the pass mark and the five-star quota in rubrics/, every setting's default on
its field of ``Config``; everything else — the settings, the texts that print them — takes them from there."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from chatbot.app import create_app
from chatbot.config import SETTINGS, Config, KindSetting
from chatbot.console.access import create_user
from chatbot.inspection import campaigns, organisations
from rubrics.democratic import ALL_MEMBERS_MAX
from rubrics.quota import DEFAULT_QUOTA_PERCENT
from rubrics.scoring import DEFAULT_PASS_MARK
from tests.conftest import Backend, make_config
from tests.test_console import Console

ROOT = Path(__file__).resolve().parent.parent
#: A rule's number, and the words of the names it belongs beside: outside rubrics/ such a name is never
#: compared with, set to or defaulted to the literal number.
RULES: dict[int, tuple[str, ...]] = {
    int(DEFAULT_PASS_MARK): ("score", "mark", "total"),
    DEFAULT_QUOTA_PERCENT: ("quota", "percent"),
}
#: Texts that print a rule's number write it from the rule: never as a literal.
PRINTED = re.compile(rf"(?<![\d.]){int(DEFAULT_PASS_MARK)} ?分|(?<![\d.]){DEFAULT_QUOTA_PERCENT} ?[%％]")
KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


def _literal(node: ast.AST | None) -> Decimal | None:
    """The number a node writes out: 60, "60", 60.0 or Decimal(60)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Decimal":
        return _literal(node.args[0]) if len(node.args) == 1 else None
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str):
        if isinstance(node.value, bool):
            return None
        try:
            return Decimal(str(node.value).strip())
        except ArithmeticError:
            return None
    return None


def _named(node: ast.AST | str, words: tuple[str, ...]) -> bool:
    text = (node if isinstance(node, str) else ast.unparse(node)).lower()
    return any(word in text for word in words)


def _pairs(tree: ast.AST) -> Iterator[tuple[ast.AST | str, ast.AST | None]]:
    """(a name, the expression set beside it) for every comparison, assignment, keyword and default."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for value in operands:
                for other in operands:
                    if other is not value:
                        yield other, value
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                yield target, node.value
        elif isinstance(node, ast.AnnAssign):
            yield node.target, node.value
        elif isinstance(node, ast.keyword) and node.arg:
            yield node.arg, node.value
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            for arg, default in zip(
                positional[len(positional) - len(args.defaults) :], args.defaults, strict=True
            ):
                yield arg.arg, default
            for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
                yield arg.arg, kw_default


def stray_rules(root: Path, folders: tuple[str, ...] = ("chatbot", "dialogs", "scheduler")) -> list[str]:
    """Where a rule's number is written out instead of taken from rubrics/: file:line and the code."""
    found = []
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            where = path.relative_to(root).as_posix()
            for name, value in _pairs(tree):
                number = _literal(value)
                if number is not None and number in RULES and _named(name, RULES[int(number)]):
                    found.append(f"{where}:{getattr(value, 'lineno', '?')}: {ast.unparse(value)}")
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and PRINTED.search(node.value)
                ):
                    found.append(f"{where}:{node.lineno}: {node.value[:40]}")
        for path in sorted((root / folder).rglob("*.html")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if PRINTED.search(line):
                    found.append(f"{path.relative_to(root).as_posix()}:{number}: {line.strip()[:40]}")
    return found


def test_the_scan_finds_a_rule_written_out(tmp_path: Path) -> None:
    (tmp_path / "chatbot").mkdir()
    (tmp_path / "chatbot" / "planted.py").write_text(
        "from decimal import Decimal\n"
        "def f(score, quota_percent=20):\n"
        "    pass_mark: Decimal = Decimal('60')\n"
        "    width = 60\n"  # not a score: the same number, another rule
        "    return score >= 60, '及格线 60 分', f'名额 {quota_percent}%'\n"
    )
    (tmp_path / "chatbot" / "page.html").write_text("<p>五星级不超过 20%。</p>\n<p>{{ percent }}%</p>\n")
    assert stray_rules(tmp_path) == [
        "chatbot/planted.py:2: 20",
        "chatbot/planted.py:3: Decimal('60')",
        "chatbot/planted.py:5: 60",
        "chatbot/planted.py:5: 及格线 60 分",
        "chatbot/page.html:1: <p>五星级不超过 20%。</p>",
    ]


def test_the_pass_mark_and_the_quota_are_written_only_in_rubrics() -> None:
    assert stray_rules(ROOT) == []


def test_every_setting_left_unset_takes_the_default_it_declares(tmp_path: Path) -> None:
    env = {"NIANJIAN_INSTANCE": str(tmp_path), "SECRET_KEY": "x", "PERSONAL_DATA_KEY": KEY}
    config = Config.from_env(env)
    literal = [s for s in SETTINGS if s.derive is None and not isinstance(s, KindSetting)]
    assert len(literal) > 20
    for setting in literal:
        value = getattr(config, setting.field)
        if setting.key is not None:
            value = value[setting.key]
        assert value == setting.parse(setting.name, setting.default), setting.name
    assert config.templates == {"": ""} and config.personal_data_key == KEY
    assert config.offsets["report"] == (14, 7, 3, 1) and config.wechat_api_timeout == (3.05, 10.0)
    assert (config.pass_mark, config.quota_percent, config.evaluation_all_members_max) == (
        DEFAULT_PASS_MARK,
        DEFAULT_QUOTA_PERCENT,
        ALL_MEMBERS_MAX,
    )


@pytest.fixture
def app(backend: Backend, tmp_path: Path) -> Iterator[Flask]:
    """The console with a five-star quota other than the plan's."""
    config = make_config(backend, tmp_path, FIVE_STAR_QUOTA_PERCENT="25")
    application = create_app(config, **backend.parts())
    yield application
    application.extensions["nianjian.engine"].dispose()


def test_the_console_states_the_configured_quota(app: Flask, db: Session) -> None:
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY", "固原市总工会"))
        campaigns.open_year(db, 2026)
        create_user(db, "GY", "city", "city-password-1")
    browser = Console(app.test_client())
    browser.login("city", "city-password-1")
    dashboard = browser.get("/console/")
    assert "五星级不超过本范围评定总数的 25%" in dashboard
    assert "20%" not in dashboard
