"""The web console for federation staff (blueprint ``console``, at /console): overviews, tables,
charts and documents over the same data as the chat. Server-rendered, no external assets."""

from chatbot.console import errors as _errors  # noqa: F401 — registers the Chinese error pages on bp
from chatbot.console import grid as _grid  # noqa: F401 — 网格化管理: plans and responsible people, on bp
from chatbot.console import narratives as _narratives  # noqa: F401 — the summary's written parts, on bp
from chatbot.console import rubrics as _rubrics  # noqa: F401 — the sheets' versions and their differences, on bp
from chatbot.console import weaknesses as _weaknesses  # noqa: F401 — where the points are lost, on bp
from chatbot.console.pages import bp

__all__ = ["bp"]
