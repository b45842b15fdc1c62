"""考评标准 in the console: each sheet's versions (the shipped one and a federation's imports, with
the years that pinned each) and the differences between two versions. Read only: a version is
imported with `nianjian rubrics import`."""

from __future__ import annotations

from typing import Any

from flask import abort, g, render_template, request
from sqlalchemy import select

from chatbot.console.access import signed_in
from chatbot.console.pages import bp
from chatbot.documents.labels import rubric_name
from chatbot.inspection import rubric_versions
from chatbot.store.models import Campaign
from chatbot.timeutil import SHANGHAI, as_utc
from rubrics.loader import RUBRIC_KEYS
from rubrics.versions import changes


def _years_of(key: str) -> dict[str, list[int]]:
    """The campaign years that pinned each version of sheet ``key``."""
    years: dict[str, list[int]] = {}
    for campaign in g.db.scalars(select(Campaign).order_by(Campaign.year)):
        years.setdefault(rubric_versions.pinned(campaign, key), []).append(campaign.year)
    return years


@bp.get("/rubrics")
@signed_in
def rubrics_page() -> Any:
    sheets = [(key, rubric_name(key), rubric_versions.versions(g.db, key)) for key in RUBRIC_KEYS]
    return render_template("console/rubrics.html", sheets=sheets)


@bp.get("/rubrics/<key>")
@signed_in
def rubric_versions_page(key: str) -> Any:
    if key not in RUBRIC_KEYS:
        abort(404)
    found = rubric_versions.versions(g.db, key)
    labels = [info.rubric.version for info in found]
    older = request.args.get("from", "").strip() or labels[max(len(labels) - 2, 0)]
    newer = request.args.get("to", "").strip() or labels[-1]
    if older not in labels or newer not in labels:
        abort(404)
    by_label = {info.rubric.version: info.rubric for info in found}
    return render_template(
        "console/rubric_versions.html",
        key=key,
        name=rubric_name(key),
        versions=found,
        years=_years_of(key),
        used=rubric_versions.used_by(g.db, key),
        older=older,
        newer=newer,
        changes=changes(by_label[older], by_label[newer]),
        shown=lambda at: as_utc(at).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
    )
