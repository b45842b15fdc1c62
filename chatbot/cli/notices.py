"""``nianjian notices``, ``menu push``, ``fake-wechat``, ``tick`` and ``deliver``: pushes, delivery
workers and the fake WeChat API."""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

import click
from sqlalchemy import func, select

from chatbot.cli import texts as cli_texts
from chatbot.cli.common import db_session, load_config
from chatbot.cli.ports import bind_problem
from chatbot.cli.table import render
from chatbot.config import Config
from chatbot.inspection import texts as inspection_texts
from chatbot.notify.delivery import DeliveryReport, notice_facts, run_worker
from chatbot.notify.message import NoticeFacts, template_message
from chatbot.notify.templates import Template, load_templates
from chatbot.notify.tick import run_due
from chatbot.store.engine import make_engine, migrate, session_factory
from chatbot.store.models import Account, OutboxMessage
from chatbot.store.notice_kinds import NoticeKind, label_of, notice_kind
from chatbot.store.outbox import facts_json
from chatbot.timeutil import SHANGHAI
from chatbot.wechat.api import ApiError, make_client
from chatbot.wechat.fake_api import FakeState, FakeWeChatServer
from rubrics.scoring import Stars

#: The account's custom menu: CLICK keys the dialogs understand.
MENU = {
    "button": [
        {"type": "click", "name": "自评", "key": "SELF_CHECK"},
        {"type": "click", "name": "测评", "key": "EVALUATION"},
        {"type": "click", "name": "结果", "key": "RESULT"},
        {"type": "click", "name": "帮助", "key": "HELP"},
    ]
}


#: The statuses of a notice in the outbox, as people read them.
STATUS_LABELS = {
    "pending": "待发送",
    "claimed": "已领取待发送",
    "sending": "发送中",
    "sent": "已发送",
    "failed": "失败",
    "undeliverable": "无法送达",
    "unconfirmed": "未确认",
}


@click.group("notices")
def notices_group() -> None:
    """通知及其发送情况。"""


@notices_group.command("kinds")
def notices_kinds() -> None:
    """每类通知及其所用的模板（没有模板的以客服消息发送）。"""
    config = load_config()
    rows = [
        (
            kind.label,
            kind.value,
            kind.template_setting,
            _template_name(config, kind) or "无（48 小时内以客服消息发送）",
        )
        for kind in NoticeKind
    ]
    click.echo("\n".join(render(("通知事项", "类型", "单独设置模板的环境变量", "模板"), rows)))
    click.echo(templates_origin(config))


def _template_name(config: Config, kind: NoticeKind) -> str:
    template = config.template_of(kind)
    return f"{template.title}（{template.id}）" if template is not None else ""


def templates_origin(config: Config) -> str:
    """Where the templates come from, and whether their notices link to the full text."""
    if config.template_map is not None:
        origin = f"模板及字段来自 WECHAT_TEMPLATES_FILE：{config.template_map.source}。"
    else:
        origin = (
            "未设置 WECHAT_TEMPLATES_FILE：设置了 WECHAT_TEMPLATE_ID 的类型按旧版行业模板"
            "（keyword1 事项、keyword2 截止时间、keyword3 说明）发送。"
        )
    return origin + (
        f"模板消息附带全文链接：{config.public_base_url}n/…"
        if config.public_base_url
        else "未设置 PUBLIC_BASE_URL：模板消息不带全文链接，成员只能看到各字段（每项最多 20 字）。"
    )


@notices_group.command("preview")
@click.argument("kind_name", metavar="通知类型")
@click.option(
    "--id", "notice_id", type=int, help="预览这条已排队的通知（默认：这一类型最新的一条，没有则用示例）。"
)
def notices_preview(kind_name: str, notice_id: int | None) -> None:
    """成员将看到的通知：模板的每个字段、全文链接，以及链接页面上的全文。KIND 见 nianjian notices kinds。"""
    try:
        kind = notice_kind(kind_name)
    except ValueError:
        known = "、".join(k.value for k in NoticeKind)
        raise click.BadParameter(f"“{kind_name}”不是通知类型；可选：{known}。") from None
    config = load_config()
    now = datetime.now(UTC)
    notice = _preview_notice(kind, notice_id, now)
    click.echo(f"通知：{kind.label}（{kind.value}）")
    template = config.template_of(kind)
    if template is None:
        click.echo("这类通知没有模板：仅在用户 48 小时内发过消息时以客服消息发送全文：")
        click.echo(notice.text)
        return
    sent = template_message(template, notice, now, config.public_base_url, config.secret_key)
    click.echo(f"模板：{template.title}（{template.id}）")
    by_key = {field.key: field for field in template.fields}
    for key, value in sent.data.items():
        field = by_key[key]
        click.echo(f"  {field.label or key}（{key}，{field.type.value}）：{value['value']}")
    sample = "（示例通知：链接仅示意，打不开）" if notice.id == 0 else ""
    click.echo(f"  详情链接：{sent.url}{sample}" if sent.url else "  详情链接：无（未设置 PUBLIC_BASE_URL）")
    click.echo("点开链接看到的全文：")
    click.echo(notice.text)
    click.echo(templates_origin(config))


def _preview_notice(kind: NoticeKind, notice_id: int | None, now: datetime) -> NoticeFacts:
    """The notice to preview: the one asked for, else the latest of its kind, else a sample."""
    with db_session() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind.value)
        if notice_id is not None:
            query = query.where(OutboxMessage.id == notice_id)
        row = session.scalar(query.order_by(OutboxMessage.id.desc()).limit(1))
        if row is not None:
            return notice_facts(row)
        if notice_id is not None:
            raise click.ClickException(f"没有编号为 {notice_id} 的“{kind.label}”通知。")
    due = (now.astimezone(SHANGHAI) + timedelta(days=7)).date().isoformat()
    facts = {
        "union": cli_texts.SAMPLE_UNION,
        "stars": Stars.FOUR.label,
        "score": "87.5",
        "round": "1",
        "result": inspection_texts.RESULT_RETURNED,
    }
    sample = cli_texts.sample_notice(kind.label)
    return NoticeFacts(0, kind.value, kind.label, due, sample, facts_json(facts), now)


def status_words() -> str:
    """The statuses as typed, each with its Chinese label: "待发送（pending）、…"."""
    return "、".join(f"{label}（{name}）" for name, label in STATUS_LABELS.items())


def check_status(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``--status`` by its Chinese label (待发送) or its name (pending), as its name; refused with the
    valid values unless it is one of them."""
    if value is None or value in STATUS_LABELS:
        return value
    by_label = {label: name for name, label in STATUS_LABELS.items()}
    if value in by_label:
        return by_label[value]
    raise click.BadParameter(f"“{value}”不是通知的状态；可选：{status_words()}。")


@notices_group.command("list")
@click.option(
    "--status",
    callback=check_status,
    help=f"只列出这一状态的通知：{status_words()}。",
)
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(1, 10000), help="最多列出的条数。"
)
def notices_list(status: str | None, limit: int) -> None:
    """通知列表，最新的在前；用 --status undeliverable 可列出所有渠道都无法送达的通知。"""
    with db_session() as session:
        counts = dict(
            session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
        )
        click.echo(
            "，".join(f"{STATUS_LABELS.get(name, name)} {count} 条" for name, count in sorted(counts.items()))
            or "没有通知。"
        )
        query = (
            select(OutboxMessage, Account.openid).join(Account).order_by(OutboxMessage.id.desc()).limit(limit)
        )
        if status:
            query = query.where(OutboxMessage.status == status)
        rows = [
            (
                row.id,
                STATUS_LABELS.get(row.status, row.status),
                label_of(row.kind),
                openid,
                row.text,
                row.last_error,
            )
            for row, openid in session.execute(query)
        ]
        if not rows and status:
            click.echo(f"没有状态为“{STATUS_LABELS[status]}”（{status}）的通知。")
        if rows:
            click.echo(
                "\n".join(
                    render(
                        ("编号", "状态", "事项", "接收人 openid", "内容", "最近错误"),
                        rows,
                        limits={2: 24, 3: 16, 4: 40, 5: 30},
                        right=[0],
                    )
                )
            )


def delivery_summary(report: DeliveryReport) -> str:
    """One delivery run in a line: sent, to retry, failed, undeliverable, unconfirmed, held back."""
    line = (
        f"已发送 {report.sent} 条，待重试 {report.retried} 条，失败 {report.failed} 条，"
        f"无法送达 {report.undeliverable} 条，未确认 {report.unconfirmed} 条"
    )
    if report.held or report.paused:
        paused = "、".join(label_of(kind) for kind in report.paused)
        line += f"，暂缓 {report.held} 条（今日额度已用完：{paused or '全部'}）"
    return line + "。"


def api_client(config: Config):
    engine = make_engine(config.database_url)
    migrate(engine)
    return make_client(config, session_factory(engine)), engine


@click.group("menu")
def menu_group() -> None:
    """公众号自定义菜单。"""


@menu_group.command("push")
def menu_push() -> None:
    """创建公众号自定义菜单（自评 / 测评 / 结果 / 帮助）。"""
    config = load_config()
    if not config.api_configured:
        raise click.ClickException("请先设置 WECHAT_APP_ID 和 WECHAT_APP_SECRET，才能调用微信接口。")
    client, engine = api_client(config)
    try:
        client.create_menu(MENU)
    except ApiError as error:
        raise click.ClickException(f"菜单未能创建：{error}") from error
    finally:
        engine.dispose()
    click.echo("公众号菜单已创建：" + " / ".join(button["name"] for button in MENU["button"]))


LATENCY_HELP = "每次发送消息延迟这么多毫秒再答复，模拟经互联网访问微信的耗时（默认 0）。"


@click.command("fake-wechat")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听的地址。")
@click.option("--port", default=8090, show_default=True, type=int, help="监听的端口。")
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="调用记录文件（每次调用写一行 JSON）。",
)
@click.option("--fail", "fail_next", multiple=True, help="ERRCODE:N：接下来 N 次调用以错误码 ERRCODE 失败。")
@click.option(
    "--fail-openid", multiple=True, help="OPENID:ERRCODE：发给 OPENID 的消息都以错误码 ERRCODE 失败。"
)
@click.option("--latency-ms", default=0, type=click.IntRange(0, 60_000), help=LATENCY_HELP)
def fake_wechat(
    host: str,
    port: int,
    log_path: Path | None,
    fail_next: tuple[str, ...],
    fail_openid: tuple[str, ...],
    latency_ms: int,
) -> None:
    """在本机运行模拟微信接口（令牌、客服/模板消息、二维码、菜单、素材），记录每次调用。

    让服务使用它：WECHAT_API_BASE_URL=http://HOST:PORT/cgi-bin/。运行中也可注入错误：POST /_fake/fail {"errcode": 45015, "count": 2} 或 {"openid": …, "errcode": …}。"""
    state = FakeState(
        log_path=log_path, send_delay=latency_ms / 1000, templates=fake_templates(load_config())
    )
    try:
        for spec in fail_next:
            code, count = spec.split(":")
            state.fail_next.extend([int(code)] * int(count))
        for spec in fail_openid:
            openid, code = spec.rsplit(":", 1)
            state.fail_openid[openid] = int(code)
    except ValueError as error:
        raise click.BadParameter(f"应写作 错误码:次数 或 OPENID:错误码（{error}）") from error
    taken = bind_problem(host, port)
    if taken:
        raise click.ClickException(
            f"{taken}请用 --port 换一个端口，如 nianjian fake-wechat --port {port + 1}。"
        )
    server = FakeWeChatServer(state, host, port)
    click.echo(f"模拟微信接口已启动：{server.base_url}" + (f"，调用记录写入 {log_path}" if log_path else ""))
    click.echo(
        f"按微信的规则检查模板消息（模板 ID、字段、类型、每项 20 字、不换行）：{'、'.join(sorted(state.templates or {}))}"
    )
    server.serve_forever()


def fake_templates(config: Config) -> dict[str, Template]:
    """The templates the fake account has: the shipped mapping's, and the ones this service is set to
    send (WECHAT_TEMPLATES_FILE, or WECHAT_TEMPLATE_ID(_<KIND>) with the old layout)."""
    found = {template.id: template for template in load_templates("default").templates}
    for kind in NoticeKind:
        template = config.template_of(kind)
        if template is not None:
            found[template.id] = template
    return found


def parse_now(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(f"“{value}”不是有效的时间，应写作 2026-12-08T09:00 这样的格式。") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)


@click.command("tick")
@click.option(
    "--now", "now_text", help="运行的时刻（ISO 格式，如 2026-12-08T09:00；默认现在；不写时区按北京时间）。"
)
def tick(now_text: str | None) -> None:
    """在这一时刻把到期的事项各运行一次：提醒、公示期结束、发送通知。"""
    config = load_config()
    now = parse_now(now_text)
    engine = make_engine(config.database_url)
    try:
        migrate(engine)
        sessions = session_factory(engine)
        client = make_client(config, sessions) if config.api_configured else None
        report = run_due(sessions, config, now, client)
    finally:
        engine.dispose()
    click.echo(
        f"{now.astimezone(SHANGHAI).isoformat()}：新增通知 {report.queued} 条；"
        f"公示期结束、结果确定：{' '.join(report.finalised) or '无'}"
    )
    if report.delivery is None:
        click.echo("未发送通知：没有设置 WECHAT_APP_ID / WECHAT_APP_SECRET。")
    else:
        click.echo(delivery_summary(report.delivery))
    if report.evidence is not None:
        click.echo(report.evidence.summary())


@click.command("deliver")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="进程数。")
@click.option("--once", is_flag=True, help="发送现在到期的通知后退出（默认：持续轮询）。")
@click.option(
    "--poll",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.1, 600),
    help="空闲进程每次等待的秒数。",
)
def deliver(workers: int, once: bool, poll: float) -> None:
    """与定时任务并行的发送进程：发送待发通知中到期的部分，与主进程的定时任务和其他发送进程共用（不生成提醒，不结束公示期，这些由主进程决定）。无论运行几个，每条通知只发送一次；按 Ctrl-C 或发送 SIGTERM 后，各进程发完当前一批即停止。"""
    config = load_config()
    if not config.api_configured:
        raise click.ClickException("请先设置 WECHAT_APP_ID 和 WECHAT_APP_SECRET，才能发送通知。")
    engine = make_engine(config.database_url)
    migrate(engine)
    engine.dispose()
    started = time.monotonic()
    if workers == 1:
        delivery_worker(once, poll)
    else:
        _run_processes(workers, once, poll)
    click.echo(f"{workers} 个发送进程已结束，用时 {time.monotonic() - started:.1f} 秒。")


def delivery_worker(once: bool, poll: float) -> None:
    """One delivery process (a child of `nianjian deliver --workers N`, or the command itself)."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()

    def request_stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, request_stop)
    config = Config.from_env()
    engine = make_engine(config.database_url)
    try:
        sessions = session_factory(engine)
        report = run_worker(
            sessions, make_client(config, sessions), config, once=once, stop=stop, poll_seconds=poll
        )
    finally:
        engine.dispose()
    click.echo(f"发送进程 {multiprocessing.current_process().pid}：{delivery_summary(report)}")


def _run_processes(workers: int, once: bool, poll: float) -> None:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no engine or socket inherited
    processes = [context.Process(target=delivery_worker, args=(once, poll)) for _ in range(workers)]
    for process in processes:
        process.start()

    def forward(_signal: int, _frame: FrameType | None) -> None:
        for process in processes:  # each stops after its batch
            if process.is_alive():
                process.terminate()

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for process in processes:
        process.join()
    failed = [p.exitcode for p in processes if p.exitcode]
    if failed:
        raise click.ClickException(f"{len(failed)} 个发送进程异常退出（退出码 {failed}）。")
