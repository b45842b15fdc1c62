"""The command words people type, each a named constant, stated here once: the dialogs' routers
register these words and the texts that tell people what to send (the domain's notices, the chat's
replies) write them, never the word itself. A word that only its own feature ever says (`撤销提交`)
may stay with its router. ``dialogs/parsing``
reads each of them as its command word (``tests/test_words.py``)."""

from __future__ import annotations

from typing import Final

BIND: Final = "绑定"
FULL_MARKS: Final = "满分"
PREVIOUS_ITEM: Final = "上一项"
SKIP: Final = "跳过"
CHANGE: Final = "修改"
SUMMARY: Final = "查看"
PAUSE: Final = "暂停"
PREVIOUS_PAGE: Final = "上一页"
NEXT_PAGE: Final = "下一页"
CONTINUE: Final = "继续"
SAME: Final = "同"
SELF_CHECK: Final = "自评"
SUBMIT: Final = "提交"
PROGRESS: Final = "进度"
HELP: Final = "帮助"
ASSESS: Final = "考评"
RE_REVIEW: Final = "复查"
SAMPLE_CHECK: Final = "抽查"
RETURN: Final = "退回"
EVALUATE: Final = "测评"
RESULT: Final = "结果"
OBJECTION: Final = "异议"
END_EVALUATION: Final = "结束测评"
WAIVE_EVALUATION: Final = "免除测评"
ENTER_PAPER_BALLOTS: Final = "录入测评"
METHODS: Final = "方式"
OPINION: Final = "意见"
REMEDIATION: Final = "补课"
REMEDIATION_DONE: Final = "补课完成"
REMEDIATION_CHECK: Final = "补课验收"

#: Every command word above, by its constant's name.
ALL: Final[dict[str, str]] = {
    name: value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str)
}
