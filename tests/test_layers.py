"""The dependency direction, read from the source: scheduler → chatbot → dialogs → rubrics, the domain
(chatbot/inspection) below the chat layer, and the pure packages free of the service's libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: What the pure packages never import: the web, the database, Redis, WeChat.
SERVICE_LIBRARIES = ("flask", "werkzeug", "sqlalchemy", "alembic", "redis", "wechatpy", "requests")


def imported(path: Path, root: Path = ROOT) -> set[str]:
    """Every module a source file imports, absolute (a relative import resolved against its package)."""
    package = path.relative_to(root).with_suffix("").parts[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def offenders(
    folder: str, forbidden: tuple[str, ...], recursive: bool = True, root: Path = ROOT
) -> dict[str, list[str]]:
    """Files under ``folder`` importing any of the ``forbidden`` top-level modules, with what they import."""
    files = (root / folder).rglob("*.py") if recursive else (root / folder).glob("*.py")
    found: dict[str, list[str]] = {}
    for path in sorted(files):
        bad = sorted(name for name in imported(path, root) if name.split(".")[0] in forbidden)
        if bad:
            found[path.relative_to(root).as_posix()] = bad
    return found


def test_the_import_reader_sees_absolute_and_relative_imports(tmp_path: Path) -> None:
    folder = tmp_path / "chatbot" / "inspection"
    folder.mkdir(parents=True)
    (folder / "clean.py").write_text("from rubrics.binding import BindResult\nimport sqlalchemy\n")
    probe = folder / "probe.py"
    probe.write_text("import dialogs.walk\nfrom dialogs import binding\nfrom .. import service\n")
    assert imported(probe, tmp_path) >= {"dialogs.walk", "dialogs", "dialogs.binding", "chatbot.service"}
    assert offenders("chatbot/inspection", ("dialogs",), root=tmp_path) == {
        "chatbot/inspection/probe.py": ["dialogs", "dialogs.binding", "dialogs.walk"]
    }


def test_the_domain_imports_nothing_from_the_chat_layer() -> None:
    """chatbot/inspection is shared by the chat, the console and the CLI: the values it shares with the
    dialogs (binding results, democratic figures, objections, the submission rule) live in rubrics/."""
    assert offenders("chatbot/inspection", ("dialogs",), recursive=False) == {}


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("rubrics", ("dialogs", "chatbot", "scheduler", *SERVICE_LIBRARIES)),
        ("dialogs", ("chatbot", "scheduler", *SERVICE_LIBRARIES)),
        ("chatbot", ("scheduler",)),
    ],
)
def test_dependencies_point_one_way_and_the_pure_packages_stay_pure(
    folder: str, forbidden: tuple[str, ...]
) -> None:
    assert offenders(folder, forbidden) == {}
