"""Hot reload: every worker notices edited flow files and swaps in the new engine.

A broken edit is rejected with its errors while the last good version keeps serving.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from flows.engine import Engine
from flows.loader import FlowLoadError, load_flows

log = logging.getLogger("xinyi.flows")


class FlowRegistry:
    def __init__(self, folder: Path, check_every_s: float = 1.0):
        self.folder = Path(folder)
        self.check_every_s = check_every_s
        self.errors: list[str] = []
        self.loaded_at = 0.0
        self._signature = self._current_signature()
        self._engine = Engine(load_flows(self.folder))  # the first load must succeed
        self._checked = time.monotonic()

    def _current_signature(self) -> tuple:
        return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in self.folder.glob("*.yaml")))

    @property
    def engine(self) -> Engine:
        if time.monotonic() - self._checked >= self.check_every_s:
            self.reload_if_changed()
        return self._engine

    def reload_if_changed(self) -> bool:
        self._checked = time.monotonic()
        signature = self._current_signature()
        if signature == self._signature:
            return False
        self._signature = signature
        try:
            flows = load_flows(self.folder)
        except FlowLoadError as exc:
            self.errors = [str(e) for e in exc.errors]
            log.error("flow edit rejected, still serving the last good version: %d error(s)", len(exc.errors))
            return False
        self._engine = Engine(flows)
        self.errors = []
        self.loaded_at = time.time()
        log.info("flows reloaded: %d flows", len(flows))
        return True
