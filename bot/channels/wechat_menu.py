"""The WeChat account menu from config/wechat_menu.yaml: checked, turned into WeChat's menu
JSON for `xinyi wechat menu push`, and the CLICK key → router input map for the channel."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

KEY_RE = re.compile(r"^[A-Z0-9_]{1,64}$")


@dataclass(frozen=True)
class ClickAction:
    label: str
    text: str | None = None
    option: str | None = None


class MenuError(ValueError):
    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Menu:
    wechat_json: dict
    clicks: dict[str, ClickAction]


def _blen(s: str) -> int:
    return len(s.encode("utf-8"))


def load_menu(path: Path, flow_ids: set[str] | None = None) -> Menu:
    doc = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8")) or {}
    errors: list[str] = []
    clicks: dict[str, ClickAction] = {}
    buttons = doc.get("buttons") or []
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        errors.append("buttons: WeChat allows 1 to 3 top-level buttons")
        buttons = buttons[:3] if isinstance(buttons, list) else []

    def leaf(b: dict, where: str, max_name: int) -> dict | None:
        name = str(b.get("name") or "")
        if not name or _blen(name) > max_name:
            errors.append(f"{where}: name must be 1–{max_name} bytes (UTF-8), got {_blen(name)}")
        if "url" in b:
            url = str(b["url"])
            if not url.startswith(("https://", "http://")):
                errors.append(f"{where}: url must start with https://")
            return {"type": "view", "name": name, "url": url}
        key = str(b.get("key") or "")
        if not KEY_RE.match(key):
            errors.append(f"{where}: key must be A-Z, 0-9 or _ (1–64 characters)")
        elif key in clicks:
            errors.append(f"{where}: key {key} is used twice")
        send = b.get("send") or {}
        if not isinstance(send, dict) or len([k for k in ("text", "option") if send.get(k)]) != 1:
            errors.append(f"{where}: send needs exactly one of text or option")
        elif send.get("option") and flow_ids is not None and send["option"] not in flow_ids:
            errors.append(f"{where}: option {send['option']} is not a flow id ({', '.join(sorted(flow_ids))})")
        clicks[key] = ClickAction(name, text=send.get("text") if isinstance(send, dict) else None,
                                  option=send.get("option") if isinstance(send, dict) else None)
        return {"type": "click", "name": name, "key": key}

    out = []
    for i, b in enumerate(buttons, 1):
        where = f"buttons[{i}]"
        if not isinstance(b, dict):
            errors.append(f"{where}: must be a mapping")
            continue
        if "sub" in b:
            subs = b.get("sub") or []
            name = str(b.get("name") or "")
            if not name or _blen(name) > 16:
                errors.append(f"{where}: name must be 1–16 bytes (UTF-8), got {_blen(name)}")
            if not 1 <= len(subs) <= 5:
                errors.append(f"{where}: WeChat allows 1 to 5 sub-buttons")
            out.append({"name": name, "sub_button": [
                leaf(s, f"{where}.sub[{j}]", 60) for j, s in enumerate(subs[:5], 1) if isinstance(s, dict)]})
        else:
            out.append(leaf(b, where, 16))
    if errors:
        raise MenuError(errors)
    return Menu({"button": out}, clicks)
