"""Process death (issue 14, point 2): `nianjian serve` (gunicorn, two workers, PostgreSQL + Redis) in a
subprocess, chairs answering their self-checks over HTTP at the same time; kill -9 one worker mid-way,
then the whole server; start it again. Every answer whose reply came back must be in the database once,
with its value; nothing else may be; `自评` must resume each chair at the first unanswered item.

A chair behaves as WeChat and a patient person do: a request cut off by a death, or answered "please
wait" (the dead worker's lock on the user, until it expires), is sent again byte for byte — the same
MsgId — until it gets its reply, so every answer is eventually acknowledged exactly once.

Run by hand (figures for docs/reliability.md):

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_h5 \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python tests/faults/death.py --chairs 8 --items 30

`death_test.py` runs a short version of it in the suite.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import redis
import requests
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chatbot.inspection import campaigns, organisations  # noqa: E402
from chatbot.store.engine import make_engine, migrate, session_factory  # noqa: E402
from chatbot.store.models import InboundMessage, Inspection, ItemScore, Organisation  # noqa: E402
from chatbot.wechat.simulator import Simulator, http_transport  # noqa: E402

TOKEN, APP_ID = "deathtoken", "wx00000000000000d1"
BUSY = "还在处理中"
#: A push resent long after its signing, whose first sending died before the service saw it, is answered
#: busy (nothing recorded) once; the next resend is known as the same push and let in.
SHED = "系统繁忙"
NOT_RECORDED = "本条消息未作为答案记录"  # the walk was re-placed from the database; answer again
ITEMS = 30  # the village sheet


@dataclass
class Chair:
    openid: str
    union: str
    code: str
    acked: dict[int, Decimal] = field(default_factory=dict)
    resent: int = 0
    replaced: int = 0  # answers not taken because the walk was re-placed from the database


@dataclass
class Figures:
    turns: int = 0
    acked: int = 0
    resent: int = 0
    kills: list[str] = field(default_factory=list)
    lost: int = 0
    extra: int = 0
    doubled: int = 0
    wrong_resume: int = 0
    errors: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _reset(database_url: str, redis_url: str) -> None:
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    redis.Redis.from_url(redis_url).flushdb()


def _seed(database_url: str, chairs: int) -> list[Chair]:
    engine = make_engine(database_url)
    migrate(engine)
    made: list[Chair] = []
    with session_factory(engine).begin() as session:
        organisations.add_org(session, organisations.OrgRow("GY", "固原市总工会"))
        organisations.add_org(session, organisations.OrgRow("YZ", "原州区总工会", parent="GY"))
        for n in range(1, chairs + 1):
            organisations.add_org(
                session, organisations.OrgRow(f"D{n:02d}", f"第{n}社区工会", "village", "YZ", 40)
            )
        campaigns.open_year(session, 2026)
        for n in range(1, chairs + 1):
            code = organisations.create_invitation(session, f"D{n:02d}", "chair").code
            made.append(Chair(f"death-chair-{n}", f"D{n:02d}", code))
    engine.dispose()
    return made


class Server:
    """`nianjian serve` in a process group of its own (so that the whole of it can be killed)."""

    def __init__(self, env: dict[str, str], port: int, workers: int) -> None:
        self.env, self.port, self.workers = env, port, workers
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{port}"
        self.log = Path(env["NIANJIAN_INSTANCE"]) / "serve.log"  # stderr of every start, appended
        self.log.parent.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        command = [sys.executable, "-c", "from chatbot.cli import main; main()", "serve"]
        command += [
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--threads",
            "4",
            "--no-scheduler",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=log
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if (
                    requests.get(self.url + "/healthz", timeout=1).status_code == 200
                    and len(self.worker_pids()) == self.workers
                ):
                    return
            except requests.RequestException:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited: {self._stderr()}")
            time.sleep(0.2)
        raise RuntimeError("serve did not start")

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: children of the master (read from /proc)."""
        assert self.process is not None
        master, pids = self.process.pid, []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == master:
                    pids.append(int(entry.name))
        return pids

    def kill_worker(self) -> int:
        pid = self.worker_pids()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_all(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)  # the group this process started: master and workers
        self.process.wait(timeout=10)

    def stop(self) -> str:
        """Stop gently; what the server wrote on stderr."""
        if self.process is None or self.process.poll() is not None:
            return self._stderr()
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        return self._stderr()

    def _stderr(self) -> str:
        return self.log.read_text("utf-8", errors="replace") if self.log.exists() else ""


def _value(no: int) -> str:
    return "1" if no % 2 else "0.5"


def _deliver(sim: Simulator, params: dict[str, str], body: bytes, figures: Figures, chair: Chair) -> str:
    """Send until a real reply comes back (the same push each time, as WeChat's retry)."""
    first = True
    while True:
        try:
            status, raw = sim.send(params, body)
            if status == 200:
                reply = sim.reply_text(status, raw)
                if BUSY not in reply and SHED not in reply:
                    return reply
        except requests.RequestException:
            pass
        if not first:
            chair.resent += 1
        first = False
        time.sleep(0.3)


def _answer(chair: Chair, url: str, items: int, figures: Figures, stop: threading.Event) -> None:
    sim = Simulator(http_transport(url + "/wechat", timeout=10), chair.openid, TOKEN, APP_ID)
    for content in (f"绑定 {chair.code}", "自评"):
        _deliver(
            sim, *sim.sign(sim._envelope("text", f"<Content><![CDATA[{content}]]></Content>")), figures, chair
        )
    no = 1
    while no <= items and not stop.is_set():
        value = _value(no)
        params, body = sim.prepare_text(value)
        reply = _deliver(sim, params, body, figures, chair)
        figures.turns += 1
        recorded = re.search(r"第 (\d+) 项记 ([\d.]+) 分", reply)
        shown = re.search(r"【(\d+)/\d+】", reply)
        if recorded is None and NOT_RECORDED in reply and shown is not None:
            # The saved state was behind the database (the kill fell between the commit and the state's
            # save): the walk was re-placed, the message not taken; answer the item shown, as a person would.
            chair.replaced += 1
            no = int(shown.group(1))
            continue
        if recorded is None:
            figures.errors.append(f"{chair.openid}: item {no} not acknowledged: {reply[:120]}")
            return
        chair.acked[int(recorded.group(1))] = Decimal(recorded.group(2))
        no = int(recorded.group(1)) + 1


def _check(database_url: str, chairs: list[Chair], url: str, figures: Figures) -> None:
    engine = make_engine(database_url)
    with session_factory(engine).begin() as session:
        for chair in chairs:
            rows = session.execute(
                select(ItemScore.item_no, ItemScore.self_score)
                .join(Inspection, Inspection.id == ItemScore.inspection_id)
                .join(Organisation, Organisation.id == Inspection.organisation_id)
                .where(Organisation.code == chair.union, ItemScore.self_score.is_not(None))
            ).all()
            stored = {no: score for no, score in rows}
            figures.lost += sum(1 for no, value in chair.acked.items() if stored.get(no) != value)
            figures.extra += sum(1 for no in stored if no not in chair.acked)
        doubled = session.execute(
            select(InboundMessage.dedup_key).group_by(InboundMessage.dedup_key).having(func.count() > 1)
        ).all()
        figures.doubled = len(doubled)
    engine.dispose()
    for chair in chairs:
        sim = Simulator(http_transport(url + "/wechat"), chair.openid, TOKEN, APP_ID)
        expected = len(chair.acked) + 1
        if expected <= ITEMS and f"【{expected}/{ITEMS}】" not in sim.say("自评"):
            figures.wrong_resume += 1


def run(
    database_url: str, redis_url: str, chairs: int = 4, items: int = 12, workers: int = 2, quiet: bool = False
) -> Figures:
    """The whole scenario; the figures say what was lost, added or doubled (all must be 0)."""
    say = (lambda *a: None) if quiet else print
    _reset(database_url, redis_url)
    people = _seed(database_url, chairs)
    env = os.environ | {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APP_ID": APP_ID,
        "SECRET_KEY": "death-secret",
        "NIANJIAN_INSTANCE": str(Path(os.environ.get("TMPDIR", "/tmp")) / f"death-{os.getpid()}"),
    }
    server = Server(env, _free_port(), workers)
    figures = Figures()
    server.start()
    stop = threading.Event()
    threads = [threading.Thread(target=_answer, args=(c, server.url, items, figures, stop)) for c in people]
    started = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        total = chairs * items

        def wait_for(share: float) -> None:
            while sum(len(c.acked) for c in people) < total * share and any(t.is_alive() for t in threads):
                time.sleep(0.05)

        wait_for(0.3)
        figures.kills.append(
            f"worker {server.kill_worker()} (kill -9) at {sum(len(c.acked) for c in people)} answers"
        )
        say(figures.kills[-1])
        wait_for(0.6)
        server.kill_all()
        figures.kills.append(f"whole server (kill -9) at {sum(len(c.acked) for c in people)} answers")
        say(figures.kills[-1])
        time.sleep(0.5)
        server.start()
        say("server started again")
        for thread in threads:
            thread.join(timeout=300)
        figures.acked = sum(len(c.acked) for c in people)
        figures.resent = sum(c.resent for c in people)
        _check(database_url, people, server.url, figures)
    finally:
        stop.set()
        stderr = server.stop()
    tracebacks = stderr.count("Traceback")
    if tracebacks:
        figures.errors.append(f"{tracebacks} tracebacks on the server's stderr")
    say(
        f"{chairs} chairs, {figures.turns} answering turns in {time.monotonic() - started:.1f} s, "
        f"{figures.acked} answers acknowledged, {figures.resent} pushes sent again, "
        f"{sum(c.replaced for c in people)} answers given again after the walk was re-placed; kills: {'; '.join(figures.kills)}; "
        f"lost {figures.lost}, extra {figures.extra}, doubled messages {figures.doubled}, "
        f"wrong resume {figures.wrong_resume}, errors {figures.errors}"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chairs", type=int, default=8)
    parser.add_argument("--items", type=int, default=ITEMS)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    redis_url = os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL")
    if not database_url or not redis_url:
        sys.exit("set BENCH_DATABASE_URL (PostgreSQL; it is wiped) and BENCH_REDIS_URL (its db is flushed)")
    database_url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    figures = run(database_url, redis_url, args.chairs, min(args.items, ITEMS), args.workers)
    failed = figures.lost or figures.extra or figures.doubled or figures.wrong_resume or figures.errors
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
