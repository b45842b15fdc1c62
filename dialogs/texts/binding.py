"""Texts of binding (绑定, dialogs/binding.py)."""

from __future__ import annotations

CODE_NEEDED = "请发送“绑定 邀请码”，如：绑定 AB12CD34。邀请码由上级工会提供。"


def bad_format(code: str) -> str:
    return f"“{code}”不是有效的邀请码格式。邀请码由字母和数字组成，如：绑定 AB12CD34。"


#: What to do next, by role, once bound.
NEXT_STEP: dict[str, str] = {
    "chair": "发送“自评”开始本单位的自查自评。",
    "evaluator": "下级工会提交自评后，您会收到通知。发送“帮助”查看考评指令。",
    "member": "民主测评开始后，您会收到通知。",
    "admin": "发送“进度”查看年检进度。",
}


def evaluation_waiting(word: str) -> str:
    return f"民主测评正在进行，您受邀参加：发送“{word}”开始。"


def on_paper(org_name: str) -> str:
    return (
        f"“{org_name}”的民主测评正在进行，会员全部参加：参加人员在开启时已确定，"
        "开启后绑定的会员填写上级工会发放的纸质测评表，不在微信作答。"
    )


def no_room(names: str) -> str:
    return f"{names}的民主测评参加人员在开启时已确定，名额已满，您不参加本次测评。"


def and_more(count: int) -> str:
    return f"等 {count} 个单位"


def roll_full(org_name: str, roll: int) -> str:
    return (
        f"“{org_name}”登记的会员人数为 {roll} 人，绑定会员身份的人数已满，不能再绑定。"
        "如会员人数有变化，请联系上级工会更新。"
    )


def bound(org_name: str, role: str, next_step: str) -> str:
    return f"绑定成功！您已成为“{org_name}”的{role}。{next_step}"


def already_bound(org_name: str, role: str) -> str:
    return f"您已经是“{org_name}”的{role}，无需重复绑定。"


EXPIRED = "这个邀请码已过期，请向上级工会重新索取。"
USED_UP = "这个邀请码的使用次数已满，请向上级工会重新索取。"


def rate_limited(attempts: int) -> str:
    return f"邀请码错误次数过多（每小时最多 {attempts} 次），请一小时后再试，或联系上级工会。"


NOT_FOUND = "邀请码不正确，请核对后重新发送“绑定 邀请码”。"

#: `绑定`'s line in `帮助`.
USAGE = "绑定 邀请码 —— 绑定新的身份"
