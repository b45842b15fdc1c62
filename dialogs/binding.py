"""Binding (绑定): a WeChat user takes the role and organisation of an invitation code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from dialogs.commands import RedeemInvitation
from dialogs.context import ROLE_LABELS
from dialogs.engine import Choice, DialogState, Outcome, Reply

#: Invitation codes: letters and digits without the look-alikes 0/O/1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_PATTERN = re.compile(r"^[A-Za-z0-9]{4,32}$")
MAX_FAILED_ATTEMPTS = 5
FAILED_ATTEMPT_WINDOW = 3600


class BindStatus(StrEnum):
    BOUND = "bound"
    ALREADY_BOUND = "already_bound"
    NOT_FOUND = "not_found"
    EXPIRED = "expired"
    USED_UP = "used_up"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class BindResult:
    """What redeeming a code came to, as the service found it."""

    status: BindStatus
    role: str = ""
    org_name: str = ""
    #: Codes of the democratic evaluations the new member has joined, open now.
    evaluations: tuple[str, ...] = ()


def start(code: str, state: DialogState) -> Outcome:
    """`绑定 CODE` or a QR scene `inv:CODE`: the service redeems the code and the reply follows its result."""
    code = code.strip().upper()
    if not code:
        return Outcome(Reply("请发送“绑定 邀请码”，如：绑定 AB12CD34。邀请码由上级工会提供。"), state)
    if not CODE_PATTERN.match(code):
        return Outcome(
            Reply(f"“{code[:32]}”不是有效的邀请码格式。邀请码由字母和数字组成，如：绑定 AB12CD34。"), state
        )
    return Outcome(None, state, (RedeemInvitation(code),))


def reply(result: BindResult) -> Reply:
    role = ROLE_LABELS.get(result.role, result.role)
    if result.status == BindStatus.BOUND:
        next_step = {
            "chair": "发送“自评”开始本单位的自查自评。",
            "evaluator": "下级工会提交自评后，您会收到通知。",
            "member": "民主测评开始后，您会收到通知。",
            "admin": "发送“进度”查看年检进度。",
        }.get(result.role, "")
        choices = (Choice("自评", "自评"),) if result.role == "chair" else (Choice("帮助", "帮助"),)
        if result.evaluations:
            word = f"测评 {result.evaluations[0]}"
            next_step = f"民主测评正在进行，您受邀参加：发送“{word}”开始。"
            choices = (Choice(word, word),)
        return Reply(f"绑定成功！您已成为“{result.org_name}”的{role}。{next_step}", choices)
    if result.status == BindStatus.ALREADY_BOUND:
        return Reply(f"您已经是“{result.org_name}”的{role}，无需重复绑定。")
    if result.status == BindStatus.EXPIRED:
        return Reply("这个邀请码已过期，请向上级工会重新索取。")
    if result.status == BindStatus.USED_UP:
        return Reply("这个邀请码的使用次数已满，请向上级工会重新索取。")
    if result.status == BindStatus.RATE_LIMITED:
        return Reply(
            f"邀请码错误次数过多（每小时最多 {MAX_FAILED_ATTEMPTS} 次），请一小时后再试，或联系上级工会。"
        )
    return Reply("邀请码不正确，请核对后重新发送“绑定 邀请码”。")
