"""`python -m scheduler`: the scheduler process that `nianjian serve` runs beside the webhook."""

from __future__ import annotations

from chatbot.config import Config
from scheduler.logs import configure
from scheduler.runner import run_forever

if __name__ == "__main__":
    configure()
    run_forever(Config.from_env())
