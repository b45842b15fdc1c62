"""A chair completes the self-check through the webhook: bind, answer, pause, restart, resume, submit."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.app import create_app
from chatbot.inspection import organisations
from chatbot.store.models import Evidence, InboundMessage, Inspection, ItemScore, RoleBinding
from chatbot.wechat.simulator import Simulator
from rubrics import get_rubric
from tests.conftest import APP_ID, TOKEN, Backend, City, make_config, transport_for

RUBRIC = get_rubric("non_public")


def inspection(db: Session) -> Inspection:
    db.expire_all()
    found = db.scalar(select(Inspection))
    assert found is not None
    return found


def scores(db: Session) -> dict[int, Decimal]:
    db.expire_all()
    return {row.item_no: row.self_score for row in db.scalars(select(ItemScore))}


def test_a_chair_completes_the_non_public_self_check(
    backend: Backend, tmp_path: Path, app: Flask, user, db: Session, city: City
) -> None:
    chair = user("chair-1")
    assert "绑定成功" in chair.say(f"绑定 {city.chair_code}")
    reply = chair.say("自评")
    assert "共 43 项，满分 102 分" in reply and "【1/43】工会组织健全（本项 5 分）" in reply
    assert inspection(db).state == "self_checking"

    # Whole and half points, wrong inputs, 满分, a photo.
    assert "【2/43】" in chair.say("5")
    assert "【3/43】" in chair.say("4.5")
    wrong = chair.say("5.5")
    assert "本项分值为 4 分，请输入 0 到 4 分" in wrong and "【3/43】" in wrong
    assert "没有看懂“很好”" in chair.say("很好")
    assert "【4/43】" in chair.say("满分")
    assert "已收到第 4 项的佐证照片（共 1 张）" in chair.reply_text(*chair.photo())
    assert "【5/43】" in chair.say("３")  # full-width digit
    assert "【4/43】" in chair.say("上一项")
    assert "【5/43】" in chair.say("2")
    assert scores(db) == {1: Decimal("5.0"), 2: Decimal("4.5"), 3: Decimal("4.0"), 4: Decimal("2.0")}

    # Pause, then a restart: a new app on the same database with the dialog state flushed.
    for no in range(5, 21):
        chair.say(str(min(RUBRIC.item(no).points, 2)))
    assert "进度已保存" in chair.say("暂停")
    app.extensions["nianjian.engine"].dispose()
    backend.flush_state()
    restarted = create_app(make_config(backend, tmp_path), **backend.fresh_parts())
    chair = Simulator(transport_for(restarted.test_client()), "chair-1", TOKEN, APP_ID)
    resumed = chair.say("自评")
    assert "欢迎回来！已答 20/43 项，从第 21 项继续" in resumed and "【21/43】" in resumed

    # Skip one, answer the rest, try to submit with one missing, then fill it in.
    assert "【22/43】" in chair.say("跳过")
    for no in range(22, 44):
        chair.say("满分" if no % 2 else "0.5")
    review = chair.say("提交")
    assert "还有 1 项未作答：第 21 项" in review and "【21/43】" in review
    assert "全部作答完毕" in chair.say("1")
    summary = chair.say("查看")
    assert "【自查自评汇总 第1/" in summary and "已答 43/43 项" in summary
    # Fix an answer from the summary.
    assert "【3/43】" in chair.say("修改 3")
    chair.say("3.5")

    answered = scores(db)
    assert len(answered) == 43
    total = sum(answered.values())
    submitted = chair.say("提交")
    percent = (total * 100 / 102).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")
    assert "自评已提交" in submitted
    assert f"原始得分：{total.normalize():f} / 102 分" in submitted
    assert f"百分制得分：{percent.normalize():f} 分" in submitted
    assert "预评星级：" in submitted
    insp = inspection(db)
    assert insp.state == "self_submitted" and insp.self_submitted_at is not None

    # Locked after submission.
    locked = chair.say("自评")
    assert "答案已锁定" in locked
    assert "您的自评已提交，答案已锁定" in chair.say("5")
    assert scores(db) == answered
    restarted.extensions["nianjian.engine"].dispose()


def test_evidence_is_stored_per_item(user, db: Session, city: City) -> None:
    chair = user("chair-photo")
    chair.say(f"绑定 {city.chair_code}")
    chair.say("自评")
    chair.photo("m1")
    chair.photo("m2")
    chair.say("5")
    chair.photo("m3")
    db.expire_all()
    rows = [(e.item_no, e.media_id) for e in db.scalars(select(Evidence).order_by(Evidence.id))]
    assert rows == [(1, "m1"), (1, "m2"), (2, "m3")]


def test_binding_by_qr_scan_and_by_subscribing_through_a_qr_code(user, db: Session, city: City) -> None:
    scanner = user("scan-1")
    assert "绑定成功" in scanner.reply_text(*scanner.scan(f"inv:{city.member_code}"))
    newcomer = user("sub-1")
    assert "绑定成功" in newcomer.reply_text(*newcomer.subscribe(f"inv:{city.member_code}"))
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(RoleBinding)) == 2
    assert "欢迎关注" in user("sub-2").reply_text(*user("sub-2").subscribe())


def test_menu_click_starts_the_self_check(user, city: City) -> None:
    chair = user("click-1")
    chair.say(f"绑定 {city.chair_code}")
    assert "【1/43】" in chair.reply_text(*chair.click("SELF_CHECK"))


def test_invitations_expire_run_out_and_resist_guessing(user, db: Session, city: City) -> None:
    with db.begin():
        single = organisations.create_invitation(db, "XJ-001", "member", uses=1)
        expired = organisations.create_invitation(
            db, "XJ-001", "member", days=1, now=datetime.now(UTC) - timedelta(days=2)
        )
    assert "绑定成功" in user("a").say(f"绑定 {single.code}")
    assert "使用次数已满" in user("b").say(f"绑定 {single.code}")
    assert "已过期" in user("c").say(f"绑定 {expired.code}")
    assert "无需重复绑定" in user("a").say(f"绑定 {single.code.lower()}")

    guesser = user("guesser")
    for attempt in range(5):
        assert "邀请码不正确" in guesser.say(f"绑定 WRONG{attempt:03d}")
    assert "错误次数过多" in guesser.say(f"绑定 {city.chair_code}")
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(RoleBinding).where(RoleBinding.role == "chair")) == 0


def test_a_retried_message_is_applied_once_and_answered_alike(user, db: Session, city: City) -> None:
    chair = user("retry-1")
    chair.say(f"绑定 {city.chair_code}")
    chair.say("自评")
    first = chair.reply_text(*chair.text("4"))
    assert "【2/43】" in first
    # WeChat re-sends the same MsgId: same reply, item 2 not answered by the retry.
    assert chair.reply_text(*chair.again()) == first
    assert chair.reply_text(*chair.again()) == first
    assert scores(db) == {1: Decimal("4.0")}
    assert "【3/43】" in chair.say("3")


def test_a_retried_event_is_applied_once(user, db: Session, city: City) -> None:
    fixed = int(time.time())
    scanner = Simulator(user("evt-1").transport, "evt-1", TOKEN, APP_ID, clock=lambda: fixed)
    first = scanner.reply_text(*scanner.scan(f"inv:{city.chair_code}"))
    # The retry is a new POST (fresh nonce and signature) of the same event: FromUserName + CreateTime.
    again = scanner.reply_text(*scanner.scan(f"inv:{city.chair_code}"))
    assert again == first and "绑定成功" in first
    # A different tap in the same second is a new event, not a retry.
    assert "【1/43】" in scanner.reply_text(*scanner.click("SELF_CHECK"))
    assert "工会主席可用指令" in scanner.reply_text(*scanner.click("HELP"))


def test_concurrent_retries_of_one_message_apply_one_answer(
    app: Flask, user, db: Session, city: City
) -> None:
    chair = user("burst-1")
    chair.say(f"绑定 {city.chair_code}")
    chair.say("自评")
    chair.say("5")  # item 1
    # The first delivery of "4" and its retries all arrive at once.
    params, body = chair.prepare_text("4")
    replies: list[str] = []

    def fire() -> None:
        sim = Simulator(transport_for(app.test_client()), "burst-1", TOKEN, APP_ID)
        replies.append(sim.reply_text(*sim.send(params, body)))

    threads = [threading.Thread(target=fire) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(replies)) == 1 and "【3/43】" in replies[0]
    assert scores(db) == {1: Decimal("5.0"), 2: Decimal("4.0")}
    db.expire_all()
    assert (
        db.scalar(select(func.count()).select_from(InboundMessage).where(InboundMessage.openid == "burst-1"))
        == 4
    )


def test_different_users_are_served_in_parallel(app: Flask, db: Session, city: City) -> None:
    with db.begin():
        invitation = organisations.create_invitation(db, "XJ-001", "member", uses=20)
    results: dict[str, str] = {}

    def member(index: int) -> None:
        sim = Simulator(transport_for(app.test_client()), f"par-{index}", TOKEN, APP_ID)
        results[sim.openid] = sim.say(f"绑定 {invitation.code}")

    threads = [threading.Thread(target=member, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 10 and all("绑定成功" in reply for reply in results.values())
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(RoleBinding)) == 10


def test_three_wrong_inputs_in_a_row_explain_the_commands(user, city: City) -> None:
    chair = user("wrong-1")
    chair.say(f"绑定 {city.chair_code}")
    chair.say("自评")
    assert "查看全部指令" not in chair.say("嗯")
    assert "查看全部指令" not in chair.say("9")
    third = chair.say("?!")
    assert "查看全部指令" in third and "暂停" in third and "【1/43】" in third


def test_progress_and_help(user, city: City) -> None:
    chair = user("prog-1")
    assert "还没有绑定身份" in chair.say("进度")
    chair.say(f"绑定 {city.chair_code}")
    chair.say("自评")
    chair.say("5")
    progress = chair.say("进度")
    assert "已答 1/43 项" in progress and "【2/43】" in progress
    assert "修改 N" in chair.say("帮助")
