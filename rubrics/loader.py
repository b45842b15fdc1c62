"""Loads and validates the rubric sheets under ``rubrics/sheets/`` (one TOML file per sheet)."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from rubrics.model import Item, Rubric

SHEETS_DIR = Path(__file__).parent / "sheets"

#: The sheet keys in the order of the seed's attachment.
RUBRIC_KEYS: tuple[str, ...] = ("state_owned", "non_public", "agency", "joint", "township", "village")


class RubricError(ValueError):
    """A sheet file is malformed; the message names the file and, where it applies, the item."""


def _require(condition: bool, path: Path, message: str) -> None:
    if not condition:
        raise RubricError(f"{path.name}: {message}")


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def load_sheet(path: Path) -> Rubric:
    """Parse and validate one sheet file; raise RubricError naming the file and item on any defect."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RubricError(f"{path.name}: cannot be read: {exc}") from exc
    for field in ("key", "title", "version"):
        _require(bool(_text(data.get(field))), path, f"missing or empty '{field}'")
    dimensions = data.get("dimensions")
    _require(
        isinstance(dimensions, list) and bool(dimensions) and all(_text(d) for d in dimensions),
        path,
        "'dimensions' must be a non-empty list of names",
    )
    assert isinstance(dimensions, list)  # _require has raised otherwise
    _require(len(set(dimensions)) == len(dimensions), path, "'dimensions' lists a name twice")
    raw_items = data.get("items")
    _require(isinstance(raw_items, list) and bool(raw_items), path, "no [[items]]")
    assert isinstance(raw_items, list)  # _require has raised otherwise
    items: list[Item] = []
    for position, raw in enumerate(raw_items, start=1):
        where = (
            f"item {raw.get('no', '?')} (entry {position})" if isinstance(raw, dict) else f"entry {position}"
        )
        _require(isinstance(raw, dict), path, f"{where}: not a table")
        no = raw.get("no")
        _require(isinstance(no, int) and not isinstance(no, bool), path, f"{where}: 'no' must be an integer")
        _require(
            no == position, path, f"{where}: expected item number {position} (numbers run 1..n without gaps)"
        )
        points = raw.get("points")
        _require(
            isinstance(points, int) and not isinstance(points, bool) and points > 0,
            path,
            f"{where}: points must be a positive integer, got {points!r}",
        )
        text = _text(raw.get("text"))
        _require(bool(text), path, f"{where}: empty requirement text")
        dimension = _text(raw.get("dimension"))
        _require(dimension in dimensions, path, f"{where}: unknown dimension {dimension!r}")
        note = raw.get("note", "")
        _require(isinstance(note, str), path, f"{where}: 'note' must be text")
        items.append(Item(no=no, dimension=dimension, points=points, text=text, note=note.strip()))
    for dimension in dimensions:
        _require(
            any(item.dimension == dimension for item in items), path, f"dimension {dimension!r} has no item"
        )
    return Rubric(
        key=_text(data["key"]),
        title=_text(data["title"]),
        version=_text(data["version"]),
        source=_text(data.get("source")),
        dimensions=tuple(dimensions),
        items=tuple(items),
    )


@cache
def all_rubrics() -> tuple[Rubric, ...]:
    """Every sheet, loaded and validated on first use, in the seed's order."""
    rubrics = []
    for key in RUBRIC_KEYS:
        path = SHEETS_DIR / f"{key}.toml"
        rubric = load_sheet(path)
        _require(rubric.key == key, path, f"key {rubric.key!r} does not match the file name")
        rubrics.append(rubric)
    return tuple(rubrics)


def get_rubric(key: str) -> Rubric:
    """The sheet with this key; raise KeyError for an unknown key."""
    for rubric in all_rubrics():
        if rubric.key == key:
            return rubric
    raise KeyError(key)
