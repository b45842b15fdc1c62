"""The paragraphs a county writes (or edits from the draft) in the console under attack: markup,
template syntax, a spreadsheet formula, Word field codes and a Word line break pasted in. The console
shows them escaped; the docx summary holds them as plain text runs — no field, no hyperlink — and is
generated at all (a character XML forbids would stop it)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

from docx import Document
from flask.testing import FlaskClient

from tests.test_console import Console
from tests.test_weaknesses import known  # noqa: F401 — the fixture: two counties' figures

HOSTILE = (
    '<script>alert("x")</script><a href="http://evil.example/login">点此</a>{{ 7*7 }}'
    '=HYPERLINK("http://evil.example","点我") { HYPERLINK "http://evil.example" } '
    '<w:fldSimple w:instr="HYPERLINK"/>&amp;'
)
#: What Word puts for a line break inside a paragraph (Shift+Enter) when its text is copied, a page
#: break, and other control characters a paste may carry.
PASTED = "第一句。\x0b第二句。\x0c第三句\x01\x07。\t完。"


def test_hostile_paragraphs_are_shown_escaped_and_written_as_text(
    known: None,  # noqa: F811
    client: FlaskClient,
    cli: Callable[..., str],
    tmp_path: Path,
) -> None:
    console = Console(client)
    console.login("yz", "yz-password-12")
    console.get("/console/narratives?year=2026")
    console.post(
        "/console/narratives/2026",
        {"addressee": "<b>市总</b>", "practices": HOSTILE, "problems": PASTED, "plans": "{{ config }}"},
    )
    form = console.get("/console/narratives?year=2026")
    assert "<script>" not in form and '<a href="http://evil' not in form and "<b>市总</b>" not in form
    assert "&lt;script&gt;" in form and "{{ 7*7 }}" in form and "{{ config }}" in form
    assert "SECRET" not in form and "49" not in form.split("{{ 7*7 }}")[0][-10:]
    out = tmp_path / "county.docx"
    cli("report", "county", "--county", "YZ", "--year", "2026", "--out", str(out), "--date", "2026-12-08")
    with zipfile.ZipFile(out) as docx:
        xml = docx.read("word/document.xml").decode("utf-8")
        relations = docx.read("word/_rels/document.xml.rels").decode("utf-8")
    assert "<w:hyperlink" not in xml and "<w:fldSimple" not in xml and "<w:instrText" not in xml
    assert "evil.example" not in relations  # no link target
    text = [p.text for p in Document(str(out)).paragraphs]
    assert HOSTILE in text and "<b>市总</b>：" in text
    written = text[text.index("三、存在问题") + 1 : text.index("四、下一步打算")]
    joined = "".join(written)
    for sentence in ("第一句。", "第二句。", "第三句", "完。"):
        assert sentence in joined
    assert not any(ch in joined for ch in "\x01\x07\x0b\x0c")
