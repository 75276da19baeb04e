"""Reading numbered options the way an employee on WeChat does."""
from __future__ import annotations

import re


def choose(reply: str, label_part: str) -> str:
    """The digit of the numbered option whose label contains `label_part`."""
    for m in re.finditer(r"^(\d+)\. (.+)$", reply, re.M):
        if label_part in m.group(2):
            return m.group(1)
    raise AssertionError(f"no option containing {label_part!r} in:\n{reply}")
