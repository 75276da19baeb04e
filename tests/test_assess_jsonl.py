import io
import json

from nlu.assess_jsonl import run
from nlu.intent import Intent

KEYS = ["text", "risk", "category", "intent", "confidence", "signals"]


def _run(lines, parse=None):
    out = io.StringIO()
    n = run(lines, out, parse)
    rows = [json.loads(l) for l in out.getvalue().splitlines()]
    assert n == len(rows)
    return out.getvalue(), rows


def test_shape_order_unicode_and_empty_line():
    raw, rows = _run(["我想自杀\n", "\n", "今天加班累死了\n"])
    assert [r["text"] for r in rows] == ["我想自杀", "", "今天加班累死了"]
    assert all(list(r) == KEYS for r in rows)
    assert rows[0]["risk"] in ("high", "imminent") and rows[0]["category"] == "self"
    assert rows[1]["risk"] == "none" and rows[1]["signals"] == []
    assert rows[2]["risk"] in ("none", "low")
    assert rows[0]["intent"] is None and rows[0]["confidence"] is None
    assert "我想自杀" in raw  # ensure_ascii=False


def test_parse_callable_fills_intent_and_failure_is_tolerated():
    _, rows = _run(["你好", "我想预约咨询"], parse=lambda t: Intent("greet", 0.93) if t == "你好" else None)
    assert rows[0]["intent"] == "greet" and rows[0]["confidence"] == 0.93
    assert rows[1]["intent"] is None

    def boom(t):
        raise ConnectionError("rasa down")
    _, rows = _run(["我想自杀"], parse=boom)
    assert rows[0]["risk"] in ("high", "imminent") and rows[0]["intent"] is None
