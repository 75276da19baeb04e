"""`xinyi assess` body: one JSON object per input line, in order (design.md contract)."""
from __future__ import annotations

import json
from typing import Callable, Iterable, TextIO

from nlu.intent import Intent


def run(lines: Iterable[str], out: TextIO, parse: Callable[[str], Intent | None] | None = None,
        assessor=None) -> int:
    """Assess each line and write {"text","risk","category","intent","confidence","signals"}.

    Empty lines still produce an object. ``parse`` (e.g. the Rasa client) may fill the
    intent; it is optional and its failure never stops crisis output. Returns the count.
    """
    if assessor is None:
        from nlu.assess import default_assessor
        assessor = default_assessor()
    n = 0
    for raw in lines:
        text = raw.rstrip("\r\n")
        a = assessor.assess(text)
        intent = None
        if parse is not None and text.strip():
            try:
                intent = parse(text)
            except Exception:  # a down NLU server must not block crisis output
                intent = None
        obj = {"text": text, "risk": a.risk.name, "category": a.category,
               "intent": intent.name if intent is not None else None,
               "confidence": float(intent.confidence) if intent is not None else None,
               "signals": list(a.signals)}
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        out.flush()
        n += 1
    return n
