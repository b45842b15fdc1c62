"""The README and docs/ stay true to the code: the settings, commands and notice kinds they list are
the ones the code has, every relative link lands on a file and a heading, and the README's test
command is what CI runs."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import fields
from pathlib import Path

import click
import pytest

from chatbot.cli import main
from chatbot.config import SETTINGS, Config
from chatbot.store.notice_kinds import NoticeKind

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`]+)`")
VARIABLE = re.compile(r"[A-Z][A-Z0-9_]*[A-Z0-9_](?:<KIND>)?")


# -- reading Markdown -------------------------------------------------------------------------------


def prose_lines(text: str) -> Iterator[str]:
    """The lines outside fenced code blocks."""
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            yield line


def code_spans(path: Path) -> set[str]:
    """The inline code spans of a page, outside fenced blocks."""
    return {
        span for line in prose_lines(path.read_text(encoding="utf-8")) for span in CODE_SPAN.findall(line)
    }


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a page, numbered as GitHub numbers repeated headings."""
    seen: dict[str, int] = {}
    found = set()
    for line in prose_lines(path.read_text(encoding="utf-8")):
        match = re.match(r"#{1,6} (.+)", line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def section(path: Path, heading: str) -> list[str]:
    """The lines under ``## heading`` up to the next heading of that level or above."""
    lines = list(prose_lines(path.read_text(encoding="utf-8")))
    start = lines.index(f"## {heading}") + 1
    end = next((i for i in range(start, len(lines)) if re.match(r"#{1,2} ", lines[i])), len(lines))
    return lines[start:end]


def table_variables(path: Path, heading: str) -> set[str]:
    """The variable names in the first column of the table under ``## heading``."""
    names = set()
    for line in section(path, heading):
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names |= {span for span in CODE_SPAN.findall(first_cell) if VARIABLE.fullmatch(span)}
    return names


# -- what the code reads ----------------------------------------------------------------------------


class _Name(str):
    """A variable name yielded when Config walks the environment: records the prefixes it is tried
    with (``WECHAT_TEMPLATE_ID_<KIND>``) and matches none."""

    env: RecordingEnv

    def startswith(self, prefix: object, *args: object) -> bool:  # type: ignore[override]
        assert isinstance(prefix, str), prefix
        self.env.prefixes.add(prefix)
        return False


class RecordingEnv(Mapping[str, str]):
    """An environment that remembers every name looked up in it."""

    def __init__(self, values: dict[str, str]) -> None:
        self.given = values
        self.read: set[str] = set()
        self.prefixes: set[str] = set()

    def __getitem__(self, name: str) -> str:
        if isinstance(name, _Name):
            return ""
        self.read.add(name)
        return self.given[name]

    def __iter__(self) -> Iterator[str]:
        name = _Name("?")
        name.env = self
        yield name

    def __len__(self) -> int:
        return len(self.given) + 1


def config_reads(tmp_path: Path) -> set[str]:
    """Every variable ``Config.from_env`` reads, in development and in production."""
    names: set[str] = set()
    for values in (
        {},
        {
            "NIANJIAN_ENV": "production",
            "WECHAT_ALLOW_PLAINTEXT": "1",
            "PERSONAL_DATA_KEY": "A" * 43 + "=",
        },
    ):
        env = RecordingEnv({"NIANJIAN_INSTANCE": str(tmp_path), **values})
        Config.from_env(env)
        names |= env.read | {f"{prefix}<KIND>" for prefix in env.prefixes}
    return names


def _is_environ(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def environ_reads_outside_config() -> set[str]:
    """The names the service's packages read straight from ``os.environ`` (not through Config)."""
    names = set()
    for package in ("chatbot", "dialogs", "rubrics", "scheduler"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "chatbot" / "config.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                name: ast.expr | None = None
                if isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Attribute):
                    if (node.func.attr == "get" and _is_environ(node.func.value)) or (
                        node.func.attr == "getenv" and isinstance(node.func.value, ast.Name)
                    ):
                        name = node.args[0]
                elif isinstance(node, ast.Subscript) and _is_environ(node.value):
                    name = node.slice
                if isinstance(name, ast.Constant) and isinstance(name.value, str):
                    names.add(name.value)
    return names


def command_paths(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[str]:
    """Every command a user can run, as typed after ``nianjian``."""
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, name
            yield from command_paths(sub, (*path, name))
    else:
        yield " ".join(path)


# -- the tests --------------------------------------------------------------------------------------


def test_the_configuration_table_lists_exactly_the_settings_config_reads(tmp_path: Path) -> None:
    documented = table_variables(DOCS / "configuration.md", "Settings")
    read = config_reads(tmp_path)
    assert "WECHAT_TEMPLATE_ID_<KIND>" in read and "REMIND_SELF_CHECK_DAYS" in read  # the probe works
    assert documented == read, (
        f"undocumented: {sorted(read - documented)}; not read: {sorted(documented - read)}"
    )


def test_the_configuration_table_states_each_settings_declaration() -> None:
    """Each row of the settings table is its setting's declaration (chatbot.config.SETTINGS): the same
    meaning and default, one row per variable."""
    documented: dict[str, tuple[str, str]] = {}
    for line in section(DOCS / "configuration.md", "Settings"):
        if line.startswith("| `"):
            name, meaning, default = (cell.strip() for cell in line.strip("|").split(" | "))
            assert name.count("`") == 2, f"one variable a row: {name}"
            documented[name.strip("`")] = (meaning, default)
    declared = {setting.name: (setting.meaning, setting.shown_default) for setting in SETTINGS}
    assert list(documented) == list(declared)  # the declaration's order, the docs' sections
    for name, row in documented.items():
        assert row == declared[name], name


def test_every_field_of_config_is_filled_by_a_declared_setting() -> None:
    assert {setting.field for setting in SETTINGS} == {field.name for field in fields(Config)}
    assert len({setting.name for setting in SETTINGS}) == len(SETTINGS)


def test_the_variables_read_outside_config_are_listed_apart(tmp_path: Path) -> None:
    """Variables only read outside Config; a setting of Config that `serve --fake-wechat` fills in for its
    children is in the Settings table already."""
    documented = table_variables(DOCS / "configuration.md", "Read outside `Config`")
    read = environ_reads_outside_config() - config_reads(tmp_path)
    assert documented == read, (
        f"undocumented: {sorted(read - documented)}; not read: {sorted(documented - read)}"
    )


def test_every_command_is_in_the_cli_page() -> None:
    spans = code_spans(DOCS / "cli.md")
    missing = [
        path
        for path in command_paths(main)
        if not any(span == f"nianjian {path}" or span.startswith(f"nianjian {path} ") for span in spans)
    ]
    assert not missing, f"commands not in docs/cli.md: {missing}"


def test_every_kind_of_notice_is_in_the_notices_page() -> None:
    missing = sorted({kind.value for kind in NoticeKind} - code_spans(DOCS / "notices.md"))
    assert not missing, f"kinds not in docs/notices.md: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_every_relative_link_lands_on_a_file_and_a_heading(page: Path) -> None:
    broken = []
    for line in prose_lines(page.read_text(encoding="utf-8")):
        for target in LINK.findall(line):
            if re.match(r"[a-z]+:", target):
                continue  # http:, https:, mailto:
            file_part, _, anchor = target.partition("#")
            linked = (page.parent / file_part).resolve() if file_part else page
            if not linked.exists():
                broken.append(f"{target}: no file {linked}")
            elif anchor and (linked.suffix != ".md" or anchor not in anchors(linked)):
                broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    assert not broken, broken


def test_the_readme_names_each_page_of_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [page.name for page in DOCS.glob("*.md") if f"(docs/{page.name})" not in readme] == []


def test_the_readmes_test_command_is_the_one_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    command = ci[ci.index("# The README's test command, word for word.") + 1]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"```sh\n{command}\n```" in readme
