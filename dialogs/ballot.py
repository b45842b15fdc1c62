"""BallotDialog (民主测评): one question per rubric dimension, overall satisfaction, trust, a suggestion.

Answers go to a draft kept under the voter's keyed hash until the ballot is cast; the cast ballot
carries nothing that ties it to the voter.
"""

from __future__ import annotations

from dialogs.commands import CastBallot, SaveBallotDraft
from dialogs.context import BallotView, UserContext
from dialogs.engine import Choice, DialogState, Outcome, Reply
from dialogs.parsing import Intent, normalise
from dialogs.texts import WRONG_INPUTS_BEFORE_HELP, too_many_wrong_inputs

NAME = "ballot"
SCALE: dict[int, str] = {1: "满意", 2: "基本满意", 3: "不满意"}
NO_SUGGESTION = ("无", "没有", "暂无", "无意见", "没有意见")
MAX_SUGGESTION_CHARS = 500


def rated_questions(view: BallotView) -> list[str]:
    """The questions answered 1/2/3: one per dimension, overall satisfaction, trust."""
    return [f"您对本单位工会“{d}”方面的工作是否满意？" for d in view.dimensions] + [
        "您对本单位工会工作的总体评价？",
        "您对本单位工会的信任程度如何（工会是否是您信赖的“职工之家”）？",
    ]


def _total(view: BallotView) -> int:
    return len(view.dimensions) + 3


def _state(view: BallotView, item: int, wrong: int = 0) -> DialogState:
    return DialogState(
        NAME,
        "ask",
        item=item,
        wrong_inputs=wrong,
        extra={"evaluation_id": view.evaluation_id, "code": view.code},
    )


def ask(view: BallotView, answers: tuple[int, ...], prefix: str = "", wrong: int = 0) -> Outcome:
    """The next question after ``answers``: a rated one, or the closing suggestion."""
    questions = rated_questions(view)
    no = len(answers) + 1
    back = (Choice("上一项", "上一项"),) if answers else ()
    if no <= len(questions):
        text = f"{prefix}【{no}/{_total(view)}】{questions[no - 1]}\n请回复：1 满意　2 基本满意　3 不满意"
        choices = tuple(Choice(label, str(value)) for value, label in SCALE.items()) + back
        return Outcome(Reply(text, choices), _state(view, no, wrong))
    text = (
        f"{prefix}【{no}/{_total(view)}】最后，您对本单位工会有什么意见或建议？直接回复文字即可；"
        "没有请回复“无”。"
    )
    return Outcome(Reply(text, (Choice("无", "无"),) + back), _state(view, no, wrong))


def start(ctx: UserContext, prefix: str = "") -> Outcome:
    """`测评 CODE`, the QR scene eval:CODE, or a bound member's `测评`."""
    view = ctx.ballot
    if view is None:
        return Outcome(
            Reply(prefix + "目前没有您可以参加的民主测评。如有测评码，请发送“测评 测评码”。"), DialogState()
        )
    if view.status != "open":
        return Outcome(Reply(prefix + status_text(view)), DialogState())
    if view.answers:
        prefix += f"欢迎回来，继续“{view.org_name}”民主测评。\n"
    else:
        prefix += (
            f"欢迎参加“{view.org_name}”民主测评（匿名），共 {_total(view)} 题，您的选择不会与您的身份关联。\n"
        )
    if view.others:
        waiting = "、".join(f"{name}（测评 {code}）" for name, code in view.others[:5])
        prefix += f"您还受邀参加：{waiting}，答完本次后发送对应指令即可。\n"
    return ask(view, view.answers, prefix)


def status_text(view: BallotView) -> str:
    return {
        "voted": f"您已参加过“{view.org_name}”的民主测评，每人限投一次，感谢参与！",
        "closed": f"“{view.org_name}”的民主测评已经结束，感谢关注。",
        "not_eligible": f"您不在“{view.org_name}”民主测评的参加人员范围内。如有疑问请联系上级工会。",
        "full": f"“{view.org_name}”民主测评的开放名额已满，感谢关注。",
        "not_found": "测评码不正确，请核对后重新发送“测评 测评码”，或扫描测评二维码。",
    }.get(view.status, "这次民主测评暂时无法参加。")


def handle(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    view = ctx.ballot
    if view is None or view.evaluation_id != state.extra.get("evaluation_id"):
        return start(ctx, "测评已变化，已为您重新定位。\n")
    stale = state.extra.get("code") != view.code or state.item != len(view.answers) + 1
    if stale and view.status == "open":  # the saved answers are not those this state was made with
        return start(ctx, "作答记录已有变化，已按已保存的答案为您重新定位，本条消息未作为答案记录。\n")
    if view.status != "open":
        return Outcome(Reply(status_text(view)), DialogState())
    answers = view.answers
    on_suggestion = len(answers) >= len(rated_questions(view))
    if intent.kind == "word" and intent.word == "暂停":
        again = f"测评 {view.code}" if view.code else "测评"
        return Outcome(
            Reply(f"已暂停，已答部分已保存。发送“{again}”继续。", (Choice(again, again),)), DialogState()
        )
    if intent.kind == "word" and intent.word == "继续":  # back from 帮助
        return ask(view, answers)
    if intent.kind == "word" and intent.word == "上一项":
        if not answers:
            return ask(view, answers, "已经是第一题了。\n")
        previous = answers[:-1]
        outcome = ask(view, previous)
        return Outcome(outcome.reply, outcome.state, (SaveBallotDraft(view.evaluation_id, previous),))
    if on_suggestion and intent.kind not in ("photo", "empty"):
        text = normalise(intent.raw)
        suggestion = "" if text in NO_SUGGESTION else text[:MAX_SUGGESTION_CHARS]
        return Outcome(
            Reply("感谢参与！您的测评已匿名提交。"),
            DialogState(),
            (CastBallot(view.evaluation_id, answers, suggestion),),
        )
    if not on_suggestion and intent.kind == "number" and intent.arg in ("1", "2", "3"):
        updated = answers + (int(intent.arg),)
        outcome = ask(view, updated, f"✓ {SCALE[int(intent.arg)]}\n")
        return Outcome(outcome.reply, outcome.state, (SaveBallotDraft(view.evaluation_id, updated),))
    wrong = state.wrong_inputs + 1
    reason = (
        "请回复文字建议，没有请回复“无”。"
        if on_suggestion
        else "请回复 1、2 或 3：1 满意　2 基本满意　3 不满意。"
    )
    if wrong >= WRONG_INPUTS_BEFORE_HELP:
        usage = "作答：回复 1 满意、2 基本满意、3 不满意；“上一项”返回上一题。"
        return ask(view, answers, f"{reason}\n{too_many_wrong_inputs(ctx, usage)}\n\n", 0)
    return ask(view, answers, reason + "\n", wrong)
