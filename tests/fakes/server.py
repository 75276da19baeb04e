"""The fakes' common runner (tests.live.ThreadServer) and a polling helper."""
from __future__ import annotations

import time

from tests.live import ThreadServer  # noqa: F401  (re-exported for the fakes)


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)
