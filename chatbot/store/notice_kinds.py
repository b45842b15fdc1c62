"""Every kind of notice the outbox holds, declared once: its name (stored in the outbox row), its
Chinese label (the template's 事项), and whether it is a deadline reminder (delivered before other
notices due at the same time). The domain and the reminders queue notices only by these members, so a
kind that is not declared here cannot be queued; docs/notices.md lists each (tests/test_docs.py)."""

from __future__ import annotations

from enum import StrEnum

#: Declares a kind a deadline reminder (``NoticeKind.deadline``: delivered first among notices due at
#: the same time), or any other notice.
DEADLINE, OTHER = True, False


class NoticeKind(StrEnum):
    """A kind of notice: ``NoticeKind.REVIEW_DUE == "review_due"``, its ``label`` and ``deadline``."""

    label: str
    deadline: bool

    def __new__(cls, value: str, label: str, deadline: bool) -> NoticeKind:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member.deadline = deadline
        return member

    SELF_CHECK_DUE = "self_check_due", "自查自评截止提醒", DEADLINE
    SELF_CHECK_SUBMITTED = "self_check_submitted", "下级工会自评已提交，待考评", OTHER
    SELF_CHECK_WITHDRAWN = "self_check_withdrawn", "下级工会撤回已提交的自评", OTHER
    REVIEW_DUE = "review_due", "组织评定截止提醒", DEADLINE
    SELF_CHECK_RETURNED = "self_check_returned", "自评被退回修改", OTHER
    EVALUATION_OPEN = "evaluation_open", "民主测评开始", OTHER
    EVALUATION_CLOSING = "evaluation_closing", "民主测评即将结束", DEADLINE
    RESULT_PUBLISHED = "result_published", "年检结果公示", OTHER
    OBJECTION_FILED = "objection_filed", "年检结果收到异议，待复查", OTHER
    OBJECTION_DECIDED = "objection_decided", "异议复查结果", OTHER
    RE_REVIEW_DUE = "re_review_due", "复查评定截止提醒", DEADLINE
    RE_REVIEW_OVERDUE = "re_review_overdue", "复查评定已逾期", OTHER
    RESULT_FINAL = "result_final", "年检结果已确定", OTHER
    REPORT_DUE = "report_due", "年检工作情况总结上报提醒", DEADLINE
    COVERAGE_WARNING = "coverage_warning", "年检覆盖率预警", OTHER
    REMEDIATION_DUE = "remediation_due", "补课截止提醒", DEADLINE
    REMEDIATION_REPORTED = "remediation_reported", "下级工会补课完成，待验收", OTHER
    REMEDIATION_CHECKED = "remediation_checked", "补课验收结果", OTHER
    GRID_OVERDUE = "grid_overdue", "网格负责单位事项逾期", OTHER

    @property
    def template_setting(self) -> str:
        """The environment variable that gives this kind its own template (``Config.template_for``)."""
        return f"WECHAT_TEMPLATE_ID_{self.name}"


#: The deadline reminders, delivered first among notices due at the same time.
DEADLINE_KINDS: frozenset[NoticeKind] = frozenset(kind for kind in NoticeKind if kind.deadline)


_BY_NAME: dict[str, NoticeKind] = {kind.value: kind for kind in NoticeKind}


def notice_kind(name: str) -> NoticeKind:
    """The kind a stored name is; ValueError for a name that is not declared."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown notice kind {name}") from None


def label_of(name: str) -> str:
    """A stored kind's label; a name no longer declared (an old row) as it is."""
    return _BY_NAME[name].label if name in _BY_NAME else name
