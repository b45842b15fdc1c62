"""The driver that bench_week.py and tests/faults/soak.py share: a city seeded through the CLI,
`nianjian serve` processes on loopback, and an open-loop mix of chat turns against them, checked
against the database afterwards.

The mix (shares of turns): members' democratic-evaluation ballots (`绑定`, `测评 CODE`, the 8 rated
answers, the closing suggestion), chairs' self-checks (`绑定`, `自评`, every item, `提交`) and
evaluators' assessments (`绑定`, `考评 ORG`, every item, `提交`). Each user answers what the last reply
asks (the `【k/n】` it shows), after a human pause. On top: WeChat's retries (the same signed push sent
again, MsgId and all, to either instance) and bursts (two messages of one user at once).

Open loop: turns are sent on a fixed schedule (``rate`` per second) whatever the server's speed;
each slot goes to a user whose pause is over, or to a new user when none is. A user never has two
messages in flight except in a burst. Latency is measured from the scheduled instant, so a
generator or server that falls behind shows in the figures (no coordinated omission).

Not collected by pytest (run by the scripts that import it).
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chatbot.cli import main as nianjian  # noqa: E402
from chatbot.inspection import evaluations, organisations, selfcheck  # noqa: E402
from chatbot.service.turn import BUSY  # noqa: E402
from chatbot.store.engine import make_engine, session_factory  # noqa: E402
from chatbot.store.models import (  # noqa: E402
    Ballot,
    Campaign,
    Evaluation,
    EvaluationVoter,
    InboundMessage,
    Inspection,
    ItemScore,
    Organisation,
)
from chatbot.wechat.simulator import Simulator  # noqa: E402
from chatbot.wechat.webhook import APOLOGY  # noqa: E402
from rubrics import get_rubric  # noqa: E402
from tests.bench.bench_selfcheck import TOKEN, free_port, wait_up  # noqa: E402
from tests.bench.turn_cost import reset  # noqa: E402

YEAR = 2026
COUNTIES = 8
RUBRICS = ("village", "non_public", "state_owned", "agency", "joint", "township")
#: Shares of turns by kind of user.
MIX = {"ballot": 0.70, "selfcheck": 0.20, "assessment": 0.10}
DUPLICATE_SHARE = 0.03
BURST_SHARE = 0.02
THINK_SECONDS = (1.0, 5.0)
REQUEST_TIMEOUT = 30.0
NEARLY_DONE = 3  # one union in this many comes to the week with all but ITEMS_LEFT items answered
ITEMS_LEFT = 3
RECENT_SECONDS = 2.0  # a retry repeats a push sent within this long


# ---------------------------------------------------------------- the city


@dataclass(frozen=True)
class Union:
    code: str
    county: str
    rubric: str
    chair_code: str
    member_code: str
    evaluation_code: str | None  # None: its self-check is submitted, ready for the assessment
    #: items of its walk answered before the week (self-check, or assessment once submitted)
    prefilled: int = 0


@dataclass(frozen=True)
class City:
    unions: list[Union]
    evaluator_codes: dict[str, str]  # county → a multi-use evaluator invitation

    @property
    def open_unions(self) -> list[Union]:
        """Unions whose chair has not started and whose democratic evaluation is open."""
        return [u for u in self.unions if u.evaluation_code]

    @property
    def submitted_unions(self) -> list[Union]:
        return [u for u in self.unions if u.evaluation_code is None]


def _cli(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(nianjian, list(args), env=env, catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(f"nianjian {' '.join(args)}: {result.output}")
    return result.output


def service_env(database_url: str, redis_url: str, workdir: Path) -> dict[str, str]:
    """The environment of the `serve` (and CLI) processes a load script starts."""
    return os.environ | {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WECHAT_TOKEN": TOKEN,
        "NIANJIAN_INSTANCE": str(workdir),
        "SECRET_KEY": "bench",
    }


#: Each union's member count (the member codes' limit) and its evaluation's open places.
ROLL = 1000


def seed_city(
    env: dict[str, str], workdir: Path, unions: int, submitted: int, members_per_union: int = 20
) -> City:
    """A city of ``unions`` grassroots unions under eight counties, through the CLI where it has a
    command (organisations, the member roll, the campaign, the counties' evaluator codes); the
    per-union invitations and evaluations with the domain functions those commands call, in one
    transaction (one `nianjian` process per union would take minutes). ``submitted`` unions get a
    submitted self-check (written directly, as bench_campaign.py does), ready to be assessed."""
    reset(env["DATABASE_URL"], env.get("REDIS_URL", ""))
    codes = [f"U{n:05d}" for n in range(1, unions + 1)]
    county_of = {code: f"C{n % COUNTIES + 1}" for n, code in enumerate(codes)}
    rubric_of = {code: RUBRICS[n % len(RUBRICS)] for n, code in enumerate(codes)}
    orgs = workdir / "orgs.csv"
    rows = ["code,name,rubric,parent,members", "GY,固原市总工会,,,"]
    rows += [f"C{c},第{c}县（区）总工会,,GY," for c in range(1, COUNTIES + 1)]
    rows += [f"{c},压测第{c[1:]}工会,{rubric_of[c]},{county_of[c]},{ROLL}" for c in codes]
    orgs.write_text("\n".join(rows) + "\n", encoding="utf-8")
    roll = workdir / "members.csv"
    people = ["name,phone,organisation"]
    people += [
        f"会员{n}-{k},13{n * members_per_union + k:09d},{code}"
        for n, code in enumerate(codes)
        for k in range(members_per_union)
    ]
    roll.write_text("\n".join(people) + "\n", encoding="utf-8")
    today = date.today()
    _cli(env, "org", "import", str(orgs))
    _cli(env, "member", "import", str(roll))
    _cli(
        env,
        "campaign",
        "open",
        str(YEAR),
        "--self-check-due",
        (today + timedelta(days=14)).isoformat(),
        "--review-due",
        (today + timedelta(days=28)).isoformat(),
    )
    evaluators = {
        f"C{c}": _cli(
            env,
            "invite",
            "create",
            "--org",
            f"C{c}",
            "--role",
            "evaluator",
            "--uses",
            "100000",
            "--days",
            "0",
        )
        .strip()
        .splitlines()[-1]
        for c in range(1, COUNTIES + 1)
    }
    ready = set(codes[:submitted])
    engine = make_engine(env["DATABASE_URL"])
    now = datetime.now(UTC)
    city: list[Union] = []
    with session_factory(engine).begin() as session:
        for n, code in enumerate(codes):
            chair = organisations.create_invitation(session, code, "chair", days=None).code
            member = organisations.create_invitation(session, code, "member", uses=100000, days=None).code
            # The week's members bind after the opening: each takes one of the open places.
            evaluation = (
                None if code in ready else evaluations.open_evaluation(session, code, None, ROLL, now).code
            )
            left = get_rubric(rubric_of[code]).item_count - ITEMS_LEFT if n % NEARLY_DONE == 0 else 0
            city.append(Union(code, county_of[code], rubric_of[code], chair, member, evaluation, left))
        _answer_items(session, city, now)
    engine.dispose()
    return City(city, evaluators)


def _answer_items(session: Session, city: list[Union], now: datetime) -> None:
    """The answers given before the week: every self score of the unions ready to be assessed (then
    submitted), and the first ``prefilled`` items of the walk each nearly finished union is in."""
    by_code = {union.code: union for union in city}
    inspections = session.scalars(
        select(Inspection)
        .join(Organisation)
        .where(Organisation.code.in_([u.code for u in city if u.prefilled or u.evaluation_code is None]))
    ).all()
    for inspection in inspections:
        union = by_code[inspection.organisation.code]
        ready = union.evaluation_code is None
        self_items = get_rubric(inspection.rubric_key).item_count if ready else union.prefilled
        session.add_all(
            ItemScore(
                inspection_id=inspection.id,
                item_no=item.no,
                self_score=Decimal(item.points) if item.no <= self_items else None,
                assessed_score=Decimal(item.points) if ready and item.no <= union.prefilled else None,
            )
            for item in get_rubric(inspection.rubric_key).items
            if item.no <= max(self_items, union.prefilled)
        )
        session.flush()
        session.expire(inspection, ["item_scores"])
        if ready:  # the record and the evaluation (waived) as an evaluator gives them before 提交
            selfcheck.submit(session, inspection, "bench", now)
            inspection.assessment_methods, inspection.assessment_opinion = ["听汇报"], "台账齐全，制度落实"
            evaluations.end(session, inspection, None, "压测单位不开展民主测评", True, "bench", now)
        else:
            selfcheck.start(session, inspection, "bench")


# ---------------------------------------------------------------- the servers


@dataclass
class Server:
    """One `nianjian serve` (gunicorn master, its workers, the scheduler beside them)."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def processes(self) -> dict[int, str]:
        """pid → role (master, worker, scheduler) of this server's processes now."""
        found = {self.process.pid: "master"}
        for child in _children(self.process.pid):
            found[child] = "scheduler" if "scheduler" in _cmdline(child) else "worker"
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_problems(self) -> dict[str, int]:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return {
            "tracebacks": text.count("Traceback (most recent call last)"),
            "errors": sum(1 for line in text.splitlines() if " ERROR " in line or "[ERROR]" in line),
            "worker restarts": text.count("Booting worker") - _workers_booted(text),
        }


def _workers_booted(text: str) -> int:
    """Workers booted at start (those of the first 'Listening at' block)."""
    head, _, _ = text.partition("年检助手 webhook")
    tail = text[len(head) :]
    first = re.split(r"Worker exiting|Worker \(pid:\d+\) was sent|WORKER TIMEOUT", tail)[0]
    return first.count("Booting worker")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def rss_kib(pid: int) -> int | None:
    """Resident memory of ``pid`` in KiB (/proc/<pid>/status; psutil is not in the venv)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def serve(env: dict[str, str], workdir: Path, workers: int, threads: int = 8, name: str = "serve") -> Server:
    """`nianjian serve` on a free loopback port, up and answering /healthz."""
    port = free_port()
    log = workdir / f"{name}-{port}.log"
    command = [sys.executable, "-c", "from chatbot.cli import main; main()", "serve", "--port", str(port)]
    command += ["--workers", str(workers), "--threads", str(threads)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(port, process, log)
    try:
        wait_up(f"{server.url}/healthz", timeout=60)
    except RuntimeError:
        server.stop()
        raise RuntimeError(f"{name} did not start:\n{log.read_text(errors='replace')[-3000:]}") from None
    return server


def fake_wechat(env: dict[str, str], workdir: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """`nianjian fake-wechat` on loopback, and the environment that points the service at it."""
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "from chatbot.cli import main; main()",
        "fake-wechat",
        "--port",
        str(port),
    ]
    command += ["--log", str(workdir / "fake-wechat.jsonl")]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(workdir / "fake-wechat.err").open("wb")
    )
    wait_up(f"http://127.0.0.1:{port}/", timeout=30)
    return process, {
        "WECHAT_APP_ID": "wxbench",
        "WECHAT_APP_SECRET": "bench",
        "WECHAT_API_BASE_URL": f"http://127.0.0.1:{port}/cgi-bin/",
        "WECHAT_TEMPLATE_ID": "TPL",
    }


# ---------------------------------------------------------------- the users

STEP = re.compile(r"【(\d+)/(\d+)】")
POINTS = re.compile(r"（本项 (\d+(?:\.\d)?) 分）")
ITEM_ACK = re.compile(r"✓ 第 (\d+) 项记 (\d+(?:\.\d)?) 分")
BALLOT_ACK = re.compile(r"✓ (满意|基本满意|不满意)\n【(\d+)/(\d+)】")
#: What a retry of an answered ballot question gets: the stored record never names the answer.
BALLOT_RECORDED = re.compile(r"✓ 已记录\n【(\d+)/(\d+)】")
SCALE = {"满意": 1, "基本满意": 2, "不满意": 3}
SUGGESTIONS = ("无", "无", "无", "希望多组织职工文体活动。", "建议加强职工技能培训。")
STUCK_AFTER = 4  # unrecognised replies in a row before a user gives up


@dataclass
class User:
    """One simulated WeChat user: what to send next follows from the last reply."""

    kind: str
    openid: str
    union: Union
    bind_code: str
    rng: random.Random
    stage: str = "bind"
    step: int = 0  # the item or question the last reply asked (0: none yet)
    steps: int = 0  # how many the walk or ballot has
    points: str = ""  # the asked item's points
    sent: int = 0
    unrecognised: int = 0
    last_reply: str = ""
    done: bool = False
    stuck: bool = False
    #: item → score acknowledged (chair: self score, evaluator: assessed score)
    scores: dict[int, str] = field(default_factory=dict)
    ballot: dict[int, int] = field(default_factory=dict)  # question → answer acknowledged
    submitted: bool = False  # the submission (or the cast ballot) acknowledged
    pending: int = 0  # messages in flight (two in a burst)

    def next_message(self) -> str:
        if self.stage == "bind":
            return f"绑定 {self.bind_code}"
        if self.stage == "start":
            if self.kind == "ballot":
                return f"测评 {self.union.evaluation_code}"
            return "自评" if self.kind == "selfcheck" else f"考评 {self.union.code}"
        if self.stage == "submit":
            return "提交"
        if self.kind == "ballot":
            if self.step == self.steps:
                return self.rng.choice(SUGGESTIONS)
            return str(self.rng.choice((1, 1, 1, 2, 2, 3)))
        return self._score()

    def _score(self) -> str:
        roll = self.rng.random()
        if self.kind == "assessment" and roll < 0.5:
            return "同"
        if roll < 0.8 or not self.points:
            return "满分"
        top = int(Decimal(self.points) * 2)
        return _fmt(Decimal(self.rng.randint(0, top)) / 2)

    def burst(self) -> tuple[str, str] | None:
        """Two answers at once, when two questions are certainly left to answer."""
        if self.stage != "answer" or self.step + 1 >= self.steps:
            return None
        if self.kind == "ballot":
            return str(self.rng.choice((1, 2, 3))), str(self.rng.choice((1, 2, 3)))
        return "满分", "满分"

    def on_reply(self, text: str, category: str, sent: str = "") -> None:
        """Follow the reply to ``sent``; answers are noted only as acknowledged (confirmed by the reply)."""
        if category != "ok":
            return  # busy, apology or failure: the same step again after the pause
        self.last_reply = text
        understood = self._follow(text, sent)
        self.unrecognised = 0 if understood else self.unrecognised + 1
        if self.unrecognised >= STUCK_AFTER:
            self.stuck = self.done = True

    def _follow(self, text: str, sent: str = "") -> bool:
        for no, score in ITEM_ACK.findall(text):
            self.scores[int(no)] = score
        for label, step, _total in BALLOT_ACK.findall(text):
            self.ballot[int(step) - 1] = SCALE[label]
        for step, _total in BALLOT_RECORDED.findall(text):  # a retry's reply came first: what was sent
            if sent in ("1", "2", "3"):
                self.ballot[int(step) - 1] = int(sent)
        if "绑定成功" in text or "已绑定" in text:
            self.stage = "start" if self.stage == "bind" else self.stage
        if "感谢参与！您的测评已匿名提交" in text or "自评已提交！" in text or "组织评定已提交！" in text:
            self.submitted = self.done = True
            return True
        if "全部作答完毕" in text:
            self.stage = "submit"
            return True
        step = STEP.search(text)
        if step:
            self.stage = "answer"
            self.step, self.steps = int(step.group(1)), int(step.group(2))
            points = POINTS.search(text)
            self.points = points.group(1) if points else ""
            return True
        return "绑定成功" in text


def user_factory(city: City, seed: int) -> dict[str, Callable[[int], User | None]]:
    """For each kind, a function making its n-th user (None when the city has no more for it)."""
    open_unions = city.open_unions
    submitted = city.submitted_unions
    rng = random.Random(seed)

    def ballot(n: int) -> User:
        union = open_unions[n % len(open_unions)]
        return User("ballot", f"week-member-{n}", union, union.member_code, random.Random(rng.random()))

    def chair(n: int) -> User | None:
        if n >= len(open_unions):
            return None
        union = open_unions[n]
        return User("selfcheck", f"week-chair-{n}", union, union.chair_code, random.Random(rng.random()))

    def evaluator(n: int) -> User | None:
        if n >= len(submitted):
            return None
        union = submitted[n]
        code = city.evaluator_codes[union.county]
        return User("assessment", f"week-evaluator-{n}", union, code, random.Random(rng.random()))

    return {"ballot": ballot, "selfcheck": chair, "assessment": evaluator}


# ---------------------------------------------------------------- the driver


@dataclass
class Push:
    """One signed push as sent, and what came back."""

    user: User
    content: str
    params: dict[str, str]
    body: bytes
    msg_id: str
    instance: int
    scheduled: float
    sent_at: float = 0.0
    done_at: float = 0.0
    status: int = 0
    text: str = ""
    category: str = ""  # ok, busy, apology, http, transport
    duplicate_of: Push | None = None
    burst: bool = False


MSG_ID = re.compile(rb"<MsgId>(\d+)</MsgId>")


class _Connections(threading.local):
    def __init__(self) -> None:
        self.by_port: dict[int, http.client.HTTPConnection] = {}


class Mix:
    """The open-loop generator: ``run`` sends the mix at ``rate`` turns/s for ``duration`` seconds."""

    def __init__(
        self,
        ports: Sequence[int],
        city: City,
        seed: int = 2026,
        mix: dict[str, float] | None = None,
        senders: int = 256,
        on_done: Callable[[Push], None] | None = None,
    ) -> None:
        self.ports = list(ports)
        self.rng = random.Random(seed)
        self.mix = mix or MIX
        self.make = user_factory(city, seed)
        self.made: Counter[str] = Counter()
        self.users: list[User] = []
        self.exhausted: set[str] = set()
        #: per kind, a heap of (when the pause is over, order, user)
        self.ready: dict[str, list[tuple[float, int, User]]] = {kind: [] for kind in self.mix}
        self.order = itertools.count()
        self.pushes: list[Push] = []
        self.recent: deque[Push] = deque()
        self.idle_slots = 0
        self.lock = threading.Lock()
        self.connections = _Connections()
        self.pool = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="sender")
        self.on_done = on_done
        self.started = 0.0

    # -- choosing who speaks

    def _kind(self) -> str:
        kinds = [k for k in self.mix if k not in self.exhausted or self.ready[k]]
        if not kinds:
            return ""
        return self.rng.choices(kinds, [self.mix[k] for k in kinds])[0]

    def _user(self, kind: str, now: float) -> User | None:
        """A user of ``kind`` whose pause is over, else a new one."""
        with self.lock:
            queue = self.ready[kind]
            if queue and queue[0][0] <= now:
                return heapq.heappop(queue)[2]
        if kind in self.exhausted:
            return None
        user = self.make[kind](self.made[kind])
        if user is None:
            self.exhausted.add(kind)
            return None
        self.made[kind] += 1
        self.users.append(user)
        return user

    def _speaker(self, now: float) -> User | None:
        for _ in range(len(self.mix) + 1):
            kind = self._kind()
            if not kind:
                return None
            user = self._user(kind, now)
            if user is not None:
                return user
        return None

    # -- sending

    def _push(self, user: User, content: str, scheduled: float) -> Push:
        params, body = Simulator(_unsent, user.openid, TOKEN).prepare_text(content)
        msg_id = MSG_ID.search(body)
        instance = (user.sent + hash(user.openid)) % len(self.ports)
        user.sent += 1
        return Push(
            user, content, params, body, msg_id.group(1).decode() if msg_id else "", instance, scheduled
        )

    def _post(self, port: int, params: dict[str, str], body: bytes) -> tuple[int, bytes]:
        conn = self.connections.by_port.get(port)
        for attempt in (1, 2):
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
                self.connections.by_port[port] = conn
            try:
                conn.request(
                    "POST", "/wechat?" + urlencode(params), body, {"Content-Type": "text/xml; charset=utf-8"}
                )
                response = conn.getresponse()
                return response.status, response.read()
            except (ConnectionError, http.client.HTTPException) as error:
                conn.close()
                conn = None
                self.connections.by_port.pop(port, None)
                if attempt == 2 or isinstance(error, TimeoutError):
                    raise
        raise AssertionError("unreachable")

    def _send(self, push: Push) -> None:
        # Signed as it leaves (a push that waited in the generator's queue would otherwise be refused
        # as stale); the body, MsgId included, stays the one prepared, so a retry is the same message.
        push.params, push.body = Simulator(_unsent, push.user.openid, TOKEN).sign(push.body.decode("utf-8"))
        push.sent_at = time.monotonic()
        try:
            status, raw = self._post(self.ports[push.instance], push.params, push.body)
            push.status = status
            push.text = _READER.reply_text(status, raw.decode("utf-8")) if status == 200 else ""
            push.category = classify(status, push.text)
        except (OSError, http.client.HTTPException) as error:
            push.category = "transport"
            push.text = repr(error)
        push.done_at = time.monotonic()
        self._after(push)

    def _after(self, push: Push) -> None:
        user = push.user
        with self.lock:
            if push.duplicate_of is None:
                user.on_reply(push.text, push.category, push.content)
                user.pending -= 1
                if user.pending <= 0 and not user.done:
                    pause = self.rng.uniform(*THINK_SECONDS)
                    heapq.heappush(self.ready[user.kind], (push.done_at + pause, next(self.order), user))
        if self.on_done is not None:
            self.on_done(push)

    def _duplicate(self, now: float, scheduled: float) -> Push | None:
        while self.recent and self.recent[0].scheduled < now - RECENT_SECONDS:
            self.recent.popleft()
        if not self.recent:
            return None
        original = self.rng.choice(self.recent)
        instance = (original.instance + 1) % len(self.ports)  # a retry may reach another instance
        return Push(
            original.user,
            original.content,
            original.params,
            original.body,
            original.msg_id,
            instance,
            scheduled,
            duplicate_of=original,
        )

    def run(self, rate: float, duration: float, drain: float = 60.0) -> float:
        """Send for ``duration`` seconds; wait (at most ``drain`` s) for the replies; the elapsed time."""
        interval = 1.0 / rate
        self.started = start = time.monotonic()
        slot = 0
        skip_next = False
        while True:
            scheduled = start + slot * interval
            slot += 1
            if scheduled - start >= duration:
                break
            delay = scheduled - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if skip_next:  # the second message of a burst took this slot
                skip_next = False
                continue
            now = time.monotonic()
            if self.rng.random() < DUPLICATE_SHARE:
                retry = self._duplicate(now, scheduled)
                if retry is not None:
                    self._submit(retry)
                    continue
            user = self._speaker(now)
            if user is None:
                self.idle_slots += 1
                continue
            pair = user.burst() if self.rng.random() < BURST_SHARE else None
            contents = pair or (user.next_message(),)
            user.pending = len(contents)
            for content in contents:
                push = self._push(user, content, scheduled)
                push.burst = pair is not None
                self.recent.append(push)
                self._submit(push)
            skip_next = pair is not None
        self.pool.shutdown(wait=True)
        return time.monotonic() - start

    def _submit(self, push: Push) -> None:
        with self.lock:
            self.pushes.append(push)
        self.pool.submit(self._send, push)


def classify(status: int, text: str) -> str:
    if status != 200:
        return "http"
    if text.startswith(APOLOGY[:6]) or text.startswith("抱歉"):
        return "apology"
    if text == BUSY.text:
        return "busy"
    return "ok"


# ---------------------------------------------------------------- figures


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


@dataclass(frozen=True)
class Figures:
    turns: int
    seconds: float
    rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    service_p50_ms: float
    service_p99_ms: float
    single_p99_ms: float  # turns neither in a burst nor a retry (those wait for the user's lock)
    over_5s: int  # replies later than WeChat's 5-second deadline, counted from the send
    categories: dict[str, int]
    kinds: dict[str, int]
    duplicates: int
    bursts: int


def figures(pushes: Sequence[Push], started: float) -> Figures:
    """Turns answered per second from the first scheduled send to the last reply; latency from each
    turn's scheduled instant (what the user waits, queueing in the generator included) and from its
    actual send (the server alone)."""
    done = [p for p in pushes if p.done_at]
    seconds = max((p.done_at for p in done), default=started) - started
    late = [(p.done_at - p.scheduled) * 1000 for p in done]
    service = [(p.done_at - p.sent_at) * 1000 for p in done]
    return Figures(
        turns=len(done),
        seconds=seconds,
        rate=len(done) / seconds if seconds else 0.0,
        p50_ms=statistics.median(late) if late else float("nan"),
        p99_ms=percentile(late, 0.99),
        max_ms=max(late, default=float("nan")),
        service_p50_ms=statistics.median(service) if service else float("nan"),
        service_p99_ms=percentile(service, 0.99),
        single_p99_ms=percentile(
            [(p.done_at - p.scheduled) * 1000 for p in done if not p.burst and p.duplicate_of is None], 0.99
        ),
        over_5s=sum(1 for ms in service if ms > 5000),
        categories=dict(Counter(p.category for p in done)),
        kinds=dict(Counter(p.user.kind for p in done if p.duplicate_of is None)),
        duplicates=sum(1 for p in done if p.duplicate_of is not None),
        bursts=sum(1 for p in done if p.burst),
    )


def errors_of(fig: Figures) -> int:
    return sum(n for category, n in fig.categories.items() if category not in ("ok", "busy"))


# ---------------------------------------------------------------- the database check


@dataclass
class Check:
    """What the database holds against what the replies acknowledged."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def ok(self, line: str) -> None:
        self.lines.append(line)

    def bad(self, line: str) -> None:
        self.problems.append(line)
        self.lines.append("PROBLEM: " + line)


def check_database(engine: Engine, users: Iterable[User], pushes: Sequence[Push]) -> Check:
    """Every acknowledged answer stored exactly once, nothing stored twice, every ballot once:

    - each item a chair's or evaluator's reply confirmed holds that score (the unique item row
      makes "once" structural; a stored score no reply confirmed is counted apart: its reply was
      lost — a failed request — or it was applied twice);
    - each acknowledged submission is in the inspection's state;
    - per evaluation, the ballots equal the acknowledged casts, answer for answer, and the voters
      recorded equal the ballots;
    - every message answered (not busy, not an apology) is recorded once, a retry never again;
    - a retry got the reply of its original.
    """
    check = Check()
    users = list(users)
    failed = {p.user.openid for p in pushes if p.category in ("transport", "http", "apology")}
    with session_factory(engine)() as session:
        _check_walk(session, "selfcheck", [u for u in users if u.kind == "selfcheck"], failed, check)
        _check_walk(session, "assessment", [u for u in users if u.kind == "assessment"], failed, check)
        _check_ballots(session, [u for u in users if u.kind == "ballot"], check)
        _check_messages(session, users, pushes, check)
    _check_retries(pushes, check)
    stuck = [u for u in users if u.stuck]
    if stuck:
        check.ok(
            f"{len(stuck)} users gave up on replies they did not follow, e.g. {stuck[0].last_reply[:120]!r}"
        )
    return check


def _stored_scores(
    session: Session, kind: str, codes: list[str]
) -> tuple[dict[str, dict[int, str]], dict[str, tuple[str, bool]]]:
    """Per union: item → stored score (self or assessed), and (state, rated)."""
    column = ItemScore.self_score if kind == "selfcheck" else ItemScore.assessed_score
    stored: dict[str, dict[int, str]] = {code: {} for code in codes}
    states: dict[str, tuple[str, bool]] = {}
    rows = session.execute(
        select(Organisation.code, ItemScore.item_no, column, Inspection.state, Inspection.rated_at)
        .join(Inspection, Inspection.organisation_id == Organisation.id)
        .join(Campaign, Campaign.id == Inspection.campaign_id)
        .join(ItemScore, ItemScore.inspection_id == Inspection.id, isouter=True)
        .where(Organisation.code.in_(codes), Campaign.year == YEAR)
    )
    for code, no, score, state, rated in rows:
        states[code] = (state, rated is not None)
        if no is not None and score is not None:
            stored[code][no] = _fmt(score)
    return stored, states


def _check_walk(session: Session, kind: str, users: list[User], failed: set[str], check: Check) -> None:
    """Chairs' self scores or evaluators' assessed scores against their acknowledgements."""
    stored, states = _stored_scores(session, kind, [u.union.code for u in users])
    acked = differ = unacked = lost = subs = subs_bad = 0
    for user in users:
        held = stored[user.union.code]
        for no, score in user.scores.items():
            acked += 1
            if held.get(no) != score:
                differ += 1
                if differ <= 5:
                    check.bad(
                        f"{kind} {user.union.code} item {no}: acknowledged {score}, stored {held.get(no)}"
                    )
        extra = len({no for no in held if no > user.union.prefilled} - set(user.scores))
        if user.openid in failed:
            lost += extra
        else:
            unacked += extra
        if user.submitted:
            subs += 1
            state, rated = states[user.union.code]
            if not (rated if kind == "assessment" else state == "self_submitted"):
                subs_bad += 1
                check.bad(f"{kind} {user.union.code}: submission acknowledged, state {state}")
    check.ok(
        f"{kind}: {acked:,} acknowledged item scores in {sum(1 for u in users if u.scores)} inspections, "
        f"{differ} differ from the database; {subs} acknowledged submissions, {subs_bad} not applied"
    )
    if unacked:
        check.bad(f"{kind}: {unacked} stored item scores that no reply acknowledged (applied twice?)")
    if lost:
        check.ok(f"{kind}: {lost} stored item scores whose reply was lost (a failed request)")


def _check_ballots(session: Session, voters: list[User], check: Check) -> None:
    """Per evaluation: the stored ballots are the acknowledged casts, and one voter each."""
    cast: dict[str, Counter[tuple[int, ...]]] = {}
    for user in voters:
        if user.submitted:
            answers = tuple(user.ballot.get(q, 0) for q in range(1, 9))
            cast.setdefault(user.union.evaluation_code or "", Counter())[answers] += 1
    stored: dict[str, Counter[tuple[int, ...]]] = {}
    for code, answers in session.execute(
        select(Evaluation.code, Ballot.answers).join(Ballot, Ballot.evaluation_id == Evaluation.id)
    ):
        stored.setdefault(code, Counter())[tuple(answers)] += 1
    voted = dict(
        session.execute(
            select(Evaluation.code, func.count(EvaluationVoter.voter_hash))
            .join(EvaluationVoter, EvaluationVoter.evaluation_id == Evaluation.id)
            .group_by(Evaluation.code)
        ).all()
    )
    differ = lost = 0
    for code in set(cast) | set(stored):
        mine, theirs = cast.get(code, Counter()), stored.get(code, Counter())
        if mine != theirs:
            if not mine - theirs:  # every acknowledged ballot is there; the others' replies were lost
                lost += (theirs - mine).total()
            else:
                differ += 1
                if differ <= 5:
                    check.bad(f"evaluation {code}: acknowledged ballots {dict(mine)}, stored {dict(theirs)}")
        if voted.get(code, 0) != theirs.total():
            check.bad(f"evaluation {code}: {voted.get(code, 0)} voters recorded for {theirs.total()} ballots")
    check.ok(
        f"ballots: {sum(c.total() for c in cast.values()):,} acknowledged casts in {len(cast)} evaluations, "
        f"{sum(c.total() for c in stored.values()):,} stored; {differ} evaluations differ, "
        f"{lost} cast whose reply was lost"
    )


def _check_messages(session: Session, users: list[User], pushes: Sequence[Push], check: Check) -> None:
    """Each answered message recorded once (a retry is not recorded again)."""
    answered = {p.msg_id for p in pushes if p.category == "ok"}
    maybe = {p.msg_id for p in pushes if p.category == "transport"} - answered
    recorded = (
        session.scalar(
            select(func.count())
            .select_from(InboundMessage)
            .where(InboundMessage.openid.in_({u.openid for u in users}))
        )
        or 0
    )
    if not len(answered) <= recorded <= len(answered) + len(maybe):
        check.bad(f"messages: {recorded:,} recorded for {len(answered):,} distinct messages answered")
    check.ok(f"messages: {len(answered):,} distinct messages answered, {recorded:,} recorded")


def _check_retries(pushes: Sequence[Push], check: Check) -> None:
    """A retry answered gets its original's reply (when both were answered)."""
    pairs = [
        (p, p.duplicate_of)
        for p in pushes
        if p.duplicate_of is not None and p.category == "ok" and p.duplicate_of.category == "ok"
    ]
    same = sum(1 for p, original in pairs if p.text == original.text)
    if same != len(pairs):
        check.bad(f"retries: {len(pairs) - same} of {len(pairs)} got a reply other than their original's")
    check.ok(f"retries: {same} of {len(pairs)} answered with their original's reply")


def _fmt(score: Decimal) -> str:
    """A score as the replies write it: 5, 2.5 (no trailing .0)."""
    text = f"{score:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fake_sends(workdir: Path) -> int:
    """Calls the fake WeChat recorded (one JSON line each)."""
    log = workdir / "fake-wechat.jsonl"
    return log.read_text(encoding="utf-8").count("\n") if log.exists() else 0


def _unsent(_params: dict[str, str], _body: bytes) -> tuple[int, str]:
    raise AssertionError("pushes are prepared, then sent by the Mix")


_READER = Simulator(_unsent, "reader", TOKEN)  # reads replies (plaintext mode)


# ---------------------------------------------------------------- the machine


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


_CLOCK_TICKS = __import__("os").sysconf("SC_CLK_TCK")
