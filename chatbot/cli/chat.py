"""``nianjian chat``: a terminal chat with the webhook, signed (and encrypted) as WeChat does."""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable

import click
import requests

from chatbot.cli.common import load_config
from chatbot.cli.ports import DEFAULT_PORT, FAKE_WECHAT_PORT, Found, service_at
from chatbot.wechat.protocol import links_of
from chatbot.wechat.simulator import Simulator, http_transport

HELP = """在下面输入文字即发送给公众号。特殊指令：
  #N            点选上一条回复中的第 N 个链接
  /photo        发送一张照片（作为当前项的佐证）
  /voice [文字]  发送语音，文字为微信语音识别的结果（如 /voice 三分；不带文字：未识别）
  /scan SCENE   扫描带参数二维码（如 /scan inv:AB12CD34）
  /subscribe [SCENE]  关注公众号（可带二维码场景）
  /click KEY    点击菜单（SELF_CHECK、PROGRESS、HELP）
  /again        原样重发上一条（模拟微信重试）
  /quit         退出
服务以 nianjian serve --fake-wechat 运行时，服务发给你的通知以“通知:”开头显示。"""


#: Seconds to wait for the webhook's reply.
TIMEOUT = 10.0


def base_of(url: str) -> str:
    """The server of a webhook URL: http://127.0.0.1:8080/wechat → http://127.0.0.1:8080."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def not_running(url: str) -> str:
    """The server at ``url`` does not answer: how to start it."""
    port = urllib.parse.urlsplit(url).port
    serve = "nianjian serve" + (f" --port {port}" if port and port != DEFAULT_PORT else "")
    return (
        f"服务未启动：{base_of(url)} 无人应答。请另开一个终端运行 {serve}，待它显示“年检助手已启动”后再试；"
        "服务用的是其他端口时，用 --url http://127.0.0.1:端口/wechat 指明。"
    )


def _show(text: str) -> list[tuple[str, str]]:
    """Print a reply; its tap-to-answer links (always its last line) become numbered choices."""
    choices = links_of(text)
    body = text.rsplit("\n", 1)[0] if choices else text
    if choices:
        body += "\n" + "  ".join(f"#{i} {label}" for i, (label, _content) in enumerate(choices, start=1))
    click.echo(click.style("公众号: ", fg="green") + body.replace("\n", "\n        "))
    return choices


#: Seconds between two looks at the fake WeChat API for notices sent to the simulated user.
NOTICE_POLL_SECONDS = 3.0


class Notices:
    """The notices the fake WeChat API (`serve --fake-wechat`) delivered to the simulated user: what
    the service sent them through WeChat, shown in the chat as they arrive."""

    def __init__(self, fake_url: str, openid: str) -> None:
        self.url = fake_url.rstrip("/") + "/_fake/messages"
        self.openid = openid
        self.seen = 0

    def new(self) -> list[str] | None:
        """The notices delivered since the last look; None when the fake does not answer."""
        try:
            response = requests.get(
                self.url, params={"touser": self.openid, "after": str(self.seen)}, timeout=2
            )
            found = response.json()
        except (requests.RequestException, ValueError):
            return None
        self.seen = int(found.get("last", self.seen))
        return [str(message["text"]) for message in found.get("messages", [])]

    def show(self) -> bool:
        """Print the new notices; whether the fake answered."""
        found = self.new()
        for text in found or ():
            click.echo(click.style("通知: ", fg="yellow") + text.replace("\n", "\n      "))
        return found is not None

    def watch(self, stop: threading.Event) -> None:
        """Show notices as they arrive, until ``stop`` is set."""
        while not stop.wait(NOTICE_POLL_SECONDS):
            self.show()


def start_notices(fake_url: str, openid: str) -> Callable[[], None]:
    """Show the notices already delivered, then watch for more in the background; the stopper."""
    notices = Notices(fake_url, openid)
    stop = threading.Event()
    if notices.show():
        click.echo(
            f"（通知：显示模拟微信接口 {fake_url} 发给 {openid} 的通知，约每 {NOTICE_POLL_SECONDS:g} 秒查看一次）"
        )
        threading.Thread(target=notices.watch, args=(stop,), daemon=True).start()
    return stop.set


@click.command("chat")
@click.option("--openid", required=True, help="扮演的微信用户，如 chair-1。")
@click.option("--url", default="http://127.0.0.1:8080/wechat", show_default=True, help="公众号接口的地址。")
@click.option(
    "--fake-wechat-url",
    default=f"http://127.0.0.1:{FAKE_WECHAT_PORT}",
    show_default=True,
    help="模拟微信接口的地址（nianjian serve --fake-wechat）：服务发给该用户的通知在对话中显示。",
)
def chat(openid: str, url: str, fake_wechat_url: str) -> None:
    """以 --openid 指定的微信用户的身份与公众号对话；服务以 --fake-wechat 运行时，也显示发给该用户的通知。"""
    config = load_config()
    if service_at(base_of(url)) is Found.NOTHING:
        raise click.ClickException(not_running(url))
    sim = Simulator(
        http_transport(url, TIMEOUT), openid, config.wechat_token, config.wechat_app_id, config.wechat_aes_key
    )
    click.echo(f"模拟微信用户 {openid} → {url}（{'安全模式' if config.safe_mode else '明文模式'}）\n{HELP}")
    stop_notices = start_notices(fake_wechat_url, openid)
    try:
        _converse(sim, url)
    finally:
        stop_notices()


def _converse(sim: Simulator, url: str) -> None:
    """Read a line, send it, show the reply; until /quit or the end of input."""
    choices: list[tuple[str, str]] = []
    while True:
        try:
            line = click.prompt(
                click.style("我", fg="cyan"), prompt_suffix=": ", default="", show_default=False
            ).strip()
        except (EOFError, click.Abort):
            break
        if line == "/quit":
            break
        if not line:
            continue
        try:
            sent = _send(sim, line, choices)
            if isinstance(sent, str):
                click.echo(sent)
                continue
            choices = _show(sim.reply_text(*sent))
        except (OSError, RuntimeError) as error:
            click.echo(click.style(_failure(error, url), fg="red"))


def _send(sim: Simulator, line: str, choices: list[tuple[str, str]]) -> tuple[int, str] | str:
    """Send what the typed line asks for: the webhook's (status, body), or a note to print instead."""
    if line.startswith("#") and line[1:].isdigit():
        index = int(line[1:])
        if not 1 <= index <= len(choices):
            return "没有这个选项。"
        return sim.text(choices[index - 1][1])
    if line == "/photo":
        return sim.photo()
    if line == "/voice" or line.startswith("/voice "):
        return sim.voice(line[7:].strip())
    if line.startswith("/scan "):
        return sim.scan(line[6:].strip())
    if line.startswith("/subscribe"):
        return sim.subscribe(line[10:].strip() or None)
    if line.startswith("/click "):
        return sim.click(line[7:].strip())
    if line == "/again":
        return sim.again() if sim.last is not None else "还没有发送过消息，无法重发。"
    if line.startswith("/"):
        return HELP
    return sim.text(line)


def _failure(error: OSError | RuntimeError, url: str) -> str:
    """Why a message did not get through, in Chinese: the server down or slow, or its refusal."""
    if isinstance(error, requests.ConnectionError):
        return not_running(url)
    if isinstance(error, requests.Timeout):
        return f"服务没有在 {TIMEOUT:g} 秒内回复，请稍后用 /again 重发上一条。"
    if isinstance(error, RuntimeError):  # the webhook refused the message: its status and body
        return f"发送失败，服务返回 {error}"
    return f"发送失败：{error}"
