"""What an assessment (组织评定) must hold before it is submitted — the same rule in the chat
(dialogs/walk.py) and in the domain (chatbot/inspection/assessment.py): a method, a written opinion,
and the democratic evaluation held or waived."""

from __future__ import annotations

from rubrics import texts
from rubrics.democratic import DemocraticFigures

#: 考评方式: how the parent union assessed (听汇报、查看台账资料、实地察看、个别谈话、召开座谈会).
METHODS: tuple[str, ...] = ("听汇报", "查看台账资料", "实地察看", "个别谈话", "召开座谈会")
METHODS_HINT = "　".join(f"{n} {m}" for n, m in enumerate(METHODS, start=1))
#: A written opinion (考评意见) and a waiver's reason (免除测评) have at least this many characters.
MIN_WRITTEN_CHARS = 4


def submission_gaps(
    org_code: str, methods: tuple[str, ...], opinion: str, figures: DemocraticFigures | None
) -> list[str]:
    """What an assessment lacks before it may be submitted, each as what to do about it: a method
    (考评方式), a written opinion (考评意见), and the democratic evaluation — held (closed with a
    ballot, in chat or on paper) or waived with a reason ("在自查自评、民主测评的基础上")."""
    gaps = []
    if not methods:
        gaps.append(texts.gap_methods(METHODS_HINT))
    if len(opinion.strip()) < MIN_WRITTEN_CHARS:
        gaps.append(texts.gap_opinion(MIN_WRITTEN_CHARS))
    if figures is None:
        gaps.append(texts.gap_no_evaluation(org_code))
    elif figures.waived:
        pass
    elif not figures.closed:
        gaps.append(texts.GAP_EVALUATION_OPEN)
    elif figures.ballots == 0:
        gaps.append(texts.gap_no_ballots(org_code))
    return gaps
