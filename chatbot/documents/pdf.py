"""A PDF beside a .docx or .xlsx, made by LibreOffice headless (``soffice --headless --convert-to pdf``).

Optional: without LibreOffice the documents are still written and ``PdfUnavailable`` says, in Chinese,
what to install. Each conversion runs with its own LibreOffice profile, so conversions in parallel
(two downloads, a CLI run beside the console) do not wait on one another's lock.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

#: Longest a conversion may take (a first start of LibreOffice builds its profile: several seconds).
TIMEOUT_SECONDS = 180
INSTALL_HINT = "请安装 LibreOffice（如 apt-get install libreoffice-writer libreoffice-calc）后重试"


class PdfUnavailable(RuntimeError):
    """No PDF could be made; the message is for the user, in Chinese."""


def soffice() -> str | None:
    """The LibreOffice program: $SOFFICE, else ``soffice`` or ``libreoffice`` on the PATH."""
    configured = os.environ.get("SOFFICE")
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(source: Path) -> Path:
    """Convert ``source`` to a PDF of the same name in the same folder; returns its path."""
    program = soffice()
    if program is None:
        raise PdfUnavailable(f"未找到 LibreOffice，未生成 PDF；{INSTALL_HINT}。")
    target = source.with_suffix(".pdf")
    with tempfile.TemporaryDirectory(prefix="nianjian-pdf-") as work:
        profile = Path(work) / "profile"
        out = Path(work) / "out"
        command = [
            program,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(source.resolve()),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired as error:
            raise PdfUnavailable(f"LibreOffice 转换超时（{TIMEOUT_SECONDS} 秒），未生成 PDF。") from error
        except OSError as error:
            raise PdfUnavailable(
                f"无法启动 LibreOffice（{error.strerror}），未生成 PDF；{INSTALL_HINT}。"
            ) from error
        made = out / f"{source.stem}.pdf"
        if done.returncode != 0 or not made.exists():
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["无输出"]
            raise PdfUnavailable(f"LibreOffice 未能转换 {source.name}（{detail[0]}），未生成 PDF。")
        shutil.move(str(made), target)
    return target
