"""The evidence directory: photos kept by the service after WeChat's 3 days, named by their content.

A file is accepted only when its first bytes are those of a photo format browsers show (JPEG, PNG,
GIF, WebP, BMP) and it is no larger than the configured cap; it is written atomically (a temporary
file, then a rename) to ``<dir>/<sha256[:2]>/<sha256>.<ext>``, so the same photo sent twice is kept
once and a half-written file is never served. Reads are confined to the directory.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: Content types by their leading bytes ("magic numbers"), and the extension each is stored with.
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
    (b"BM", "image/bmp", "bmp"),
)


class EvidenceFileError(ValueError):
    """A download that cannot be kept; the message is for the console, in Chinese."""


@dataclass(frozen=True)
class StoredFile:
    path: str  # relative to the evidence directory
    content_type: str
    size: int
    sha256: str


def sniff(data: bytes) -> tuple[str, str] | None:
    """The photo's content type and extension from its first bytes; None when it is not a photo."""
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    return None


def megabytes(size: int) -> str:
    """10485760 → "10 MB" (whole megabytes, as the cap is configured)."""
    return f"{round(size / (1024 * 1024))} MB"


class EvidenceFiles:
    """The evidence directory of one installation (Config.evidence_path) and its size cap."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def save(self, data: bytes) -> StoredFile:
        """Keep a downloaded photo; EvidenceFileError when it is too large or not a photo."""
        if len(data) > self.max_bytes:
            raise EvidenceFileError(f"照片超过 {megabytes(self.max_bytes)}，未保存。")
        kind = sniff(data)
        if kind is None:
            raise EvidenceFileError("下载的文件不是图片（JPEG、PNG、GIF、WebP 或 BMP），未保存。")
        content_type, extension = kind
        digest = hashlib.sha256(data).hexdigest()
        relative = f"{digest[:2]}/{digest}.{extension}"
        target = self.root / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.chmod(temporary, 0o640)
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return StoredFile(relative, content_type, len(data), digest)

    def locate(self, relative: str) -> Path | None:
        """The stored file's path, if it is inside the directory and exists."""
        root = self.root.resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        return path
