"""The annual summary's written parts (年检工作情况总结: 主送, 二、主要做法, 三、存在问题, 四、下一步打算),
one form per federation and campaign year. A county admin writes its county's; the city's admin writes
the city's and sees which counties have not written theirs yet (their to-do). Saved in the database
(``chatbot.documents.narratives``), audited, filled into the generated report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from chatbot.console.access import signed_in
from chatbot.console.inputs import requested_year
from chatbot.console.pages import bp
from chatbot.documents.narratives import (
    NOT_WRITTEN,
    SECTIONS,
    Narrative,
    default_addressee,
    narrative_of,
    narratives_of,
    problems_draft,
    save_narrative,
)
from chatbot.inspection import order
from chatbot.inspection.errors import AdminError
from chatbot.store.models import Campaign, Organisation
from chatbot.timeutil import SHANGHAI


def _campaign(year: int | None) -> Campaign:
    query = select(Campaign).order_by(Campaign.year.desc()).limit(1)
    if year is not None:
        query = select(Campaign).where(Campaign.year == year)
    campaign = g.db.scalar(query)
    if campaign is None:
        abort(404)
    return campaign


def _own_federation() -> Organisation:
    organisation = g.db.get(Organisation, g.viewer.org_id)
    if organisation is None or organisation.is_grassroots:
        abort(403)
    return organisation


def _federations() -> list[Organisation]:
    """The county/zone federations the city sees, in official order (sort_order, then as added)."""
    return [org for org in order.federations(g.db) if g.viewer.sees(org.id)]


def _local(value: datetime | None) -> str:
    if value is None:
        return ""
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    local = moment.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


@bp.get("/narratives")
@signed_in
def narratives() -> Any:
    """The form for the viewer's own federation; for the city, also every county's progress."""
    campaign = _campaign(requested_year())
    organisation = _own_federation()
    narrative = narrative_of(g.db, campaign, organisation)
    written = narratives_of(g.db, campaign) if g.viewer.is_city else {}
    counties = [
        (org, [s.heading for s in (written[org.id].missing if org.id in written else SECTIONS)])
        for org in (_federations() if g.viewer.is_city else [])
    ]
    years = g.db.scalars(select(Campaign.year).order_by(Campaign.year.desc())).all()
    # 三、存在问题 not yet saved: the paragraph drafted from the figures, a proposal until saved
    draft = "" if narrative.problems.strip() else problems_draft(g.db, campaign, organisation)
    return render_template(
        "console/narratives.html",
        campaign=campaign,
        years=years,
        organisation=organisation,
        narrative=narrative,
        sections=SECTIONS,
        default_addressee=default_addressee(g.db, organisation),
        not_written=NOT_WRITTEN,
        counties=counties,
        updated=_local(narrative.updated_at),
        draft=draft,
    )


@bp.post("/narratives/<int:year>")
@signed_in
def save_narratives(year: int) -> Any:
    campaign = _campaign(year)
    organisation = _own_federation()
    texts = {field: request.form.get(field, "") for field in ("addressee", *(s.field for s in SECTIONS))}
    try:
        saved = save_narrative(g.db, campaign, organisation, texts, g.viewer.actor, datetime.now(UTC))
    except AdminError as error:
        g.db.rollback()
        flash(str(error), "error")
        return render_form_again(campaign, organisation, texts)
    g.db.commit()
    missing = "、".join(s.heading for s in saved.missing)
    flash("已保存。" + (f"尚未填写：{missing}。" if missing else "各部分均已填写，可以生成总结。"), "ok")
    return redirect(url_for("console.narratives", year=year))


def render_form_again(campaign: Campaign, organisation: Organisation, texts: dict[str, str]) -> Any:
    """The form with what was typed, so a refused save loses nothing."""
    narrative = Narrative(
        addressee=texts["addressee"],
        practices=texts["practices"],
        problems=texts["problems"],
        plans=texts["plans"],
    )
    years = g.db.scalars(select(Campaign.year).order_by(Campaign.year.desc())).all()
    return (
        render_template(
            "console/narratives.html",
            campaign=campaign,
            years=years,
            organisation=organisation,
            narrative=narrative,
            sections=SECTIONS,
            default_addressee=default_addressee(g.db, organisation),
            not_written=NOT_WRITTEN,
            counties=[],
            updated="",
            draft="",
        ),
        400,
    )
