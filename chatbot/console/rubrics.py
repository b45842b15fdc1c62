"""考评标准 in the console: each sheet's versions (the shipped one and a federation's imports, with
the years that pinned each), the differences between two versions, and each version as a workbook.

The city's account uploads next year's sheet here, as `nianjian rubrics import` does: the workbook is
checked (every problem with its row, nothing stored), its differences from the current version are
shown, and a confirmation stores it. Between the two the checked sheet travels in the confirmation
form, signed with the service's secret and tied to the user and to the version it was compared with:
a confirmation after someone stored another version stores nothing, a second one of the same sheet
says it is stored."""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from chatbot.console.access import city_only, signed_in
from chatbot.console.pages import XLSX, _attachment, bp
from chatbot.documents.labels import rubric_name
from chatbot.inspection import rubric_versions
from chatbot.inspection.errors import AdminError
from chatbot.store.models import Campaign
from chatbot.timeutil import SHANGHAI, local_minute
from rubrics import Rubric, get_rubric
from rubrics.loader import RUBRIC_KEYS
from rubrics.versions import SheetProblem, SheetRejected, changes

#: A confirmation form is good for this long after the upload it shows.
CONFIRM_SECONDS = 2 * 3600
_SALT = "console-rubric-upload"
#: The file names an upload may have: a workbook, as `rubrics export --xlsx` writes it.
SUFFIXES = (".xlsx",)


def _years_of(key: str) -> dict[str, list[int]]:
    """The campaign years that pinned each version of sheet ``key``."""
    years: dict[str, list[int]] = {}
    for campaign in g.db.scalars(select(Campaign).order_by(Campaign.year)):
        years.setdefault(rubric_versions.pinned(campaign, key), []).append(campaign.year)
    return years


def importer(created_by: str) -> str:
    """Who stored a version, in words: the command line, or a console account."""
    if created_by == "cli":
        return "命令行"
    if created_by.startswith("console:"):
        return f"管理台账号 {created_by.removeprefix('console:')} "
    return created_by


def _sheets() -> list[tuple[str, str, list[rubric_versions.VersionInfo]]]:
    return [(key, rubric_name(key), rubric_versions.versions(g.db, key)) for key in RUBRIC_KEYS]


@bp.get("/rubrics")
@signed_in
def rubrics_page() -> Any:
    return render_template("console/rubrics.html", sheets=_sheets(), chosen=request.args.get("key", ""))


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
        shown=local_minute,
        importer=importer,
    )


@bp.get("/rubrics/<key>/<version>.xlsx")
@signed_in
def rubric_download(key: str, version: str) -> Any:
    """A version as a workbook, in the layout of `nianjian rubrics export --xlsx --version`."""
    from chatbot.documents import rubric_book  # openpyxl: loaded by a download, never by a webhook worker

    if key not in RUBRIC_KEYS:
        abort(404)
    known = {info.rubric.version: info.rubric for info in rubric_versions.versions(g.db, key)}
    if version not in known:
        abort(404)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sheet.xlsx"
        rubric_book.write(known[version], path)
        data = path.read_bytes()
    return _attachment(data, f"{rubric_name(key)}考评标准-{version}.xlsx", XLSX)


# ---------------------------------------------------------------- upload and confirm


@dataclass(frozen=True)
class Pending:
    """An upload checked and shown, waiting for its confirmation."""

    rubric: Rubric
    base: str  # the current version it was compared with
    origin: str  # the file's name


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _token(pending: Pending) -> str:
    return _signer().dumps(
        {
            "user": g.viewer.user_id,
            "sheet": pending.rubric.to_dict(),
            "base": pending.base,
            "origin": pending.origin,
            "nonce": secrets.token_urlsafe(8),
        }
    )


class Unconfirmable(Exception):
    """A confirmation that cannot be read: expired, tampered with, or another user's."""


def _pending(token: str) -> Pending:
    try:
        data = _signer().loads(token, max_age=CONFIRM_SECONDS)
    except SignatureExpired as expired:
        raise Unconfirmable("确认页面已超过 2 小时，为安全起见未保存，请重新上传。") from expired
    except BadSignature as bad:
        raise Unconfirmable("确认信息无效，未保存，请重新上传。") from bad
    if not isinstance(data, dict) or data.get("user") != g.viewer.user_id:
        raise Unconfirmable("确认信息无效，未保存，请重新上传。")
    sheet = data["sheet"]
    key = str(sheet["key"])
    if key not in RUBRIC_KEYS:
        raise Unconfirmable("确认信息无效，未保存，请重新上传。")
    rubric = Rubric.from_dict(sheet, get_rubric(key).source)
    return Pending(rubric, str(data["base"]), str(data["origin"]))


def _refused(key: str, origin: str, message: str, problems: list[SheetProblem] | None = None) -> Any:
    """The upload page again, saying why nothing was stored."""
    page = render_template(
        "console/rubric_upload.html",
        key=key,
        name=rubric_name(key) if key in RUBRIC_KEYS else "",
        origin=origin,
        refusal=message,
        problems=problems or [],
        proposal=None,
        sheets=_sheets(),
    )
    return page, 400


def _file_name(name: str) -> str:
    """The uploaded file's own name (no folders), as short as the origin column keeps."""
    printable = "".join(ch for ch in name if ch.isprintable()).replace("\\", "/")
    name = PurePath(printable).name or "（未命名文件）"
    return name if len(name) <= 200 else name[:190] + "…" + PurePath(name).suffix[-9:]


@bp.post("/rubrics/upload")
@signed_in
def rubric_upload() -> Any:
    """The city's upload of a sheet's new version: checked and compared, never stored here."""
    from chatbot.documents import rubric_book

    city_only()
    key = request.form.get("key", "")
    upload = request.files.get("file")
    origin = _file_name(upload.filename or "") if upload is not None else ""
    if key not in RUBRIC_KEYS:
        return _refused("", origin, "请选择要更新的考评标准表。")
    if upload is None or not upload.filename:
        return _refused(key, origin, "请选择要上传的 Excel 文件（.xlsx）。")
    if not origin.lower().endswith(SUFFIXES):
        return _refused(
            key,
            origin,
            f"只能上传 Excel 工作簿（.xlsx），“{origin}”不是。旧版 .xls 请在 Excel 中另存为 .xlsx。",
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.xlsx"  # the upload's own name may be past what a disk takes
        upload.save(path)
        try:
            read = rubric_book.read(path, origin)
        except rubric_book.BookError as refused:
            return _refused(key, origin, str(refused))
    label = request.form.get("version", "").strip()
    year = datetime.now(UTC).astimezone(SHANGHAI).year
    try:
        proposal = rubric_versions.propose(g.db, key, read.rows, read.title, label, year)
    except SheetRejected as rejected:
        count = len(rejected.problems)
        return _refused(key, origin, f"{origin} 有 {count} 处错误，一项也没有保存：", rejected.problems)
    except AdminError as refused:
        return _refused(key, origin, str(refused))
    if rubric_versions.taken(g.db, key, proposal.new.version):
        return _refused(key, origin, f"已有版本 {proposal.new.version}，请换一个版本号。")
    token = "" if proposal.unchanged else _token(Pending(proposal.new, proposal.current.version, origin))
    return render_template(
        "console/rubric_upload.html",
        key=key,
        name=rubric_name(key),
        origin=origin,
        refusal="",
        problems=[],
        proposal=proposal,
        token=token,
        sheets=_sheets(),
    )


@bp.post("/rubrics/confirm")
@signed_in
def rubric_confirm() -> Any:
    """Store an upload shown before, unless another version was stored since (then nothing)."""
    city_only()
    try:
        pending = _pending(request.form.get("token", ""))
    except Unconfirmable as refused:
        flash(str(refused), "error")
        return redirect(url_for("console.rubrics_page"))
    key = pending.rubric.key
    rubric_versions.lock(g.db, key)
    outcome = _already(pending)
    if outcome is None:
        try:
            rubric_versions.store(g.db, pending.rubric, g.viewer.actor, origin=pending.origin)
            g.db.commit()
        except (IntegrityError, AdminError):  # stored meanwhile: by this same form, or another
            g.db.rollback()
            outcome = _already(pending)
        else:
            flash(
                f"已保存{rubric_name(key)}版本 {pending.rubric.version}；此后开启的年度使用该版本，已开启的年度不变。",
                "ok",
            )
            return redirect(url_for("console.rubric_versions_page", key=key))
    message, kind = outcome or ("未保存，请重新上传。", "error")
    flash(message, kind)
    if kind == "ok":
        return redirect(url_for("console.rubric_versions_page", key=key))
    return redirect(url_for("console.rubrics_page", key=key))


def _already(pending: Pending) -> tuple[str, str] | None:
    """Why ``pending`` is not to be stored now (the message and its kind), or None to store it: it
    is the current version already (a second confirmation), or another version came after the one
    it was compared with."""
    current = rubric_versions.latest(g.db, pending.rubric.key)
    if current.version == pending.base:
        return None
    if current.version == pending.rubric.version and current.to_dict() == pending.rubric.to_dict():
        return f"版本 {current.version} 已经保存，无需再次确认。", "ok"
    return (
        f"未保存：在您查看差异之后，已有人保存了版本 {current.version}，您看到的差异已不准确。"
        "请重新上传，核对与最新版本的差异后再确认。",
        "error",
    )
