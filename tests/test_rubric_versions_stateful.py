"""Rubric versions over random orders of events (Hypothesis stateful testing), through the public
surfaces: `nianjian rubrics import` of a few sheets revised in a spreadsheet (an item added, one removed,
one re-pointed, the shipped sheet again), `nianjian campaign open YEAR`, a chair's self-check items in
chat (paused and resumed at any point), the parent union's assessment in chat, and the results and the
score sheet from the CLI. After every step: each inspection is on the version its campaign pinned when
it opened, never mixes two, keeps its figures when a later sheet is imported, and its score is the
rubric's rule applied to that version's sheet, computed here from the sheet's rows."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from chatbot.inspection import organisations
from chatbot.store.models import Campaign, Inspection, ItemScore, Organisation
from chatbot.wechat.simulator import Simulator
from rubrics import get_rubric
from tests.helpers import WAIVER, complete_record
from tests.rubric_tables import Row, rows_of, write_table
from tests.stateful_world import World, world  # noqa: F401  (the fixture)

SHIPPED = get_rubric("village")
ADDED = "开展职工数字技能培训，年内培训职工不少于一次。"


def _variants() -> dict[str, list[Row]]:
    rows = rows_of(SHIPPED)
    first = rows[0]
    return {
        "shipped": rows,
        "added": [*rows, (rows[-1][0], len(rows) + 1, ADDED, 2)],
        "removed": rows[:-1],
        "repointed": [(first[0], 1, first[2], int(str(first[3])) + 1), *rows[1:]],
    }


VARIANTS = _variants()
UNIONS = ("U01", "U02")
YEARS = (2026, 2027, 2028)
#: What a chair or an evaluator types for an item, and what it is worth on an item of ``points``.
ANSWERS = st.sampled_from(["满分", "0", "1", "0.5"])
ASSESSED = st.sampled_from(["同", "同", "0", "1"])


def worth(answer: str, points: int) -> Decimal:
    return Decimal(points) if answer == "满分" else Decimal(answer)


def percent(raw: Decimal, total: int) -> Decimal:
    """The plan's rule: raw total / the sheet's max total × 100, half up to one decimal."""
    return (raw * 100 / total).quantize(Decimal("0.1"), ROUND_HALF_UP)


def cells(path: Path) -> str:
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    return "\n".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value)


@dataclass
class Sheet:
    """One version as the test knows it: its rows (the spreadsheet's)."""

    rows: list[Row]

    @property
    def points(self) -> dict[int, int]:
        return {int(str(no)): int(str(points)) for _d, no, _t, points in self.rows}

    @property
    def total(self) -> int:
        return sum(self.points.values())


@dataclass
class Model:
    versions: dict[str, Sheet] = field(default_factory=lambda: {SHIPPED.version: Sheet(VARIANTS["shipped"])})
    latest: str = SHIPPED.version
    pins: dict[int, str] = field(default_factory=dict)  # year → the village version it pinned
    self_scores: dict[tuple[int, str], dict[int, Decimal]] = field(default_factory=dict)
    submitted: set[tuple[int, str]] = field(default_factory=set)
    assessed: dict[tuple[int, str], dict[int, Decimal]] = field(default_factory=dict)
    #: The figures of a rated inspection: (version, raw total, score), never to change.
    figures: dict[tuple[int, str], tuple[str, Decimal, Decimal]] = field(default_factory=dict)

    @property
    def year(self) -> int:
        return max(self.pins)


ITEM = re.compile(r"【(\d+)/(\d+)】")


class VersionsMachine(RuleBasedStateMachine):
    world: World  # set by the test

    @initialize()
    def city(self) -> None:
        w = self.world
        w.wipe()
        self.m = Model()
        with w.db.begin():
            organisations.add_org(w.db, organisations.OrgRow("GY", "固原市总工会"))
            organisations.add_org(w.db, organisations.OrgRow("YZ", "原州区总工会", parent="GY"))
            for code in UNIONS:
                organisations.add_org(
                    w.db, organisations.OrgRow(code, f"{code}社区工会", "village", "YZ", 40)
                )
            chairs = {code: organisations.create_invitation(w.db, code, "chair").code for code in UNIONS}
            evaluator = organisations.create_invitation(w.db, "YZ", "evaluator").code
        self.chairs: dict[str, Simulator] = {}
        for code in UNIONS:
            self.chairs[code] = w.user(f"chair-{code}")
            self.chairs[code].say(f"绑定 {chairs[code]}")
        self.evaluator = w.user("evaluator")
        self.evaluator.say(f"绑定 {evaluator}")
        self.paths = {}
        for name, rows in VARIANTS.items():
            path = w.tmp / f"village-{name}.xlsx"
            write_table(path, rows, "merged", total=sum(int(str(r[3])) for r in rows))
            self.paths[name] = path
        self._open(YEARS[0])

    def _open(self, year: int) -> None:
        out = self.world.cli("campaign", "open", str(year))
        self.m.pins[year] = self.m.latest
        if self.m.latest != SHIPPED.version:  # the opening names the versions imported
            assert f"{SHIPPED.title} {self.m.latest}" in out, out

    # ------------------------------------------------------------ the events

    @rule(name=st.sampled_from(sorted(VARIANTS)))
    def import_sheet(self, name: str) -> None:
        rows = VARIANTS[name]
        out = self.world.cli("rubrics", "import", str(self.paths[name]), "--key", "village", "--yes")
        if rows == self.m.versions[self.m.latest].rows:
            assert f"与当前版本 {self.m.latest} 相同，未保存" in out, out
            return
        found = re.search(r"已保存 village 版本 ([\d.]+)", out)
        assert found is not None, out
        label = found.group(1)
        assert label not in self.m.versions
        self.m.versions[label] = Sheet(rows)
        self.m.latest = label

    @precondition(lambda self: hasattr(self, "m") and max(self.m.pins) < YEARS[-1])
    @rule()
    def open_year(self) -> None:
        self._open(self.m.year + 1)

    @precondition(lambda self: hasattr(self, "m"))
    @rule(
        union=st.sampled_from(UNIONS),
        pattern=st.lists(ANSWERS, min_size=1, max_size=3),
        count=st.sampled_from([3, 17, 40, 40]),
    )
    def chair_answers(self, union: str, pattern: list[str], count: int) -> None:
        """The chair (re)starts `自评` and answers ``count`` items (``pattern`` over and over),
        submitting once every item is answered."""
        answers = [pattern[n % len(pattern)] for n in range(count)]
        key = (self.m.year, union)
        sheet = self.m.versions[self.m.pins[self.m.year]]
        chair = self.chairs[union]
        reply = chair.say("自评")
        if key in self.m.submitted:
            assert not ITEM.search(reply), reply
            return
        if key not in self.m.self_scores:
            assert f"共 {len(sheet.points)} 项，满分 {sheet.total} 分" in reply, reply
        scores = self.m.self_scores.setdefault(key, {})
        for answer in answers:
            asked = ITEM.findall(reply)
            if not asked or len(scores) == len(sheet.points):
                break
            no, count = (int(n) for n in asked[-1])
            assert count == len(sheet.points), (reply, self.m.pins)
            reply = chair.say(answer)
            scores[no] = worth(answer, sheet.points[no])
        if len(scores) == len(sheet.points):
            submitted = chair.say("提交")
            raw = sum(scores.values(), Decimal(0))
            if sheet.total == 100:  # the raw total is the 百分制 score
                assert f"得分：{_n(raw)} / 100 分" in submitted, submitted
            else:
                assert f"原始得分：{_n(raw)} / {sheet.total} 分" in submitted, submitted
                assert f"百分制得分：{_n(percent(raw, sheet.total))} 分" in submitted, submitted
            self.m.submitted.add(key)

    @precondition(lambda self: hasattr(self, "m"))
    @rule(union=st.sampled_from(UNIONS), pattern=st.lists(ASSESSED, min_size=1, max_size=3))
    def assess(self, union: str, pattern: list[str]) -> None:
        """The parent union's evaluator assesses the union's self-check of the newest year (the
        answers ``pattern`` over and over)."""
        answers = [pattern[n % len(pattern)] for n in range(40)]
        key = (self.m.year, union)
        reply = self.evaluator.say(f"考评 {union}")
        if key not in self.m.submitted or key in self.m.assessed:
            assert not ITEM.search(reply) or key in self.m.assessed, reply
            self.evaluator.say("暂停")
            return
        sheet = self.m.versions[self.m.pins[self.m.year]]
        own = self.m.self_scores[key]
        scores: dict[int, Decimal] = {}
        for answer in answers:
            asked = ITEM.findall(reply)
            if not asked or len(scores) == len(sheet.points):
                break
            no, count = (int(n) for n in asked[-1])
            assert count == len(sheet.points), reply
            reply = self.evaluator.say(answer)
            scores[no] = own[no] if answer == "同" else min(Decimal(answer), Decimal(sheet.points[no]))
        assert len(scores) == len(sheet.points), scores
        complete_record(self.evaluator)
        self.evaluator.say(f"免除测评 {WAIVER}")
        done = self.evaluator.say("提交")
        assert "已提交" in done or "评定" in done, done
        self.m.assessed[key] = scores
        raw = sum(scores.values(), Decimal(0))
        self.m.figures[key] = (self.m.pins[self.m.year], raw, percent(raw, sheet.total))

    @precondition(lambda self: hasattr(self, "m") and self.m.figures)
    @rule(pick=st.integers(0, 99))
    def export(self, pick: int) -> None:
        """The results table and the score sheet of a rated inspection, from the CLI."""
        keys = sorted(self.m.figures)
        year, union = keys[pick % len(keys)]
        version, _raw, score = self.m.figures[(year, union)]
        table = self.world.cli("results", "--year", str(year), "--csv")
        row = next(line.split(",") for line in table.splitlines() if line.startswith(f"{union},"))
        header = table.splitlines()[0].split(",")
        assert Decimal(row[header.index("考评得分")]) == score, (row, score)
        assert row[header.index("考评得分")] == _n(score)
        out = self.world.tmp / f"sheet-{year}-{union}.xlsx"
        self.world.cli("export", "sheet", "--org", union, "--year", str(year), "--out", str(out))
        texts = _plain(cells(out))
        sheet = self.m.versions[version]
        for _d, _no, text, _p in sheet.rows:
            assert _plain(str(text)) in texts, (version, text)
        assert (_plain(ADDED) in texts) == any(r[2] == ADDED for r in sheet.rows)
        last = VARIANTS["shipped"][-1][2]
        assert (_plain(str(last)) in texts) == any(r[2] == last for r in sheet.rows)
        assert str(sheet.total) in texts

    # ------------------------------------------------------------ invariants

    @invariant()
    def every_inspection_keeps_its_pinned_version_and_its_figures(self) -> None:
        if not hasattr(self, "m"):
            return
        db = self.world.fresh()
        pinned = {c.year: (c.rubric_versions or {}).get("village") for c in db.scalars(select(Campaign))}
        assert pinned == self.m.pins
        rows = db.execute(
            select(Inspection, Campaign.year, Organisation.code).join(Campaign).join(Organisation)
        ).all()
        assert len(rows) == len(self.m.pins) * len(UNIONS)
        for inspection, year, code in rows:
            key = (year, code)
            version = self.m.pins[year]
            assert inspection.rubric_version == version, key
            sheet = self.m.versions[version]
            items = {
                s.item_no: s
                for s in db.scalars(select(ItemScore).where(ItemScore.inspection_id == inspection.id))
            }
            assert set(items) <= set(sheet.points), (key, sorted(items))  # never another version's items
            mine = {no: s.self_score for no, s in items.items() if s.self_score is not None}
            assert mine == self.m.self_scores.get(key, {}), key
            for no, value in mine.items():
                assert value <= sheet.points[no], (key, no)
            if key in self.m.figures:
                _version, raw, score = self.m.figures[key]
                assessed = {no: s.assessed_score for no, s in items.items()}
                assert assessed == self.m.assessed[key], key
                assert (inspection.raw_total, inspection.score) == (raw, score), key
            else:
                assert inspection.score is None, key
        db.rollback()


def _plain(text: str) -> str:
    """The words of a text without its punctuation (the sheet prints Chinese commas for ASCII ones)."""
    return re.sub(r"[\W_]", "", text)


def _n(value: Decimal) -> str:
    """A number as the service prints it: no stray `.0`."""
    text = format(value.normalize(), "f")
    return text


def test_rubric_versions_hold_in_any_order_of_events(world: World) -> None:  # noqa: F811
    VersionsMachine.world = world
    run_state_machine_as_test(
        VersionsMachine,
        settings=settings(
            max_examples=10,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
