"""``python -m chatbot.cli``: the ``nianjian`` command, for processes started with this interpreter."""

from chatbot.cli import main

main()
