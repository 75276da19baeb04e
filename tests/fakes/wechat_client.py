"""Builds requests exactly as WeChat's servers send them to an official account's server URL:
query `signature`/`timestamp`/`nonce`/`openid` (and `encrypt_type=aes` + `msg_signature` in safe
mode, the body encrypted with wechatpy's WeChatCrypto), XML bodies of every message/event type."""
from __future__ import annotations

import secrets
import time

import httpx
import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

ACCOUNT = "gh_xinyi_test"


def sign(*parts: str) -> str:
    s = WeChatSigner()
    s.add_data(*parts)
    return s.signature


def message_xml(openid: str, msg_type: str, create_time: int | None = None, msg_id: int | None = None,
                **fields) -> str:
    parts = [f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>",
             f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
             f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
             f"<MsgType><![CDATA[{msg_type}]]></MsgType>"]
    for k, v in fields.items():
        parts.append(f"<{k}>{v}</{k}>" if isinstance(v, (int, float)) else f"<{k}><![CDATA[{v}]]></{k}>")
    if msg_type != "event":
        parts.append(f"<MsgId>{msg_id or secrets.randbelow(10**15) + 10**15}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


class WeChatSender:
    """Plays WeChat's side of the server URL: signs (and in safe mode encrypts) each request."""

    def __init__(self, url: str, token: str, aes_key: str | None = None, appid: str = "wx_test_appid",
                 client: httpx.Client | None = None):
        self.url = url.rstrip("/") + "/wechat"
        self.token = token
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None
        self.http = client or httpx.Client(timeout=10)

    def params(self, openid: str, timestamp: int | None = None) -> dict:
        ts, nonce = str(timestamp or int(time.time())), str(secrets.randbelow(10**9))
        return {"signature": sign(self.token, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": openid}

    def post_xml(self, xml: str, openid: str = "", timestamp: int | None = None, params: dict | None = None):
        q = params or self.params(openid, timestamp)
        body = xml
        if self.crypto is not None:
            enc = xmltodict.parse(self.crypto.encrypt_message(xml, q["nonce"], q["timestamp"]))["xml"]
            q = {**q, "encrypt_type": "aes", "msg_signature": enc["MsgSignature"]}
            body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{enc['Encrypt']}]]></Encrypt></xml>"
        return self.http.post(self.url, params=q, content=body.encode("utf-8"),
                              headers={"content-type": "text/xml"}), q

    def send(self, openid: str, msg_type: str = "text", **kw) -> httpx.Response:
        xml = message_xml(openid, msg_type, **kw)
        return self.post_xml(xml, openid)[0]

    def reply_text(self, resp: httpx.Response, q: dict | None = None) -> str | None:
        """The text of a passive reply (decrypted and its signature checked in safe mode), None for `success`."""
        assert resp.status_code == 200, (resp.status_code, resp.text)
        if resp.text in ("success", ""):
            return None
        doc = xmltodict.parse(resp.text)["xml"]
        if self.crypto is not None:
            assert sign(self.token, doc["TimeStamp"], doc["Nonce"], doc["Encrypt"]) == doc["MsgSignature"]
            inner = self.crypto.decrypt_message(resp.text, doc["MsgSignature"], doc["TimeStamp"], doc["Nonce"])
            doc = xmltodict.parse(inner)["xml"]
        assert doc["MsgType"] == "text" and doc["FromUserName"] == ACCOUNT
        return doc["Content"]

    def say(self, openid: str, text: str) -> str | None:
        return self.reply_text(self.send(openid, "text", Content=text))
