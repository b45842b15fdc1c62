"""What a process imports before it works: `nianjian --help` loads no database, web or document
library, and a webhook worker answering a message loads none of the document libraries (python-docx,
openpyxl, matplotlib) — each checked in a fresh interpreter, as the process starts."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT_LIBRARIES = ("docx", "openpyxl", "matplotlib")


def loaded_after(code: str, tmp_path: Path) -> list[str]:
    """Run ``code`` in a fresh interpreter; the modules it names on its last line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    env |= {"NIANJIAN_INSTANCE": str(tmp_path), "SECRET_KEY": "fast-start"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def test_help_loads_no_database_web_or_document_library(tmp_path: Path) -> None:
    code = """
import sys
from chatbot.cli import main
try:
    main(["--help"], standalone_mode=False)
except SystemExit:
    pass
print(sorted(m for m in ("sqlalchemy", "flask", "wechatpy", "alembic", "docx", "openpyxl", "matplotlib")
             if m in sys.modules))
"""
    assert loaded_after(code, tmp_path) == []


def test_a_webhook_worker_answers_without_the_document_libraries(tmp_path: Path) -> None:
    code = f"""
import sys
from chatbot.app import create_app
from chatbot.config import Config
from chatbot.wechat.simulator import Simulator

app = create_app(Config.from_env({{"NIANJIAN_INSTANCE": {str(tmp_path)!r}, "WECHAT_TOKEN": "faststart",
                                   "SECRET_KEY": "fast-start"}}))
client = app.test_client()

def post(params, body):
    response = client.post("/wechat", query_string=params, data=body, content_type="text/xml")
    return response.status_code, response.get_data(as_text=True)

reply = Simulator(post, "fast-start-user", "faststart").say("帮助")
assert "绑定" in reply, reply
print(sorted(m for m in {DOCUMENT_LIBRARIES!r} if m in sys.modules))
"""
    assert loaded_after(code, tmp_path) == []
