"""Texts of the item walk (dialogs/walk.py): the question of each item, the paged summary, totals and
every reply inside the self-check, the assessment, the re-review and the city's re-check. What differs
between those walks is named once per walk in ``WalkWords``."""

from __future__ import annotations

from dataclasses import dataclass

from rubrics.texts import REASON_EXAMPLES


@dataclass(frozen=True)
class WalkWords:
    """How one walk names itself and its scores."""

    title: str  # 自查自评 / 组织评定 / 复查评定 / 抽查评定
    score: str  # what the scores entered here are called: 自评 / 考评 / 抽查
    reference: str = ""  # what is shown beside them: 自评 / 县级考评 ("" when nothing)
    reference_short: str = ""  # in the summary's item lines: 自 / 县
    score_short: str = ""  # 考 / 抽


SELF_CHECK = WalkWords("自查自评", "自评")
ASSESSMENT = WalkWords("组织评定", "考评", "自评", "自", "考")
RE_REVIEW = WalkWords("复查评定", "考评", "自评", "自", "考")
SAMPLE_CHECK = WalkWords("抽查评定", "抽查", "县级考评", "县", "抽")


# ---------------------------------------------------------------- the question of one item


def question_head(no: int, count: int, dimension: str, points: int) -> str:
    return f"【{no}/{count}】{dimension}（本项 {points} 分）"


def reference_score(words: WalkWords, score: str) -> str:
    return f"{words.reference} {score} 分"


def photos(count: int) -> str:
    return f"佐证照片 {count} 张"


def current_score(words: WalkWords, score: str) -> str:
    return f"当前{words.score} {score} 分"


def item_status(parts: list[str]) -> str:
    return "（" + "，".join(parts) + "）\n" if parts else ""


def prompt(words: WalkWords, points: int, example: str, agree: bool, reasons: bool, photos: bool) -> str:
    """How to answer: typed numbers and half points always work, beside the links."""
    if reasons:
        return "维持原考评分请回复“同”；改分请发送“分数 原因”（如：3 台账已补齐）。"
    typed = f"也可直接输入数字，可含半分（如 {example}）"
    if agree:
        return (
            f"请回复{words.score}得分 0–{points} 分：点下方链接，{typed}；与{words.reference}相同请回复“同”。"
        )
    extra = "；可发照片作佐证" if photos else ""
    return f"请回复得分 0–{points} 分：点下方链接，{typed}{extra}。"


FULL_MARKS = "满分"


def not_understood(raw: str, points: int) -> str:
    shown = f"“{raw[:20]}”" if raw else "这条消息"
    return f"没有看懂{shown}。请回复 0–{points} 之间的分数（可含半分），或点下方链接。"


# ---------------------------------------------------------------- the summary (查看)


def dimension_header(words: WalkWords, dimension: str, mine: str, theirs: str, top: int) -> str:
    if words.reference:
        return f"▍{dimension}（{words.reference} {theirs}｜{words.score} {mine}｜满分 {top}）"
    return f"▍{dimension}（小计 {mine}/{top}）"


def continued_header(dimension: str) -> str:
    return f"▍{dimension}（续）"


UNANSWERED = "未答"


def item_line(words: WalkWords, no: int, mark: str, reference: str, photo_count: int, snippet: str) -> str:
    if words.reference:
        mark = f"{words.reference_short}{reference} {words.score_short}{mark}"
    shown_photos = f" 📷{photo_count}" if photo_count else ""
    return f"{no}. {mark}{shown_photos} {snippet}"


def summary_head(title: str, page: int, pages: int, org_name: str) -> str:
    return f"【{title}汇总 第{page}/{pages}页】{org_name}\n"


def summary_counts(words: WalkWords, scored: int, count: int, mine: str, theirs: str, top: int) -> str:
    if words.reference:
        return f"已评 {scored}/{count} 项；{words.reference}合计 {theirs}，{words.score}合计 {mine}，满分 {top}\n"
    return f"已答 {scored}/{count} 项，合计 {mine}/{top} 分\n"


def locked(title: str) -> str:
    return f"{title}已提交，答案已锁定。"


SUMMARY_MISSING = "发送“修改 N”填写或修改第 N 项，“继续”回到作答，“提交”提交。"


def summary_complete(reasons: bool) -> str:
    """Under the summary once every item is answered: said once, with how to change an item."""
    change = "“第N项改为2分 原因”" if reasons else "“修改 N”"
    return f"全部作答完毕。发送{change}修改第 N 项，确认无误请发送“提交”。"


def other_pages(page: int, pages: int) -> str:
    """Under a page of a summary longer than one page: how to see the others."""
    turn = "“下一页”" if page < pages else "“上一页”"
    return f"汇总共 {pages} 页：发送{turn}或“查看 页码”查看其他页。"


RECORD_FIRST = "提交前请记录考评方式（发送“方式”查看编号）和考评意见（发送“意见 内容”）。"
NOT_ON_SUMMARY = "现在是汇总页面。要填写或修改某一项，请先发送“修改 N”（N 为项号），或发送“继续”回到作答。"
SUMMARY_NOT_UNDERSTOOD = "没有看懂您的指令。发送“修改 N”修改第 N 项，“提交”提交。"


# ---------------------------------------------------------------- democratic figures, totals, record


NO_EVALUATION = "民主测评：未开展"


def evaluation_waived(reason: str) -> str:
    return f"民主测评：已免除，不计入结果（{reason}）"


def no_ballots(invited: int, closed: bool) -> str:
    return f"民主测评：暂无有效票（应参加 {invited} 人）" + ("，已结束" if closed else "")


def democratic_line(ballots: int, paper: int, turnout: str, figures: str, closed: bool) -> str:
    """Turnout is a percentage formatted by format_score (half up); ``figures`` the satisfaction rate
    and score, or why they are not shown (rubrics.democratic.figures_phrase)."""
    on_paper = f"含纸质 {paper} 份，" if paper else ""
    return f"民主测评：{ballots} 票（{on_paper}参与率 {turnout}），{figures}" + (
        "" if closed else "（进行中）"
    )


def dimension_total(dimension: str, total: str, top: int) -> str:
    return f"· {dimension} {total}/{top}"


def raw_total_line(total: str, top: int) -> str:
    return f"原始得分：{total} / {top} 分"


def total_line(total: str, top: int) -> str:
    """The total on a sheet out of 100, where it is the 百分制 score itself."""
    return f"得分：{total} / {top} 分"


def percent_line(score: str) -> str:
    return f"百分制得分：{score} 分"


STARS_BY_SCORE = "按得分星级：{stars}"


def record(methods: str, opinion: str) -> str:
    return f"考评方式：{methods or '未记录'}\n考评意见：{opinion or '未填写'}"


def progress(words: WalkWords, org_name: str, year: int, state: str, scored: int, count: int) -> str:
    return f"{org_name} {year} 年度{words.title}：{state}\n已答 {scored}/{count} 项"


def progress_totals(photo_count: int, total: str, top: int) -> str:
    return f"，佐证照片 {photo_count} 张，目前合计 {total}/{top} 分。"


# ---------------------------------------------------------------- starting, answering, moving


def welcome_back(scored: int, count: int, first: int) -> str:
    return f"欢迎回来！已答 {scored}/{count} 项，从第 {first} 项继续。\n"


def starting(words: WalkWords, org_name: str, year: int, count: int, top: int, resumed: bool = False) -> str:
    """The walk's first line: 开始 the first time, 继续 when it was begun before (and paused)."""
    verb = "继续" if resumed else "开始"
    return (
        f"{verb}{org_name} {year} 年度{words.title}，共 {count} 项，满分 {top} 分。"
        "随时发送“暂停”，进度自动保存。\n"
    )


def saved(no: int, score: str) -> str:
    return f"✓ 第 {no} 项记 {score} 分。\n"


def changed(no: int, score: str) -> str:
    return f"✓ 第 {no} 项已改为 {score} 分。\n"


def still_missing(no: int) -> str:
    return f"第 {no} 项仍未作答，提交前需要补上。\n"


WALKED_THROUGH = "已逐项复查完毕。\n"


def focus_done(focus: str) -> str:
    """The objected items (``focus``: 5、12) are re-reviewed; the others follow, or submit now."""
    return (
        f"异议涉及的第 {focus} 项已复查。其余各项维持原考评分的，可直接发送“提交”；下面逐项核对其余各项。\n"
    )


def re_review_hint(focus: str) -> str:
    """How a re-review goes: from the objected items (``focus``: 5、12) or from item 1, and that any
    item can be changed at any time."""
    start = f"异议涉及第 {focus} 项，复查从这里开始，其余各项随后逐项核对。" if focus else ""
    return f"{start}随时可发送“第12项改为2分 原因”修改任一项，或发送“提交”。\n"


def needs_reason(score: str) -> str:
    return f"复查改分须说明原因：请发送“{score} 原因”，如：{score} 台账已补齐。"


def item_needs_reason(no: int, score: str) -> str:
    return f"复查改分须说明原因：请发送“第{no}项改为{score}分 原因”。"


def no_such_item(count: int) -> str:
    return f"没有这一项。项号为 1 到 {count}，如：第3项改为2分。"


NOTHING_TO_AGREE = "本项没有可沿用的分数，请直接回复分数。"


def no_photos(title: str) -> str:
    return f"{title}不需要上传照片；佐证照片由工会主席在自评时上传。"


def photo_received(no: int, count: int) -> str:
    return f"✓ 已收到第 {no} 项的佐证照片（共 {count} 张）。\n"


FIRST_ITEM = "已经是第一项了。\n"


def skipped(no: int) -> str:
    return f"已跳过第 {no} 项，稍后可发送“修改 {no}”补答。\n"


def paused(scored: int, count: int, resume: str) -> str:
    return f"已暂停。已答 {scored}/{count} 项，进度已保存；发送“{resume}”从断点继续。"


def missing(count: int, numbers: str) -> str:
    return f"还有 {count} 项未作答：第 {numbers} 项。请先补全再提交。\n"


def jump_usage(count: int) -> str:
    return f"请发送“修改 N”，N 为 1 到 {count} 的项号。"


# ---------------------------------------------------------------- the walk no longer fits its state


def task_changed(title: str) -> str:
    return f"{title}任务已变化，已为您重新定位。\n"


RUBRIC_CHANGED = "评分标准已更新，已按新版标准为您重新定位。\n"


def not_editable(org_name: str, title: str, state: str) -> str:
    return f"“{org_name}”目前不能进行{title}（状态：{state}）。"


# ---------------------------------------------------------------- the assessment record (方式, 意见)


def methods_usage(hint: str) -> str:
    return f"请发送“方式”加编号，如：方式 1 3。{hint}\n\n"


def methods_saved(methods: str) -> str:
    return f"✓ 考评方式：{methods}\n\n"


def opinion_usage(least: int) -> str:
    return f"请在“意见”后写上考评意见（至少 {least} 个字），如：意见 台账齐全，职工满意度高。\n\n"


def opinion_too_short(least: int) -> str:
    return f"考评意见至少 {least} 个字，请写明考评的结论，如：意见 台账齐全，职工满意度高。\n\n"


OPINION_SAVED = "✓ 已记录考评意见。\n\n"
ASSESSMENT_SUBMITTED = "组织评定已经提交，考评方式、考评意见和民主测评不能再更改。\n\n"


def no_evaluation(org_name: str) -> str:
    return f"“{org_name}”没有开展民主测评，无需结束；如确实无法开展，请发送“免除测评 原因”。\n\n"


EVALUATION_ENDED_ALREADY = "民主测评已经结束。\n\n"
EVALUATION_WAIVED_ALREADY = "民主测评已经免除。\n\n"


def reason_usage(word: str) -> str:
    return f"请写明原因，如：{word} {REASON_EXAMPLES.get(word, '')}。\n\n"


def evaluation_waived_now(reason: str) -> str:
    return f"已免除民主测评（不计入结果）。原因：{reason}\n\n"


def evaluation_closed_now(reason: str, withheld: str = "") -> str:
    """``withheld``: why its satisfaction rate and score will not be shown (too few ballots), if so."""
    return f"已结束民主测评。原因：{reason}\n" + (f"{withheld}。\n" if withheld else "") + "\n"
