"""`python -m scheduler`: the scheduler process that `nianjian serve` runs beside the webhook."""

from __future__ import annotations

import logging

from chatbot.config import Config
from scheduler.runner import run_forever

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_forever(Config.from_env())
