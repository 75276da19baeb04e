"""A fake of WeChat's server API (api.weixin.qq.com/cgi-bin/) on loopback.

Speaks the parts Xinyi uses — token, message/custom/send, menu/create, menu/get — with
WeChat's JSON shapes and errcodes, and lets a test expire the token or make a user
unreachable (45015 window closed, 43004 unsubscribed).
"""
from __future__ import annotations

import itertools
import json
import threading

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.fakes.server import ThreadServer, wait_until


class FakeWeChatAPI(ThreadServer):
    def __init__(self, appid: str = "wx_test_appid", secret: str = "wx-test-secret"):
        self.appid, self.secret = appid, secret
        self.lock = threading.Lock()
        self.token: str | None = None
        self.token_fetches = 0
        self.sent: list[dict] = []            # customer-service messages received
        self.menus: list[dict] = []
        self.errors: dict[str, int] = {}      # openid → errcode to answer
        self.fail_next: list[int] = []        # errcodes for the next sends, whoever they are for
        self.reject_tokens = False            # refuse every token (40001)
        self._seq = itertools.count(1)
        super().__init__(self._app())

    @property
    def base_url(self) -> str:
        return f"{self.url}/cgi-bin/"

    def expire_token(self) -> None:
        """WeChat invalidated the token (expired early, or another fetch replaced it)."""
        with self.lock:
            self.token = f"revoked-{next(self._seq)}"

    def texts_to(self, openid: str) -> list[str]:
        with self.lock:
            return [m["text"]["content"] for m in self.sent if m.get("touser") == openid]

    def wait_texts(self, openid: str, n: int, timeout: float = 5.0) -> list[str]:
        wait_until(lambda: len(self.texts_to(openid)) >= n, timeout)
        return self.texts_to(openid)

    def _app(self) -> FastAPI:
        app = FastAPI()

        def token_error(token):
            if self.reject_tokens:
                return JSONResponse({"errcode": 40001, "errmsg": "invalid credential [fake]"})
            if token != self.token:
                code = 42001 if token and token.startswith("TOKEN") else 40001
                return JSONResponse({"errcode": code, "errmsg": "access_token expired hint: [fake]"})
            return None

        @app.get("/cgi-bin/token")
        async def token(grant_type: str = "", appid: str = "", secret: str = ""):
            if grant_type != "client_credential" or appid != self.appid or secret != self.secret:
                return JSONResponse({"errcode": 40125, "errmsg": "invalid appsecret"})
            with self.lock:
                self.token_fetches += 1
                self.token = f"TOKEN{next(self._seq)}"
                return {"access_token": self.token, "expires_in": 7200}

        @app.post("/cgi-bin/message/custom/send")
        async def custom_send(request: Request, access_token: str = ""):
            err = token_error(access_token)
            if err:
                return err
            body = json.loads(await request.body())
            with self.lock:
                code = self.fail_next.pop(0) if self.fail_next else self.errors.get(body.get("touser", ""))
                if code:
                    return JSONResponse({"errcode": code, "errmsg": f"fake error {code}"})
                self.sent.append(body)
            return {"errcode": 0, "errmsg": "ok"}

        @app.post("/cgi-bin/menu/create")
        async def menu_create(request: Request, access_token: str = ""):
            err = token_error(access_token)
            if err:
                return err
            menu = json.loads(await request.body())
            if len(menu.get("button", [])) > 3:
                return JSONResponse({"errcode": 40016, "errmsg": "invalid button size"})
            with self.lock:
                self.menus.append(menu)
            return {"errcode": 0, "errmsg": "ok"}

        @app.get("/cgi-bin/menu/get")
        async def menu_get(access_token: str = ""):
            err = token_error(access_token)
            if err:
                return err
            with self.lock:
                if not self.menus:
                    return JSONResponse({"errcode": 46003, "errmsg": "menu no exist"})
                return {"menu": self.menus[-1]}

        return app
