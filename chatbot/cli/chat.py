"""``nianjian chat``: a terminal chat with the webhook, signed (and encrypted) as WeChat does."""

from __future__ import annotations

import click

from chatbot.cli.common import load_config
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


def _show(text: str) -> list[tuple[str, str]]:
    """Print a reply; its tap-to-answer links (always its last line) become numbered choices."""
    choices = links_of(text)
    body = text.rsplit("\n", 1)[0] if choices else text
    if choices:
        body += "\n" + "  ".join(f"#{i} {label}" for i, (label, _content) in enumerate(choices, start=1))
    click.echo(click.style("公众号: ", fg="green") + body.replace("\n", "\n        "))
    return choices


@click.command("chat")
@click.option("--openid", required=True, help="The WeChat user to play, e.g. chair-1.")
@click.option("--url", default="http://127.0.0.1:8080/wechat", show_default=True)
def chat(openid: str, url: str) -> None:
    """Chat with the webhook as WeChat user OPENID."""
    config = load_config()
    sim = Simulator(
        http_transport(url), openid, config.wechat_token, config.wechat_app_id, config.wechat_aes_key
    )
    click.echo(f"模拟微信用户 {openid} → {url}（{'安全模式' if config.safe_mode else '明文模式'}）\n{HELP}")
    choices: list[tuple[str, str]] = []
    while True:
        try:
            line = click.prompt(
                click.style("我", fg="cyan"), prompt_suffix=": ", default="", show_default=False
            )
        except (EOFError, click.Abort):
            break
        line = line.strip()
        if not line:
            continue
        try:
            if line == "/quit":
                break
            if line.startswith("#") and line[1:].isdigit():
                index = int(line[1:])
                if not 1 <= index <= len(choices):
                    click.echo("没有这个选项。")
                    continue
                result = sim.text(choices[index - 1][1])
            elif line == "/photo":
                result = sim.photo()
            elif line.startswith("/scan "):
                result = sim.scan(line[6:].strip())
            elif line.startswith("/subscribe"):
                result = sim.subscribe(line[10:].strip() or None)
            elif line.startswith("/click "):
                result = sim.click(line[7:].strip())
            elif line == "/again":
                result = sim.again()
            elif line.startswith("/"):
                click.echo(HELP)
                continue
            else:
                result = sim.text(line)
            choices = _show(sim.reply_text(*result))
        except (OSError, RuntimeError) as error:
            click.echo(click.style(f"发送失败：{error}", fg="red"))
