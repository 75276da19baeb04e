"""Helpers for the escalation tests: a fake 企业微信群机器人 webhook, a recording notifier, a test roster."""
from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

from escalation.orgs import Orgs
from escalation.roster import Roster

ROOT = Path(__file__).resolve().parent.parent
ORGS_FILE = ROOT / "config" / "organisations.yaml"
ROSTER_FILE = ROOT / "config" / "roster.yaml"
TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> float:
    """'2026-03-02 10:00' in Asia/Shanghai → epoch seconds."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp()


def real_roster() -> Roster:
    return Roster.load(ROSTER_FILE, Orgs.load(ORGS_FILE))


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # a burst of pages must not be refused by the fake itself
    daemon_threads = True


class FakeWeCom:
    """A local stand-in for https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…

    `mode`: "ok" → 200 {"errcode":0}; "500" → HTTP 500; "errcode" → 200 {"errcode":93000}.
    """

    def __init__(self, mode: str = "ok"):
        self.mode = mode
        self.received: list[dict] = []
        self.lock = threading.Lock()
        kit = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with kit.lock:
                    mode = kit.mode
                    if mode == "ok":
                        kit.received.append({"path": self.path, "body": json.loads(body)})
                if mode == "500":
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"internal error")
                    return
                answer = {"errcode": 0, "errmsg": "ok"} if mode == "ok" else {"errcode": 93000, "errmsg": "invalid"}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=test-key"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeWeCom":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def contents(self) -> list[str]:
        with self.lock:
            return [r["body"]["markdown"]["content"] for r in self.received]


class Recorder:
    """An in-process paging channel that records pages (optionally failing)."""

    def __init__(self, name: str = "recorder", fail: bool = False):
        self.name = name
        self.fail = fail
        self.pages = []

    async def notify(self, page) -> None:
        if self.fail:
            raise RuntimeError("channel down")
        self.pages.append(page)

    def of(self, case_id: str) -> list:
        return [p for p in self.pages if p.case_id == case_id]
