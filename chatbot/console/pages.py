"""The console's pages and assessment. Every page checks the viewer's scope; every action is audited."""

from __future__ import annotations

import base64
import csv
import functools
import io
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import func, select

from chatbot.console import filters, inputs, outcomes, paging, photos
from chatbot.console.access import (
    SignInRefused,
    city_only,
    client_address,
    end_session,
    sign_in,
    signed_in,
    start_session,
    visible_or_404,
)
from chatbot.console.timeline import chinese_time
from chatbot.console.timeline import lines as audit_lines
from chatbot.documents.cells import csv_field
from chatbot.documents.columns import RESULT_COLUMNS, shown_row
from chatbot.inspection import assessment, audit, errors, grid, order, remediation, results, sampling, texts
from chatbot.inspection import campaigns as campaign_rules
from chatbot.inspection import objections as objection_rules
from chatbot.inspection.coverage import COLUMNS as COVERAGE_COLUMNS
from chatbot.inspection.coverage import CoverageRow, coverage, target_of
from chatbot.inspection.coverage import shown as shown_coverage
from chatbot.inspection.evaluations import figures
from chatbot.inspection.hierarchy import OrgTree, load_tree
from chatbot.inspection.listing import listed, listed_page, result_rows
from chatbot.inspection.objections import HOW_THE_PUBLIC_OBJECTS
from chatbot.inspection.queries import item_scores, open_campaign
from chatbot.inspection.rubric_versions import rubric_of
from chatbot.notify.delivery import Backlog
from chatbot.notify.delivery import backlog as notice_backlog
from chatbot.service.codes import recent_lockouts
from chatbot.store.among import among
from chatbot.store.models import (
    Campaign,
    CountyReport,
    Evidence,
    Inspection,
    Objection,
    Organisation,
    OutboxMessage,
    Remediation,
    RoleBinding,
    SampledInspection,
)
from chatbot.timeutil import SHANGHAI, as_utc
from dialogs.context import ROLE_LABELS
from rubrics.deadlines import parse_month_day, report_due
from rubrics.democratic import figures_phrase
from rubrics.lifecycle import RATED, InspectionState, values
from rubrics.objections import source_label as objection_source
from rubrics.scoring import Stars, format_percent, format_score, percent_score, raw_total

if TYPE_CHECKING:
    from matplotlib.figure import Figure

bp = Blueprint(
    "console", __name__, url_prefix="/console", template_folder="templates", static_folder="static"
)
bp.add_app_template_global(paging.page_url)
bp.record_once(inputs.use_stored_integers)  # before the routes below are added: ids within int4
bp.before_request(inputs.refuse_nul)  # first: no page, nor the database, ever sees a NUL
S = InspectionState
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@bp.context_processor
def _rules() -> dict[str, int]:
    """The rules the forms state, from where they are declared: the publication period's days."""
    return {
        "publication_days": results.DEFAULT_PUBLICATION_DAYS,
        "publication_days_max": results.MAX_PUBLICATION_DAYS,
    }


@bp.before_request
def open_session() -> None:
    g.db = current_app.extensions["nianjian.sessions"]()


@bp.teardown_request
def close_session(_error: BaseException | None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


@bp.app_template_filter("score")
def score_filter(value: object) -> str:
    return "" if value in (None, "") else format_score(Decimal(str(value)))


@bp.app_template_filter("percent")
def percent_filter(value: object) -> str:
    """A share (0.305) as 30.5%."""
    return "" if value in (None, "") else format_percent(Decimal(str(value)))


def _now() -> datetime:
    return datetime.now(UTC)


def _today() -> date:
    return _now().astimezone(SHANGHAI).date()


def _campaign(year: int | None = None) -> Campaign | None:
    if year is None:
        return open_campaign(g.db)
    return g.db.scalar(select(Campaign).where(Campaign.year == year))


def _inspection(inspection_id: int) -> Inspection:
    inspection = g.db.get(Inspection, inspection_id)
    if inspection is None:
        abort(404)
    visible_or_404(inspection.organisation_id)
    return inspection


@dataclass(frozen=True)
class Chart:
    """A chart as the page shows it: its ``data:`` URL and its smallest text in the picture's pixels."""

    src: str
    text_px: str


def _chart(figure: Figure) -> Chart:
    from chatbot.documents import charts

    drawn = charts.screen_chart(figure)
    return Chart("data:image/png;base64," + base64.b64encode(drawn.png).decode(), f"{drawn.text_px:.1f}")


# ---------------------------------------------------------------- sign in


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        try:
            user = sign_in(g.db, username, password, client_address())
        except SignInRefused as refused:
            g.db.commit()  # a failure's line in the audit log
            flash(refused.message, "error")
            return render_template("console/login.html"), refused.status
        start_session(user)  # a new session: no fixation
        user.last_login_at = _now()
        audit.record(g.db, f"console:{username}", "login", "console_user", user.id)
        g.db.commit()
        dashboard = url_for("console.dashboard")
        return redirect(inputs.safe_next(request.args.get("next", ""), dashboard))
    return render_template("console/login.html")


@bp.post("/logout")
def logout() -> Any:
    end_session()
    return redirect(url_for("console.login"))


# ---------------------------------------------------------------- dashboard


@bp.get("/")
@signed_in
def dashboard() -> Any:
    campaign = _campaign(inputs.requested_year())
    lockouts = recent_lockouts(g.db, _now())  # the whole account's: no union's data in it
    if campaign is None:
        return render_template(
            "console/dashboard.html", campaign=None, lockouts=lockouts, local_time=_local_minute
        )
    tree = load_tree(g.db)
    rows = [r for r in coverage(g.db, campaign, tree) if _row_visible(r.code, r.name)]
    star_rows = _star_rows(campaign, tree, [row for row in rows if row.code])
    chart = _star_chart(tuple(star_rows)) if star_rows else None
    config = current_app.extensions["nianjian.config"]
    # a county sees the scope its unions are counted in: its own, or the whole city's
    scopes = [
        s
        for s in results.scope_statuses(g.db, campaign, config, tree)
        if g.viewer.is_city or not s.unions.isdisjoint(g.viewer.visible)
    ]
    actions = _needs_action(campaign, tree)
    return render_template(
        "console/dashboard.html",
        campaign=campaign,
        rows=rows,
        chart=chart,
        coverage_columns=COVERAGE_COLUMNS,
        shown=shown_coverage,
        coverage_mark=_coverage_mark,
        actions=actions,
        action_titles=ACTION_TITLES,
        objection_tally=objection_rules.tally(g.db, campaign, list(g.viewer.visible)),
        busy=[key for key, found in actions.items() if found],
        confirmable=[s.code for s in scopes if g.viewer.is_city and not s.confirmed and s.rated],
        mine=grid.assigned_to_user(g.db, campaign, tree, g.viewer.user_id, _today(), _now()),
        scopes=scopes,
        quota_percent=config.quota_percent,
        backlog=_backlog(),
        local_time=_local_minute,
        lockouts=lockouts,
    )


def _star_rows(
    campaign: Campaign, tree: OrgTree, rows: list[CoverageRow]
) -> list[tuple[str, tuple[int, ...]]]:
    """Each row's group with its rated unions by stars (one … five), from one aggregate statement."""
    group_of = {union: group.code for group in tree.groups() for union in group.unions}
    counts: dict[tuple[str, int], int] = {}
    for org_id, stars, count in g.db.execute(
        select(Inspection.organisation_id, Inspection.stars, func.count())
        .where(Inspection.campaign_id == campaign.id, Inspection.state.in_(values(RATED)))
        .group_by(Inspection.organisation_id, Inspection.stars)
    ):
        code = group_of.get(org_id)
        if code is not None and stars is not None:
            counts[code, stars] = counts.get((code, stars), 0) + count
    return [(row.name, tuple(counts.get((row.code, level), 0) for level in range(1, 6))) for row in rows]


@functools.lru_cache(maxsize=32)
def _star_chart(star_rows: tuple[tuple[str, tuple[int, ...]], ...]) -> Chart:
    """The dashboard's stars chart, drawn once per process for the same figures (drawing takes ~1 s)."""
    from chatbot.documents import charts  # matplotlib: loaded when a page draws a chart

    return _chart(charts.star_bars([n for n, _ in star_rows], [list(c) for _, c in star_rows], ""))


def _coverage_mark(row: CoverageRow, field: str) -> str:
    """A coverage cell's colour: the cumulative share against the year's target, against the county's
    own; overdue remediations."""
    if field == "cumulative":
        return "good" if row.on_target else "bad"
    if field == "plan_target" and row.on_plan is not None:
        return "good" if row.on_plan else "bad"
    return "bad" if field == "remediation_overdue" and row.remediation_overdue else ""


def _backlog() -> Backlog:
    """The outbox's backlog, scoped as the dashboard is: a county admin sees its accounts' notices."""
    accounts = None
    if not g.viewer.is_city:
        accounts = select(RoleBinding.account_id).where(
            among(g.db, RoleBinding.organisation_id, g.viewer.visible)
        )
    return notice_backlog(g.db, _now(), accounts)


def _local_minute(value: datetime) -> str:
    return as_utc(value).astimezone(SHANGHAI).strftime("%m-%d %H:%M")


def _row_visible(code: str, name: str) -> bool:
    if g.viewer.is_city:
        return True
    return code == g.viewer.org_code and name == g.viewer.org_name


#: The dashboard's to-do lists, in the order shown: key and heading (its count follows in brackets).
ACTION_TITLES: tuple[tuple[str, str], ...] = (
    ("objections", "待复查的异议"),
    ("self_checks", "逾期未提交的自评"),
    ("assessments", "逾期未完成的考评"),
    ("quota", "五星级名额同分待裁定"),
    ("remediations", "补课（未通过验收）"),
    ("unassigned", "未落实网格负责人的单位"),
    ("notices", "未送达的通知"),
)


def _needs_action(campaign: Campaign, tree: OrgTree) -> dict[str, list[dict[str, Any]]]:
    visible = list(g.viewer.visible)
    today = _today()
    deadlines = grid.deadlines_of(g.db, campaign, tree)  # a county's own, where its plan sets them
    inspections = g.db.execute(  # the columns read below, not ORM objects: a city has thousands
        select(
            Inspection.id,
            Inspection.organisation_id,
            Inspection.state,
            Inspection.re_review_due_at,
            Inspection.quota_flagged,
            Inspection.stars_reason,
            Organisation.code,
            Organisation.name,
        )
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(Inspection.campaign_id == campaign.id, among(g.db, Inspection.organisation_id, visible))
        .order_by(Inspection.id)
    ).all()
    found: dict[str, list[dict[str, Any]]] = {
        "objections": [],
        "self_checks": [],
        "assessments": [],
        "quota": [],
        "remediations": [],
        "notices": [],
        "unassigned": [],
    }
    for i in inspections:
        state = InspectionState(i.state)
        item = {"id": i.id, "code": i.code, "name": i.name, "state": state.label}
        if state.awaits_re_review and i.re_review_due_at:
            left = (as_utc(i.re_review_due_at).astimezone(SHANGHAI).date() - today).days
            found["objections"].append(
                {**item, "detail": f"剩 {left} 天" if left >= 0 else f"已逾期 {-left} 天"}
            )
        due = deadlines(i.organisation_id)
        if due.self_check_due and due.self_check_due < today and state.self_check_editable:
            found["self_checks"].append({**item, "detail": f"截止 {due.self_check_due}"})
        if due.review_due and due.review_due < today and state.is_assessable:
            found["assessments"].append({**item, "detail": f"截止 {due.review_due}"})
        if results.awaits_override(i):
            found["quota"].append({**item, "detail": i.stars_reason or "五星级名额同分"})
    for i in g.db.execute(  # columns, not ORM objects: a city has thousands of remediations
        select(Inspection.id, Organisation.code, Organisation.name, Remediation.status, Remediation.due_on)
        .join(Inspection, Remediation.inspection_id == Inspection.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(among(g.db, Inspection.organisation_id, visible), Remediation.status.in_(remediation.PENDING))
        .order_by(Remediation.due_on)
    ):
        found["remediations"].append(
            {
                "id": i.id,
                "code": i.code,
                "name": i.name,
                "state": remediation.label(i.status, i.due_on, today),
                "detail": f"截止 {i.due_on.isoformat()}",
            }
        )
    found["notices"] = _undelivered(visible)
    codes = [group.code for group in tree.groups() if _row_visible(group.code, group.name)]
    for each in grid.grids(g.db, campaign, tree, today, _now(), codes):
        found["unassigned"] += [
            {"id": line.inspection_id, "code": line.code, "name": line.name, "detail": line.state.label}
            for line in each.unassigned
        ]
    return found


#: Outbox statuses the dashboard lists as not delivered, as the staff read them.
UNDELIVERED = {"undeliverable": "无法发送", "failed": "发送失败", "unconfirmed": "未确认送达"}


def _undelivered(visible: list[int]) -> list[dict[str, Any]]:
    """The latest notices that did not reach their reader: who (organisation and role), what, why."""
    accounts = select(RoleBinding.account_id).where(among(g.db, RoleBinding.organisation_id, visible))
    rows = g.db.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status.in_(list(UNDELIVERED)), OutboxMessage.account_id.in_(accounts))
        .order_by(OutboxMessage.id.desc())
        .limit(50)
    ).all()
    people: dict[int, list[str]] = {}
    for account_id, role, org_name in g.db.execute(
        select(RoleBinding.account_id, RoleBinding.role, Organisation.name)
        .join(Organisation, RoleBinding.organisation_id == Organisation.id)
        .where(
            RoleBinding.account_id.in_({row.account_id for row in rows}),
            among(g.db, RoleBinding.organisation_id, visible),
        )
        .order_by(RoleBinding.id)
    ):
        people.setdefault(account_id, []).append(f"{org_name} {ROLE_LABELS.get(role, role)}")
    return [
        {
            "id": row.id,
            "person": "、".join(people.get(row.account_id, ["（已解除绑定）"])),
            "name": row.subject,
            "state": UNDELIVERED[row.status],
            "detail": row.last_error or "",
        }
        for row in rows
    ]


# ---------------------------------------------------------------- inspections


@bp.get("/inspections")
@signed_in
def inspections() -> Any:
    campaign = _campaign(inputs.requested_year())
    config = current_app.extensions["nianjian.config"]
    tree = load_tree(g.db)
    counties = [c for c in tree.groups() if g.viewer.visible.intersection(c.unions)]
    wanted = filters.read_filter(request.args, counties)
    scope: set[int] | None = filters.scope_of(wanted, g.viewer.visible, counties)
    if g.viewer.is_city and not wanted.county:
        scope = None  # every organisation: no list of ids to send
    page: paging.Page[Any]
    if wanted.mark and campaign:  # marks are worked out with the rows: every row found is built
        found = [i for i in listed(g.db, campaign, tree, scope) if filters.kept(wanted, i)]
        page = paging.page_of(
            [
                r
                for r in result_rows(g.db, campaign, config, chosen=found, tree=tree)
                if filters.marked(wanted, r)
            ]
        )
        rows = list(page.items)
    elif campaign:  # only the page's rows are read and built
        page = paging.paged(
            lambda offset, limit: listed_page(
                g.db, campaign, scope, filters.wanted_rows(wanted), offset, limit
            )
        )
        rows = result_rows(g.db, campaign, config, chosen=page.items, tree=tree)
    else:
        page, rows = paging.page_of([]), []
    return render_template(
        "console/inspections.html",
        campaign=campaign,
        columns=[
            (column, CELL_CLASSES.get(column.key, "num" if column.numeric else ""))
            for column in RESULT_COLUMNS
        ],
        page=page,
        rows=[(row["id"], shown_row(row)) for row in rows],
        wanted=wanted,
        counties=counties if len(counties) > 1 else [],
        choices=filters,
    )


#: The classes of the result list's cells (chatbot/console/static): a code and a short status read whole,
#: a name on one line on a laptop, the marks quieter.
CELL_CLASSES = {
    "code": "code", "name": "name", "state": "status", "stars": "status", "marks": "muted marks", "remediation": "status",
}  # fmt: skip


@bp.get("/inspections/<int:inspection_id>")
@signed_in
def inspection_page(inspection_id: int) -> Any:
    inspection = _inspection(inspection_id)
    rubric = rubric_of(g.db, inspection)
    own, assessed = item_scores(g.db, inspection.id)
    evidence: dict[int, list[photos.Photo]] = {}
    for photo in photos.of_inspection(g.db, inspection.id, _now()):
        evidence.setdefault(photo.item_no, []).append(photo)
    items = [
        {
            "dimension": item.dimension,
            "no": item.no,
            "text": item.shown_text,
            "points": item.points,
            "own": own.get(item.no),
            "assessed": assessed.get(item.no),
            "evidence": evidence.get(item.no, []),
            "differs": item.no in own and item.no in assessed and own[item.no] != assessed[item.no],
        }
        for item in rubric.items
    ]
    timeline = audit_lines(g.db, inspection)
    democratic = figures(g.db, inspection, _now())
    state = InspectionState(inspection.state)
    sampled = g.db.scalar(
        select(SampledInspection.id).where(SampledInspection.inspection_id == inspection.id)
    )
    config = current_app.extensions["nianjian.config"]
    provisional = inspection.id in results.provisional_ids(g.db, inspection.campaign, config)
    objections = g.db.scalars(
        select(Objection).where(Objection.inspection_id == inspection.id).order_by(Objection.id)
    ).all()
    return render_template(
        "console/inspection.html",
        inspection=inspection,
        rubric=rubric,
        items=items,
        state=state,
        totals=(
            raw_total(own.values()),
            raw_total(assessed.values()),
            percent_score(raw_total(own.values()), rubric.max_total),
        ),
        democratic=democratic,
        democratic_figures=figures_phrase(democratic) if democratic else "",
        timeline=timeline,
        stars=Stars(inspection.stars).label if inspection.stars else "",
        provisional=provisional,
        objections=outcomes.shown(g.db, inspection, list(objections)),
        objection_source=objection_source,
        remediation=remediation.of(g.db, inspection.id),
        remediation_label=remediation.label,
        today=_today(),
        can_publish=state == S.RATED and not provisional and not results.awaits_override(inspection),
        can_override=g.viewer.is_city and state in results.OVERRIDABLE and not inspection.below_standard,
        can_return=state.is_assessable,
        can_sample=g.viewer.is_city and state.is_rated and sampled is None,
        local_time=chinese_time,
    )


def _done(inspection_id: int, message: str) -> Any:
    g.db.commit()
    flash(message, "ok")
    return redirect(url_for("console.inspection_page", inspection_id=inspection_id))


def _refuse(inspection_id: int, message: str) -> Any:
    g.db.rollback()
    flash(message, "error")
    return redirect(url_for("console.inspection_page", inspection_id=inspection_id))


@bp.post("/inspections/<int:inspection_id>/publish")
@signed_in
def publish_one(inspection_id: int) -> Any:
    inspection = _inspection(inspection_id)
    days = request.form.get("days", type=int) or results.DEFAULT_PUBLICATION_DAYS
    if not 1 <= days <= results.MAX_PUBLICATION_DAYS:
        return _refuse(inspection_id, f"公示天数应在 1 到 {results.MAX_PUBLICATION_DAYS} 天之间。")
    config = current_app.extensions["nianjian.config"]
    wait = results.publication_wait(g.db, inspection, config)
    if wait is results.Waiting.PROVISIONAL:
        return _refuse(inspection_id, "五星级名额范围尚未确认（星级为预评），请先在首页确认范围后再公示。")
    if inspection.state != S.RATED or wait is results.Waiting.FLAGGED:
        return _refuse(inspection_id, "只能公示已评定、且没有五星级名额争议的结果。")
    results.open_publication(g.db, inspection, _now(), days, g.viewer.actor)
    return _done(inspection_id, f"已公示 {days} 天，主席和会员将收到通知。")


@bp.post("/inspections/<int:inspection_id>/override")
@signed_in
def override_one(inspection_id: int) -> Any:
    city_only()
    inspection = _inspection(inspection_id)
    choice = request.form.get("stars", "")
    reason = request.form.get("reason", "").strip()
    stars = int(choice) if choice in ("2", "3", "4", "5") else None
    if (stars is None and choice != "clear") or not reason:
        return _refuse(inspection_id, "请选择星级（或撤销调整）并写明理由。")
    try:
        changed = results.override(
            g.db,
            inspection.campaign,
            inspection.organisation.code,
            Stars(stars) if stars is not None else None,
            reason,
            current_app.extensions["nianjian.config"],
            g.viewer.actor,
            _now(),
        )
    except ValueError as error:
        return _refuse(inspection_id, str(error))
    what = "已撤销星级调整" if stars is None else "星级调整已记录"
    return _done(inspection_id, f"{what}，现为{Stars(changed.stars or 1).label}。")


@bp.post("/inspections/<int:inspection_id>/return")
@signed_in
def return_one(inspection_id: int) -> Any:
    inspection = _inspection(inspection_id)
    try:
        assessment.return_self_check(g.db, inspection, request.form.get("reason", ""), g.viewer.actor, _now())
    except errors.Refused as error:
        return _refuse(inspection_id, error.message)
    except ValueError as error:
        return _refuse(inspection_id, str(error))
    return _done(inspection_id, "已退回工会主席修改，主席将收到通知。")


@bp.post("/inspections/<int:inspection_id>/sample")
@signed_in
def sample_one(inspection_id: int) -> Any:
    city_only()
    inspection = _inspection(inspection_id)
    if not InspectionState(inspection.state).is_rated:
        return _refuse(inspection_id, "只能抽查已评定的结果。")
    sampling.mark(g.db, inspection, g.viewer.actor)
    return _done(inspection_id, texts.SAMPLE_MARKED)


@bp.get("/inspections/<int:inspection_id>/sheet.xlsx")
@signed_in
def sheet(inspection_id: int) -> Any:
    from chatbot.documents import exports  # openpyxl: loaded by a download, never by a webhook worker

    inspection = _inspection(inspection_id)
    return _file(
        lambda path: exports.score_sheet(g.db, inspection, _now(), path),
        f"{inspection.organisation.code}-{inspection.campaign.year}-年检考评表.xlsx",
        XLSX,
    )


@bp.get("/media/<int:evidence_id>")
@signed_in
def media(evidence_id: int) -> Any:
    """An evidence photo, from the evidence directory (downloaded from WeChat by the scheduler)."""
    evidence = g.db.get(Evidence, evidence_id)
    if evidence is None:
        abort(404)
    _inspection(evidence.inspection_id)
    path = photos.stored_file(evidence, photos.files())
    if path is None or evidence.content_type is None:
        abort(404)
    response = send_file(path, mimetype=evidence.content_type, etag=evidence.sha256 or True)
    response.headers["Content-Disposition"] = "inline"
    return response


def _file(write: Any, filename: str, mimetype: str) -> Response:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out"
        write(path)
        data = path.read_bytes()
    return _attachment(data, filename, mimetype)


def _attachment(data: bytes, filename: str, mimetype: str) -> Response:
    """A download; send_file writes the Chinese file name as RFC 6266 filename* (and an ASCII fallback)."""
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=filename)


# ---------------------------------------------------------------- campaigns


@bp.get("/campaigns")
@signed_in
def campaigns() -> Any:
    all_campaigns = g.db.scalars(select(Campaign).order_by(Campaign.year.desc())).all()
    counties = [org for org in order.cities_and_federations(g.db) if g.viewer.sees(org.id)]
    federations = order.federations(g.db) if g.viewer.is_city else []
    received = {(r.campaign_id, r.organisation_id): r for r in g.db.scalars(select(CountyReport))}
    return render_template(
        "console/campaigns.html",
        campaigns=all_campaigns,
        counties=counties,
        federations=federations,
        received=received,
        current_year=_current_year(all_campaigns),
        report_due=lambda c: report_due(c.year, c.report_due_month, c.report_due_day)[0],
        target=lambda c: format_percent(target_of(c)),
    )


def _current_year(all_campaigns: Sequence[Campaign]) -> int | None:
    """The year the campaign form starts at: the current campaign's, else the latest one's."""
    current = open_campaign(g.db) or next(iter(all_campaigns), None)
    return current.year if current is not None else None


def _back(message: str, kind: str = "ok") -> Any:
    if kind == "ok":
        g.db.commit()
    else:
        g.db.rollback()
    flash(message, kind)
    return redirect(url_for("console.campaigns"))


#: 2026-12-20, 2026-1-5, 2026/1/5, 2026.1.5, 2026年1月5日: the ways a date is typed here.
DATE_TYPED = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def _date(name: str) -> date | None:
    """A date field (a text field: ``type=date`` would show the browser's locale, e.g. mm/dd/yyyy)."""
    value = request.form.get(name, "").strip()
    if not value:
        return None
    typed = DATE_TYPED.fullmatch(value)
    try:
        if typed is None:
            raise ValueError(value)
        return date(*(int(part) for part in typed.groups()))
    except ValueError as error:
        raise ValueError(f"日期应写作 年-月-日，如 2026-12-20，而不是“{value}”。") from error


def _number(name: str, low: Decimal, high: Decimal, what: str) -> Decimal | None:
    """A number from the form within [low, high], or None when left empty; ValueError in Chinese."""
    value = request.form.get(name, "").strip()
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation as error:
        raise ValueError(f"{what}应为 {low} 到 {high} 之间的数字。") from error
    if not number.is_finite() or not low <= number <= high:
        raise ValueError(f"{what}应为 {low} 到 {high} 之间的数字。")
    return number


@bp.post("/campaigns")
@signed_in
def open_campaign_page() -> Any:
    city_only()
    try:
        year = _number("year", Decimal(2000), Decimal(2100), "年度")
        if year is None or year != int(year):
            raise ValueError("请填写年度，如 2026。")
        target = _number("target", Decimal(0), Decimal(100), "覆盖率目标（%）")
        month_day = request.form.get("report_due", "").strip()
        deadlines = campaign_rules.Deadlines(
            _date("self_check_due"),
            _date("review_due"),
            parse_month_day(month_day) if month_day else None,
            target / 100 if target is not None else None,
        )
        campaign, added = campaign_rules.open_year(g.db, int(year), g.viewer.actor, deadlines)
    except (ValueError, errors.AdminError) as error:
        return _back(f"未能保存：{error}", "error")
    return _back(f"{campaign.year} 年度年检已开启（新增 {added} 个单位）。")


@bp.post("/counties/order")
@signed_in
def county_order() -> Any:
    """The city sets the official order of the counties: each county's place as typed (ties keep the
    current order)."""
    city_only()
    current = order.federations(g.db)
    places: list[tuple[Decimal, int, str]] = []
    try:
        for index, org in enumerate(current):
            place = _number(f"place-{org.code}", Decimal(1), Decimal(len(current)), f"{org.name}的位次")
            places.append((place if place is not None else Decimal(len(current) + 1), index, org.code))
        found = order.set_order(g.db, [code for _place, _index, code in sorted(places)], g.viewer.actor)
    except (ValueError, errors.AdminError) as error:
        return _back(f"未能保存顺序：{error}", "error")
    return _back("县（区）顺序已保存：" + "、".join(order.short_name(org.name) for org in found) + "。")


@bp.post("/campaigns/<int:year>/publish")
@signed_in
def publish_scope(year: int) -> Any:
    campaign = _campaign(year) or abort(404)
    days = request.form.get("days", type=int) or results.DEFAULT_PUBLICATION_DAYS
    scope = (
        g.db.get(Organisation, g.viewer.org_id)
        if not request.form.get("scope")
        else g.db.scalar(select(Organisation).where(Organisation.code == request.form["scope"]))
    )
    if scope is None or not g.viewer.sees(scope.id):
        abort(404)
    outcome = results.publish(
        g.db,
        campaign,
        current_app.extensions["nianjian.config"],
        _now(),
        days,
        None if scope.parent_id is None else scope,
        g.viewer.actor,
    )
    note = f"已公示 {len(outcome.published)} 个结果"
    if outcome.provisional:
        note += f"；{len(outcome.provisional)} 个所在范围尚未确认五星级名额，暂不公示"
    if outcome.flagged:
        note += f"；五星级同分待裁定：{' '.join(outcome.flagged)}"
    return _back(note + "。" + (HOW_THE_PUBLIC_OBJECTS if outcome.published else ""))


@bp.post("/campaigns/<int:year>/confirm")
@signed_in
def confirm_scope(year: int) -> Any:
    city_only()
    campaign = _campaign(year) or abort(404)
    scope = request.form.get("scope", "").strip() or None
    reason = request.form.get("reason", "").strip()
    try:
        results.confirm_scope(
            g.db, campaign, current_app.extensions["nianjian.config"], scope, g.viewer.actor, reason, _now()
        )
    except ValueError as error:
        return _back(f"未能确认：{error}", "error")
    return _back("已确认五星级名额范围，该范围的星级已按名额确定，可以公示。")


@bp.post("/campaigns/<int:year>/sample")
@signed_in
def sample_scope(year: int) -> Any:
    city_only()
    campaign = _campaign(year) or abort(404)
    try:
        percent = _number("percent", Decimal("0.1"), Decimal(100), "抽查比例（%）") or Decimal(10)
        seed = _number("seed", Decimal(0), Decimal(2**31 - 1), "抽取编号")
        if seed is not None and seed != int(seed):
            raise ValueError("抽取编号应为整数。")
        drawn = sampling.draw(
            g.db, campaign, float(percent / 100), int(seed) if seed is not None else None, g.viewer.actor
        )
    except ValueError as error:
        return _back(f"未能抽取：{error}", "error")
    return _back(
        f"已按 {format_score(percent)}% 抽取 {len(drawn.codes)} 个（抽取编号 {drawn.seed}）："
        f"{' '.join(drawn.codes) or '无'}。"
    )


@bp.post("/campaigns/<int:year>/received")
@signed_in
def mark_received(year: int) -> Any:
    city_only()
    try:
        campaign_rules.mark_report_received(
            g.db,
            request.form.get("county", ""),
            year,
            request.form.get("copy") == "paper",
            _now(),
            g.viewer.actor,
        )
    except errors.AdminError as error:
        return _back(str(error), "error")
    return _back("已登记收到。")


@bp.get("/campaigns/<int:year>/results.xlsx")
@signed_in
def results_download(year: int) -> Any:
    from chatbot.documents import exports

    campaign = _campaign(year) or abort(404)
    rows = result_rows(g.db, campaign, current_app.extensions["nianjian.config"], set(g.viewer.visible))
    return _file(lambda path: exports.results_book(rows, path), f"{year}-年检结果.xlsx", XLSX)


@bp.get("/campaigns/<int:year>/coverage.csv")
@signed_in
def coverage_download(year: int) -> Any:
    campaign = _campaign(year) or abort(404)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for header, _field in COVERAGE_COLUMNS])
    for row in coverage(g.db, campaign):
        if _row_visible(row.code, row.name) or (g.viewer.is_city and not row.code):
            cells = shown_coverage(row)
            writer.writerow([csv_field(cells[field]) for _header, field in COVERAGE_COLUMNS])
    return _attachment(("\ufeff" + buffer.getvalue()).encode("utf-8"), f"{year}-覆盖率.csv", "text/csv")


@bp.get("/campaigns/<int:year>/report.docx")
@signed_in
def report_download(year: int) -> Any:
    from chatbot.documents import reports  # python-docx and matplotlib: loaded by a download

    campaign = _campaign(year) or abort(404)
    code = request.args.get("county", "")
    if not code:
        city_only()
        return _file(
            lambda path: reports.city_report(g.db, campaign, path), f"{year}-全市年检工作情况总结.docx", DOCX
        )
    county = g.db.scalar(select(Organisation).where(Organisation.code == code))
    if county is None or not g.viewer.sees(county.id):
        abort(404)
    return _file(
        lambda path: reports.county_report(g.db, campaign, county, path),
        f"{year}-{county.name}年检工作情况总结.docx",
        DOCX,
    )
