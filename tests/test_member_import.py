"""`member import` onto a roll that already holds members (issue 23 point 4): the file is streamed and
staged, then merged — members already listed keep their row (id, cipher, created_at) with the name and
``imported_at`` refreshed, the others are added in the file's order, the rest of the roll is untouched;
a refused file changes nothing. Through the CLI, on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.documents.imports import CHUNK
from chatbot.store.models import AuditEntry, Member, Organisation
from chatbot.store.personal import PersonalDataKey
from tests.helpers import setup_county

KEY = base64.urlsafe_b64encode(b"r" * 32).decode()
FIRST = [("张三", "13800000001", "U01"), ("李四", "13800000002", "U01"), ("王五", "13800000003", "U02")]
SECOND = [
    ("新甲", "13900000009", "U01"),
    ("张三丰", "138-0000-0001", "U01"),  # on U01's roll already: refreshed
    ("王五", "13800000003", "U01"),  # on U02's roll, not U01's: added to U01
    ("新乙", "13900000008", "U02"),
]


@pytest.fixture
def keyed(cli, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PERSONAL_DATA_KEY", KEY)
    return cli


def _csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("name,phone,organisation\n" + "".join(f"{n},{p},{o}\n" for n, p, o in rows), "utf-8")
    return path


def _xlsx(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(["name", "phone", "organisation"])
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def _roll(db: Session) -> list[dict[str, Any]]:
    codes = dict(db.execute(select(Organisation.id, Organisation.code)).all())
    key = PersonalDataKey(KEY)
    found = [
        {
            "id": m.id,
            "org": codes[m.organisation_id],
            "name": m.name,
            "phone": key.decrypt(m.phone_cipher),
            "cipher": m.phone_cipher,
            "hash": m.phone_hash,
            "created_at": m.created_at,
            "imported_at": m.imported_at,
        }
        for m in db.scalars(select(Member).order_by(Member.id))
    ]
    db.rollback()
    return found


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_import_onto_a_roll_refreshes_the_listed_adds_the_rest_in_order(
    kind: str, keyed, db: Session, tmp_path: Path
) -> None:
    setup_county(db, 2)
    assert "已导入 3 名会员" in keyed("member", "import", str(_csv(tmp_path / "a.csv", FIRST)))
    before = {(m["org"], m["phone"]): m for m in _roll(db)}

    second = (_xlsx if kind == "xlsx" else _csv)(tmp_path / f"b.{kind}", SECOND)
    assert "已导入 3 名会员；1 名已在名册中，信息已更新" in keyed("member", "import", str(second))
    after = _roll(db)
    by_pair = {(m["org"], m["phone"]): m for m in after}
    assert len(after) == 6

    # Not in the file: the very same row.
    for pair in (("U01", "13800000002"), ("U02", "13800000003")):
        assert by_pair[pair] == before[pair]
    # In the file and on the roll: same row, cipher, hash and created_at; name and imported_at refreshed.
    zhang, old_zhang = by_pair[("U01", "13800000001")], before[("U01", "13800000001")]
    assert {k: v for k, v in zhang.items() if k not in ("name", "imported_at")} == {
        k: v for k, v in old_zhang.items() if k not in ("name", "imported_at")
    }
    assert zhang["name"] == "张三丰" and zhang["imported_at"] > old_zhang["imported_at"]
    # New: after every earlier member, in the file's order, created and listed by this import.
    added = after[3:]
    assert [(m["name"], m["phone"], m["org"]) for m in added] == [
        ("新甲", "13900000009", "U01"),
        ("王五", "13800000003", "U01"),
        ("新乙", "13900000008", "U02"),
    ]
    assert min(m["id"] for m in added) > max(m["id"] for m in before.values())
    assert all(m["created_at"] == m["imported_at"] == zhang["imported_at"] for m in added)
    assert by_pair[("U01", "13800000003")]["hash"] == before[("U02", "13800000003")]["hash"]
    assert by_pair[("U01", "13800000003")]["cipher"] != before[("U02", "13800000003")]["cipher"]

    entries = db.scalars(select(AuditEntry.after).where(AuditEntry.entity == "member")).all()
    db.rollback()
    assert [json.loads(e or "{}") for e in entries][-1] == {
        "file": second.name,
        "count": 4,
        "added": 3,
        "refreshed": 1,
    }


def test_a_refused_file_leaves_the_roll_as_it_was(keyed, db: Session, tmp_path: Path) -> None:
    """Rows are staged while the file streams; a bad row after whole batches were staged still
    refuses the file with its line, and neither the roll nor its names change."""
    setup_county(db, 2)
    keyed("member", "import", str(_csv(tmp_path / "a.csv", FIRST)))
    before = _roll(db)
    rows = [("张三丰", "13800000001", "U01")] + [
        (f"会员{n}", f"137{n:08d}", "U02") for n in range(2 * CHUNK + 10)
    ]
    rows.append(("", "13600000000", "U01"))
    refused = keyed.refused("member", "import", str(_csv(tmp_path / "bad.csv", rows)))
    assert "有 1 行有误，未导入任何内容" in refused and f"第 {len(rows) + 1} 行：姓名为空" in refused
    assert _roll(db) == before


def test_names_keep_every_character_and_numbers_are_told_apart_by_length(
    keyed, db: Session, tmp_path: Path
) -> None:
    """A name with a tab, a backslash or a line break is stored as written (the import writes COPY
    text on PostgreSQL); a landline whose digits read like a mobile number's is another number."""
    setup_county(db, 2)
    path = tmp_path / "odd.csv"
    path.write_text(
        'name,phone,organisation\n"甲\t乙",13800000001,U01\n"丙\\丁",013800000001,U01\n'
        '"戊\n己",0101234567,U01\n庚\\N,13800000002,U01\n',
        "utf-8",
    )
    assert "已导入 4 名会员" in keyed("member", "import", str(path))
    assert [(m["name"], m["phone"]) for m in _roll(db)] == [
        ("甲\t乙", "13800000001"),
        ("丙\\丁", "013800000001"),
        ("戊\n己", "0101234567"),
        ("庚\\N", "13800000002"),
    ]


def test_a_file_with_many_bad_rows_lists_the_first_200_and_counts_the_rest(
    keyed, db: Session, tmp_path: Path
) -> None:
    setup_county(db, 2)
    rows = [(f"会员{n}", f"138{n:08d}", "U01") for n in range(300)]
    rows += [(f"重复{n}", f"138{n:08d}", "U01") for n in range(250)]  # each number a second time
    refused = keyed.refused("member", "import", str(_csv(tmp_path / "twice.csv", rows)))
    assert "有 250 行有误，未导入任何内容" in refused and "……另有 50 行有误" in refused
    assert "第 302 行：电话 138****0000 在本组织中已在第 2 行出现" in refused
    assert "第 501 行" in refused and "第 502 行" not in refused
    assert _roll(db) == []
