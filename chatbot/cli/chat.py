"""``nianjian chat``: a terminal chat with the webhook, signed (and encrypted) as WeChat does."""

from __future__ import annotations

import urllib.parse

import click
import requests

from chatbot.cli.common import load_config
from chatbot.cli.ports import DEFAULT_PORT, Found, service_at
from chatbot.wechat.protocol import links_of
from chatbot.wechat.simulator import Simulator, http_transport

HELP = """在下面输入文字即发送给公众号。特殊指令：
  #N            点选上一条回复中的第 N 个链接
  /photo        发送一张照片（作为当前项的佐证）
  /scan SCENE   扫描带参数二维码（如 /scan inv:AB12CD34）
  /subscribe [SCENE]  关注公众号（可带二维码场景）
  /click KEY    点击菜单（SELF_CHECK、PROGRESS、HELP）
  /again        原样重发上一条（模拟微信重试）
  /quit         退出"""


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


@click.command("chat")
@click.option("--openid", required=True, help="扮演的微信用户，如 chair-1。")
@click.option("--url", default="http://127.0.0.1:8080/wechat", show_default=True, help="公众号接口的地址。")
def chat(openid: str, url: str) -> None:
    """以 --openid 指定的微信用户的身份与公众号对话。"""
    config = load_config()
    if service_at(base_of(url)) is Found.NOTHING:
        raise click.ClickException(not_running(url))
    sim = Simulator(
        http_transport(url, TIMEOUT), openid, config.wechat_token, config.wechat_app_id, config.wechat_aes_key
    )
    click.echo(f"模拟微信用户 {openid} → {url}（{'安全模式' if config.safe_mode else '明文模式'}）\n{HELP}")
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
