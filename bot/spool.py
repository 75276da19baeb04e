"""A sealed on-disk spool for messages that arrived while Redis was unreachable.

Nothing is lost: each message is appended (encrypted) to a file, and replayed through
the router — so a crisis becomes a case — once Redis answers again.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
from pathlib import Path

from bot.messages import Inbound
from core.seal import Sealer

log = logging.getLogger("xinyi.spool")


class Spool:
    def __init__(self, folder: Path, sealer: Sealer):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sealer = sealer
        self._lock = threading.Lock()
        self.path = self.folder / f"spool-{os.getpid()}.jsonl"

    def put(self, msg: Inbound) -> bool:
        line = self.sealer.seal(json.dumps(dataclasses.asdict(msg), ensure_ascii=False))
        try:
            with self._lock, open(self.path, "a", encoding="ascii") as f:
                f.write(line + "\n")
                f.flush()
                os.fsync(f.fileno())
            return True
        except OSError:
            log.exception("could not spool a message")
            return False

    def pending(self) -> int:
        return sum(1 for p in self.folder.glob("spool-*.jsonl") for line in open(p) if line.strip())

    async def replay(self, handle) -> int:
        """Feed every spooled message to `handle` (the router); keep the ones that fail again."""
        done = 0
        for path in sorted(self.folder.glob("spool-*.jsonl")):
            claimed = path.with_suffix(".replaying")
            try:
                path.rename(claimed)
            except OSError:
                continue  # another worker took it
            failed: list[str] = []
            for line in claimed.read_text(encoding="ascii").splitlines():
                if not line.strip():
                    continue
                try:
                    msg = Inbound(**json.loads(self.sealer.open(line)))
                    await handle(msg)
                    done += 1
                except Exception:
                    failed.append(line)
            if failed:
                with self._lock, open(self.path, "a", encoding="ascii") as f:
                    f.write("\n".join(failed) + "\n")
            claimed.unlink()
        if done:
            log.warning("replayed %d spooled message(s)", done)
        return done
