"""The web console for federation staff (blueprint ``console``, at /console): overviews, tables,
charts and documents over the same data as the chat. Server-rendered, no external assets."""

from chatbot.console.pages import bp

__all__ = ["bp"]
