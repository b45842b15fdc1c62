"""The command line's sentences that tell people what to send in chat: the command words come from
``rubrics.words``, never written out."""

from __future__ import annotations

from rubrics.words import BIND, EVALUATE, HELP, SELF_CHECK


def demo_ready(year: int) -> str:
    return f"演示数据已就绪：{year} 年度年检已开启。邀请码（发送“{BIND} 邀请码”）："


def demo_start_chatting(url: str) -> str:
    """How to start chatting as the demo's chair (``url``: the ``--url`` option, or nothing)."""
    return (
        f"接着：运行 nianjian chat --openid chair-1{url}，发送“{BIND} 主席邀请码”，然后发送“{SELF_CHECK}”。"
    )


def how_to_bind(code: str) -> str:
    return f"发送“{BIND} {code}”或扫描场景为 inv:{code} 的二维码即可绑定。"


def how_to_join_evaluation(code: str, path: object) -> str:
    """Where the QR code of an evaluation was written (``path``), and the word that joins it."""
    return f"测评二维码（场景 eval:{code}）：{path}；也可发送“{EVALUATE} {code}”参加"


#: A sample union's name for ``notices preview`` when no notice of the kind is queued yet: a long one,
#: so the preview shows how names are shortened to fit.
SAMPLE_UNION = "西吉县供电有限责任公司工会委员会"


def sample_notice(label: str) -> str:
    """The full text of a sample notice of a kind (``notices preview`` with nothing queued yet)."""
    return f"{SAMPLE_UNION}：{label}（示例）。详情请发送“{HELP}”查看可用的命令。"
