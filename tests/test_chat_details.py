"""What people read in chat, detail by detail (issue 21, points 1 and 6): `帮助` lists what this person
can do, `进度` names its figures and the stage an objection is about, one word for the turnout, the
re-review from the objected items, the summary after the last item, the 百分制 score only where it
says something, and a re-review's reply telling what really happened to the result. Conversations
through the webhook (and, for a sheet not out of 100, the dialogs on their own).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.inspection import organisations
from chatbot.store.models import Inspection, Organisation
from chatbot.wechat.simulator import Simulator
from dialogs.context import ResultView, RoleView, UserContext
from dialogs.engine import UserInput
from dialogs.router import plan, respond
from tests.conftest import City
from tests.helpers import (
    VILLAGE,
    complete_record,
    deductions,
    nested_brackets,
    rate,
    self_check,
    setup_county,
)

User = Callable[..., Simulator]
#: Ten unions of a county: two five-star places (the issue's scores).
SCORES = (95, 94, 93, 92, 91, 70, 65, 62, 61, 60)


def _words(help_text: str) -> set[str]:
    """The command words `帮助` lists: the first word of each `· 词 —— …` line."""
    lines = [line[2:] for line in help_text.splitlines() if line.startswith("· ") and " —— " in line]
    return {word for word in (line.split(" ")[0] for line in lines) if "：" not in word}


def _inspection(db: Session, code: str) -> Inspection:
    db.expire_all()
    found = db.scalar(select(Inspection).join(Organisation).where(Organisation.code == code))
    assert found is not None
    return found


def _county_rated_and_published(user: User, db: Session, cli) -> tuple[dict[str, str], Simulator]:
    """Ten village unions rated (two five-star places: 95 and 94) and published; member1 … member10 bound."""
    codes = setup_county(db, 10)
    for n in range(1, 11):
        user(f"member{n}").say(f"绑定 {codes[f'member{n}']}")
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    for n, score in enumerate(SCORES, start=1):
        self_check(user(f"chair{n}"), codes[f"chair{n}"])
        rate(evaluator, f"U{n:02d}", score)
    assert "已公示 10 个结果" in cli("publish", "--year", "2026")
    return codes, evaluator


def _re_review_to(evaluator: Simulator, code: str, before: int, after: int) -> str:
    """`复查 C`, each changed item as `第N项改为X分 原因` (what the hint says), then `提交`."""
    evaluator.say(f"复查 {code}")
    now = {item.no: str(item.points) for item in VILLAGE.items} | deductions(100 - before)
    target = {item.no: str(item.points) for item in VILLAGE.items} | deductions(100 - after)
    for no, score in target.items():
        if score != now[no]:
            assert f"第 {no} 项已改为 {score} 分" in evaluator.say(f"第{no}项改为{score}分 复查核实")
    return evaluator.say("提交")


# ---------------------------------------------------------------- 帮助: what this person can do


def test_help_lists_exactly_what_each_role_and_level_can_do(user: User, db: Session) -> None:
    codes = setup_county(db, 1)
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("YZ-XZ", "三营镇工会", "township", "YZ", 60))
        township = organisations.create_invitation(db, "YZ-XZ", "evaluator").code
        city = organisations.create_invitation(db, "GY", "evaluator").code
        admin = organisations.create_invitation(db, "YZ", "admin").code

    def help_of(openid: str, code: str = "") -> str:
        person = user(openid)
        if code:
            assert "绑定成功" in person.say(f"绑定 {code}")
        return person.say("帮助")

    chair = help_of("chair", codes["chair1"])
    assert _words(chair) == {"自评", "撤销提交", "结果", "异议", "补课", "补课完成"}
    assert "自评中：" in chair and "考评中：" not in chair and "测评中：" not in chair
    member = help_of("member", codes["member1"])
    assert _words(member) == {"测评", "结果", "异议"} and "测评中：" in member and "自评中：" not in member
    assessing = {"考评", "退回", "录入测评", "复查", "补课验收"}
    for shown in (help_of("township", township), help_of("county", codes["evaluator"])):
        assert _words(shown) == assessing and "抽查" not in shown, shown
        assert "复查中：" in shown and "第12项改为2分 原因" in shown
    city_help = help_of("city", city)
    assert _words(city_help) == assessing | {"抽查"} and "抽查中：同 —— 沿用县级考评分" in city_help
    admin_help = help_of("admin", admin)
    assert _words(admin_help) == set() and "管理员可用指令" in admin_help and "管理台" in admin_help
    for shown in (chair, member, city_help, admin_help):
        assert "通用：绑定 邀请码" in shown and "进度 —— 查看年检进度" in shown
    stranger = help_of("stranger")
    assert _words(stranger) == {"结果", "异议", "测评", "绑定", "帮助"}, stranger
    assert "结果 单位编号" in stranger and "异议 单位编号 理由" in stranger
    progress = user("stranger").say("进度")
    assert progress.startswith("您还没有绑定身份，没有可查看的年检进度。") and "· 结果 单位编号" in progress


# ---------------------------------------------------------------- 进度: figures named, stages named


def test_progress_names_the_figures_and_the_stage_an_objection_is_about(user: User, db: Session, cli) -> None:
    codes = setup_county(db, 3)
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    self_check(user("chair1"), codes["chair1"])
    self_check(user("chair2"), codes["chair2"], {1: "0"})
    rate(evaluator, "U01", 92)
    progress = evaluator.say("进度")
    assert "下级单位 3 个：" in progress
    assert "· U01 第1社区工会：已评定（自评合计 100 分，考评合计 92 分）" in progress
    assert f"· U02 第2社区工会：自评已提交（自评合计 {100 - VILLAGE.item(1).points} 分）" in progress
    assert re.search(r"· U03 第3社区工会：未开始$", progress, re.M), progress
    assert "/-" not in progress

    chair = user("chair1")
    assert "自查自评：已提交" in chair.say(
        "进度"
    ) and "组织评定：已完成\n年检结果：已评定，待公示" in chair.say("进度")
    cli("results", "confirm", "--year", "2026", "--reason", "其余单位稍后评定")
    cli("publish", "--year", "2026")
    published = chair.say("进度")  # what a member's 进度 says of the result, and the score
    assert "组织评定：已完成\n年检结果：四星级，92 分（公示中，公示期至 " in published, published
    assert "公示期内发送“异议 理由”" in published and "年检结果：公示中" not in published
    chair.say(f"绑定 {codes['member1']}")  # also a member of the union: the result is told once
    both = chair.say("进度")
    assert both.count("年检结果：") == 1 and "民主测评：" in both, both
    member = user("member1")
    member.say(f"绑定 {codes['member1']}")
    assert member.say("异议 第3项换届材料齐全").startswith("您的异议已收到")
    objected = chair.say("进度")
    assert "自查自评：已提交（已答 30/30 项" in objected and "自评合计 100/100 分" in objected
    assert "年检结果：四星级，92 分（公示结果收到异议，待上级工会复查，公示期至 " in objected, objected
    assert "自查自评：有异议" not in objected


def test_a_members_progress_follows_the_evaluation_and_the_result(user: User, db: Session, cli) -> None:
    """Walk item 4: `进度` tells a member where the evaluation stands for them, then the result and
    their objection."""
    codes = setup_county(db, 1)
    member = user("member1")
    member.say(f"绑定 {codes['member1']}")
    before = member.say("进度")
    assert "民主测评：尚未开始，开始后会通知您。" in before and "年检结果：尚未公示。" in before
    self_check(user("chair1"), codes["chair1"])
    cli("evaluation", "open", "--org", "U01")
    assert "民主测评：第1社区工会正在进行，您尚未作答。发送“测评”参加" in member.say("进度")
    member.say("测评")
    member.say("1")
    member.say("暂停")
    assert "您已答 1 项，尚未提交。发送“测评”继续。" in member.say("进度")
    member.say("测评")
    for answer in ("1",) * 7:
        member.say(answer)
    assert "感谢参与" in member.say("无")
    assert "民主测评：第1社区工会，您已参加，感谢！" in member.say("进度")
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    rate(evaluator, "U01", 92)
    cli("publish", "--year", "2026")
    published = member.say("进度")
    assert (
        "年检结果：四星级，92 分（公示中，公示期至 " in published and "公示期内发送“异议 理由”" in published
    )
    assert member.say("异议 第3项换届材料齐全").startswith("您的异议已收到")
    objected = member.say("进度")
    assert (
        "年检结果：四星级，92 分（有异议，公示期至 " in objected
        and "您的异议已收到，待上级工会复查后再次公示" in objected
    )


# ---------------------------------------------------------------- 参与率: one word for one figure


def test_the_turnout_is_called_participation_everywhere(user: User, db: Session, cli) -> None:
    """One figure (ballots ÷ electorate), one word: 参与率 in the chat's summary and the CLI's table."""
    codes = setup_county(db, 1)
    member = user("member1")
    member.say(f"绑定 {codes['member1']}")
    self_check(user("chair1"), codes["chair1"])
    cli("evaluation", "open", "--org", "U01")
    assert "【1/9】" in member.say("测评")
    for answer in ("1",) * 8:
        member.say(answer)
    assert "感谢参与" in member.say("无")
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    evaluator.say("考评 U01")
    summary = evaluator.say("查看")
    assert re.search(r"民主测评：1 票（参与率 [\d.]+%）", summary) and "参评率" not in summary
    evaluator.say("继续")
    for _ in range(VILLAGE.item_count):
        evaluator.say("同")
    complete_record(evaluator)
    evaluator.say("结束测评 参加人员已全部作答")
    assert "组织评定已提交" in evaluator.say("提交")
    header = cli("results", "--year", "2026").splitlines()[0]
    assert "参与率" in header and "参评率" not in header
    # Every text a federation's staff or members read is written in these packages: none says 参评率.
    root = Path(__file__).resolve().parents[1]
    for package in ("chatbot", "dialogs"):
        for path in (root / package).rglob("*"):
            if path.suffix in (".py", ".html", ".txt", ".md"):
                assert "参评率" not in path.read_text(encoding="utf-8"), path


# ---------------------------------------------------------------- the re-review from the objected item


def test_the_re_review_starts_at_the_objected_item_and_says_any_item_can_be_changed(
    user: User, db: Session, cli
) -> None:
    codes, evaluator = _county_rated_and_published(user, db, cli)
    assert user("member6").say("异议 第12项职工书屋并未建立").startswith("您的异议已收到")
    first = evaluator.say("复查 U06")
    assert "【12/30】" in first and "【1/30】" not in first
    assert "异议涉及第 12 项，复查从这里开始" in first and "“第12项改为2分 原因”" in first
    after = evaluator.say("同")
    assert "异议涉及的第 12 项已复查" in after and "可直接发送“提交”" in after and "【1/30】" in after
    assert "第 3 项已改为 2 分" in evaluator.say("第3项改为2分 台账不全")
    done = evaluator.say("提交")
    assert "复查评定已提交" in done and "已再次公示（第 2 轮）" in done
    assert _inspection(db, "U06").publication_round == 2


# ---------------------------------------------------------------- after the last item


def test_after_the_last_item_the_summary_says_so_once_and_how_to_see_its_other_pages(
    user: User, city: City
) -> None:
    chair = user("chair")
    chair.say(f"绑定 {city.chair_code}")
    chair.say("自评")
    for _ in range(42):
        chair.say("满分")
    last = chair.say("满分")
    assert last.count("全部作答完毕") == 1, last
    pages = int(re.search(r"第1/(\d+)页", last).group(1))  # type: ignore[union-attr]
    assert pages > 1 and f"汇总共 {pages} 页" in last and "“下一页”" in last and ">提交<" in last
    second = chair.say("下一页")
    assert f"第2/{pages}页" in second and "全部作答完毕" in second


# ---------------------------------------------------------------- 百分制 only where it differs


def test_the_result_shows_the_percent_score_only_on_a_sheet_not_out_of_100(
    user: User, db: Session, cli
) -> None:
    _county_rated_and_published(user, db, cli)
    shown = user("member2").say("结果")
    assert "考评得分：94 分（满分 100 分）" in shown and "百分制" not in shown

    on_102 = ResultView(
        7, "宏达工会", 2026, "non_public", "公示中", 1, Decimal("92.2"), Decimal("94"), 5, "", False, (),
        "2026-12-20", True, False,
    )  # fmt: skip
    ctx = UserContext((RoleView("member", "XJ-001", "宏达工会"),), None, 2026, result=on_102)
    reply = respond(plan(None, UserInput("text", text="结果")), ctx).reply
    assert reply is not None and "考评得分：94 分（满分 102 分），百分制 92.2 分" in reply.text


# ---------------------------------------------------------------- 1: the re-review's reply tells what happened


def test_a_re_review_that_loses_a_place_says_it_is_published_again_as_four_star(
    user: User, db: Session, cli
) -> None:
    """U02 (94, five-star) re-reviewed to 92: the 93 takes its place; the reply says four-star,
    published again as round 2, as the result and its notice are."""
    _, evaluator = _county_rated_and_published(user, db, cli)
    assert user("member2").say("异议 第1项换届材料不实").startswith("您的异议已收到")
    done = _re_review_to(evaluator, "U02", 94, 92)
    assert "评定星级：四星级——" in done and "未进入名额，评为四星级；已再次公示（第 2 轮）" in done
    assert not nested_brackets(done)
    assert "五星级——" not in done and "本范围另有 1 个单位的星级因此调整" in done
    u02 = _inspection(db, "U02")
    assert (u02.stars, u02.publication_round, u02.state) == (4, 2, "published")
    assert "第 2 轮公示" in user("member2").say("结果") and "四星级" in user("member2").say("结果")


def test_a_re_review_tied_at_the_cut_off_says_it_waits_and_is_not_published(
    user: User, db: Session, cli
) -> None:
    """U01 (95) re-reviewed to 93, tied with U03 at the last five-star place: the reply says it waits
    for the admin's decision and is not published; once decided, `publish` publishes round 2."""
    _, evaluator = _county_rated_and_published(user, db, cli)
    assert user("member1").say("异议 第1项换届材料不实").startswith("您的异议已收到")
    done = _re_review_to(evaluator, "U01", 95, 93)
    assert "得分：93 / 100 分" in done and "待管理员裁定后再次公示，暂未公示" in done
    assert "已再次公示（第 2 轮）" not in done.split("本范围另有")[0]
    u01 = _inspection(db, "U01")
    assert (u01.state, u01.publication_round, u01.quota_flagged) == ("rated", 1, True)
    cli(
        "results",
        "override",
        "--org",
        "U01",
        "--year",
        "2026",
        "--stars",
        "5",
        "--reason",
        "复查后台账更完整",
    )
    assert "已公示 1 个结果" in cli("publish", "--year", "2026")
    u01 = _inspection(db, "U01")
    assert (u01.state, u01.publication_round, u01.stars) == ("published", 2, 5)
