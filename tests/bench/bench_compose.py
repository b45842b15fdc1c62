"""How long composing a template notice takes (run by hand): every kind, the default mapping.

.venv/bin/python tests/bench/bench_compose.py [N]
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from chatbot.notify.message import NoticeFacts, template_message
from chatbot.notify.templates import load_templates
from chatbot.store.notice_kinds import NoticeKind

TEXT = (
    "西吉县供电有限责任公司工会委员会 2026 年度年检结果公示（第 1 轮）：四星级，87.5 分。公示期至 2026-12-12，"
    "发送“结果”查看详情；如有异议请在公示期内向上级工会反映。"
)
FACTS = '{"union":"西吉县供电有限责任公司工会委员会","stars":"四星级","score":"87.5","round":"1","result":"已退回"}'


def main(count: int) -> None:
    mapping = load_templates("default")
    now = datetime(2026, 12, 6, 1, tzinfo=UTC)
    kinds = list(NoticeKind)
    started = time.perf_counter()
    for n in range(count):
        kind = kinds[n % len(kinds)]
        notice = NoticeFacts(n + 1, kind.value, kind.label, "2026-12-12", TEXT, FACTS, now)
        template_message(mapping.by_kind[kind], notice, now, "https://nj.example.cn/", "secret")
    took = time.perf_counter() - started
    print(f"{count} notices composed in {took:.3f} s: {took / count * 1e6:.1f} µs each")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
