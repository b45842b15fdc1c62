"""The console's long lists a page at a time: every row on exactly one page, search and filters kept
across the pages (chatbot/console/paging.py, chatbot/console/filters.py)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from chatbot.console.access import create_user
from chatbot.timeutil import SHANGHAI
from tests.test_console import Console

UNIONS = 130  # three pages of 50: 50, 50, 30


@pytest.fixture
def city(cli: Callable[..., str], db: Session, tmp_path: Path) -> list[str]:
    """A city of two counties, 130 unions (odd ones in 东县, even ones in 西县), its campaign open."""
    lines = [
        "code,name,rubric,parent,members",
        "CITY,市总工会,,,",
        "E,东县总工会,,CITY,",
        "W,西县总工会,,CITY,",
    ]
    codes = [f"G{n:03d}" for n in range(UNIONS)]
    lines += [f"{code},第{n}基层工会,village,{'E' if n % 2 else 'W'},10" for n, code in enumerate(codes)]
    _open(cli, db, tmp_path, lines)
    return codes


def _open(cli: Callable[..., str], db: Session, tmp_path: Path, lines: list[str]) -> None:
    """Import the organisations of ``lines`` (CSV), open this year's campaign, create the console users."""
    orgs = tmp_path / "orgs.csv"
    orgs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli("org", "import", str(orgs))
    today = datetime.now(SHANGHAI).date()  # the service's day, not the machine's
    due = (today + timedelta(days=30)).isoformat()
    cli("campaign", "open", str(today.year), "--self-check-due", due, "--review-due", due)
    with db.begin():
        create_user(db, "CITY", "city", "city-password-1")
        create_user(db, "E", "east", "east-password-1")


def _walk(browser: Console, url: str) -> tuple[list[str], list[str]]:
    """Every page from ``url`` on, following 下一页: the codes listed in order, and each page's address."""
    codes: list[str] = []
    visited: list[str] = []
    while url:
        visited.append(url)
        page = browser.get(url)
        codes += re.findall(r'/console/inspections/\d+">([^<]+)</a>', page)
        found = re.search(r'<a href="([^"]+)" rel="next">下一页</a>', page)
        url = html.unescape(found.group(1)) if found else ""
        assert len(visited) <= 10, "the pages never end"
    return codes, visited


def _content(page: str) -> str:
    """The page without its CSRF token, which carries the second it was signed in."""
    return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token"', page)


def test_every_inspection_is_on_exactly_one_page(app: Flask, city: list[str]) -> None:
    browser = Console(app.test_client())
    browser.login("city", "city-password-1")
    codes, pages = _walk(browser, "/console/inspections")
    assert len(pages) == 3
    assert sorted(codes) == sorted(city)  # each once: no duplicate, none missing
    first = browser.get("/console/inspections")
    assert "共 130 个单位，第 1–50 个（第 1/3 页）" in first
    assert '<span class="muted">上一页</span>' in first  # no page before the first
    last = browser.get("/console/inspections?page=3")
    assert "第 101–130 个（第 3/3 页）" in last and 'rel="prev">上一页</a>' in last
    past_end = browser.get("/console/inspections?page=99")
    assert _content(past_end) == _content(last)  # past the end: the last page
    assert _content(browser.get("/console/inspections?page=abc")) == _content(first)


def test_search_and_filters_are_kept_across_pages(app: Flask, city: list[str]) -> None:
    browser = Console(app.test_client())
    browser.login("city", "city-password-1")
    codes, pages = _walk(browser, "/console/inspections?county=E&state=not_started")
    east = [code for n, code in enumerate(city) if n % 2]
    assert sorted(codes) == sorted(east) and len(pages) == 2
    assert "county=E" in pages[1] and "state=not_started" in pages[1] and "page=2" in pages[1]
    searched = _walk(browser, "/console/inspections?q=g12")[0]  # any part of the code, any case
    assert sorted(searched) == [f"G12{n}" for n in range(10)]
    named = browser.get("/console/inspections?q=第7基层")
    assert "共 1 个单位" in named and ">G007</a>" in named
    for empty in ("?state=rated", "?stars=5", "?mark=未达标须补课"):
        assert "没有符合条件的单位。" in browser.get("/console/inspections" + empty)
    everything = browser.get("/console/inspections?state=nonsense&county=NOPE&stars=9")
    assert "共 130 个单位" in everything  # an unknown choice filters nothing


def test_a_county_pages_through_its_own_unions_only(app: Flask, city: list[str]) -> None:
    browser = Console(app.test_client())
    browser.login("east", "east-password-1")
    codes, _pages = _walk(browser, "/console/inspections")
    assert sorted(codes) == sorted(code for n, code in enumerate(city) if n % 2)
    assert "县（区）<select" not in browser.get("/console/inspections")  # one county: no choice
    assert _walk(browser, "/console/inspections?county=W")[0] == codes  # not its county: ignored


def test_the_pages_list_the_unions_in_the_official_order_of_every_listing(
    app: Flask, cli: Callable[..., str], db: Session, tmp_path: Path
) -> None:
    """Read a page at a time from the database, the list keeps the order of the results (`nianjian
    results`): the counties in official order (开发区 after the numbered ones, though its code sorts
    first), each county's unions by code at any depth, the city-direct unions last."""
    lines = [
        "code,name,rubric,parent,members",
        "CITY,市总工会,,,",
        "AA,开发区总工会,,CITY,",
        "E,东县总工会,,CITY,",
        "W,西县总工会,,CITY,",
        "Z9,市直工会,village,CITY,10",
        "B1,市直联合工会,village,CITY,10",
        "X1,东县乡镇工会,village,E,10",
        "A5,东县乡镇下属工会,village,X1,10",
    ]
    lines += [f"G{n:03d},第{n}基层工会,village,{'EWA'[n % 3] * (1 + n % 3 // 2)},10" for n in range(60)]
    _open(cli, db, tmp_path, lines)
    cli("org", "order", "E", "W")  # 开发区 (AA) unnumbered: after them
    browser = Console(app.test_client())
    browser.login("city", "city-password-1")
    expected = [
        line.split(",")[0]
        for line in cli("results", "--year", str(datetime.now(SHANGHAI).year), "--csv").splitlines()[1:]
    ]
    assert expected[:3] == ["A5", "G000", "G003"] and expected[-2:] == ["Z9", "B1"]
    assert _walk(browser, "/console/inspections")[0] == expected
    assert _walk(browser, "/console/inspections?q=G0")[0] == [code for code in expected if "G0" in code]
