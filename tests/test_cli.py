"""The admin CLI: organisations, imports, invitations, campaigns and the demo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from chatbot.cli import main
from chatbot.documents.labels import rubric_name


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NIANJIAN_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args))

    return invoke


def test_org_add_invite_and_campaign(run) -> None:
    assert run("org", "add", "--code", "GY", "--name", "固原市总工会").exit_code == 0
    assert run("org", "add", "--code", "XJ", "--name", "西吉县总工会", "--parent", "GY").exit_code == 0
    result = run(
        "org",
        "add",
        "--code",
        "XJ-001",
        "--name",
        "宏达工会",
        "--rubric",
        "non_public",
        "--parent",
        "XJ",
        "--members",
        "46",
    )
    assert result.exit_code == 0, result.output
    duplicate = run("org", "add", "--code", "XJ-001", "--name", "again", "--parent", "XJ")
    assert duplicate.exit_code != 0 and "已经存在" in duplicate.output
    orphan = run("org", "add", "--code", "X-9", "--name", "孤儿工会", "--rubric", "agency")
    assert orphan.exit_code != 0 and "须用 --parent" in orphan.output
    opened = run("campaign", "open", "2026")
    assert opened.exit_code == 0 and "新增 1 个基层工会的年检" in opened.output
    invite = run("invite", "create", "--org", "XJ-001", "--role", "chair", "--uses", "2")
    assert invite.exit_code == 0
    code = invite.output.strip().splitlines()[-1]
    assert len(code) == 8 and code.isalnum()
    assert run("invite", "create", "--org", "XJ", "--role", "chair").exit_code != 0
    assert run("invite", "create", "--org", "NOPE", "--role", "member").exit_code != 0


def test_import_csv_reports_every_bad_line_and_imports_nothing(run, tmp_path: Path) -> None:
    path = tmp_path / "orgs.csv"
    path.write_text(
        "code,name,rubric,parent,members\n"
        "GY,固原市总工会,,,\n"
        "XJ-001,宏达工会,non_public,GY,46\n"
        "XJ-002,,agency,GY,10\n"
        "XJ-003,某工会,unknown,GY,10\n"
        "XJ-004,某工会,agency,GY,many\n",
        encoding="utf-8",
    )
    result = run("org", "import", str(path))
    assert result.exit_code != 0
    assert "第 4 行：" in result.output and "第 5 行：" in result.output and "第 6 行：" in result.output
    assert "第 3 行：" not in result.output
    assert "未导入任何内容" in result.output and "members 应为不小于 0 的整数，实为“many”" in result.output
    assert run("org", "add", "--code", "GY", "--name", "固原市总工会").exit_code == 0  # GY was not imported
    good = tmp_path / "good.csv"
    good.write_text(
        "code,name,rubric,parent,members\nXJ-001,宏达工会,non_public,XJ,46\nXJ,西吉县总工会,,GY,\n",
        encoding="utf-8",
    )
    imported = run("org", "import", str(good))
    assert imported.exit_code == 0 and "已导入 2 个组织" in imported.output


def test_import_xlsx(run, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["code", "name", "rubric", "parent", "members"])
    sheet.append(["GY", "固原市总工会", None, None, None])
    sheet.append(["V-1", "东城社区工会", "village", "GY", 35])
    path = tmp_path / "orgs.xlsx"
    book.save(path)
    result = run("org", "import", str(path))
    assert result.exit_code == 0 and "已导入 2 个组织" in result.output, result.output


def test_demo_prints_invitation_codes_and_can_run_twice(run) -> None:
    first = run("demo")
    assert first.exit_code == 0, first.output
    for name in ("原州区总工会", "西吉县总工会", "隆德县总工会", "泾源县总工会", "彭阳县总工会", "开发区"):
        assert name in first.output
    for key in ("state_owned", "non_public", "agency", "joint", "township", "village"):
        assert f"（{rubric_name(key)}）" in first.output  # a union of every rubric, named in Chinese
    assert "state_owned" not in first.output
    assert "city / " in first.output and "yuanzhou / " in first.output
    passwords = re.findall(r"(?:city|yuanzhou) / (\S+)", first.output)
    assert len(passwords) == 2 and all(len(p) == 12 for p in passwords)
    assert not set("".join(passwords)) & set("lI1Oo0")  # no look-alikes to mistype from a printout
    # A township union with village unions under it, and an evaluator code for every parent.
    lines = first.output.splitlines()
    township = next(line for line in lines if line.strip().startswith("PY-001 "))
    assert "考评员" in township and f"（{rubric_name('township')}）" in township
    assert sum(f"（{rubric_name('village')}）" in line and "PY-001-0" in line for line in lines) == 2
    city = next(line for line in lines if line.strip().startswith("GY "))
    assert "考评员" in city
    again = run("demo")
    assert again.exit_code == 0 and "city：已存在" in again.output
    assert "nianjian admin passwd --username city 重设" in again.output


def test_without_settings_every_directory_shares_the_checkouts_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Walk item 1: a command run from another directory finds the same SQLite database, and no stray
    instance/ appears where it was run."""
    from chatbot import config

    checkout = tmp_path / "checkout"
    checkout.mkdir()
    monkeypatch.setattr(config, "SOURCE_CHECKOUT", checkout)
    for name in ("NIANJIAN_INSTANCE", "DATABASE_URL", "SECRET_KEY", "PERSONAL_DATA_KEY"):
        monkeypatch.delenv(name, raising=False)
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    runner = CliRunner()
    monkeypatch.chdir(here)
    added = runner.invoke(main, ["org", "add", "--code", "GY", "--name", "固原市总工会"])
    assert added.exit_code == 0, added.output
    monkeypatch.chdir(there)
    again = runner.invoke(main, ["org", "add", "--code", "GY", "--name", "固原市总工会"])
    assert again.exit_code != 0 and "已经存在" in again.output
    assert (checkout / "instance" / "nianjian.db").is_file()
    assert not (here / "instance").exists() and not (there / "instance").exists()
