"""Run only the gap patterns that can match: an index of the literal text each one needs.

Every compiled pattern is read with Python's own regex parser (``re._parser``) and the most
selective set of literal strings that ANY match must contain is picked (a literal run, or a word
class such as {END}: one of 自杀/跳楼/…). A message is scanned once for those anchors
(nlu/literal_table.py, like the list-cue scanner); only patterns whose anchor occurs are run.
Patterns with no such anchor are always run. This never drops a match — tests compare it with
running every pattern — and keeps the cost flat as editors add patterns.
"""
from __future__ import annotations

import re._constants as C  # noqa: N812
import re._parser as P  # noqa: N812

from nlu.literal_table import LiteralTable

_REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT)}
MAX_CLASS_CHARS = 12


def _better(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """The more selective of two anchor sets: longest shortest string, then fewest strings."""
    if a is None:
        return b
    if b is None:
        return a
    ka, kb = (min(map(len, a)), -len(a)), (min(map(len, b)), -len(b))
    return a if ka >= kb else b


def _item(op, av) -> frozenset[str] | None:
    if op is C.SUBPATTERN:
        return needed(av[3])
    if op is getattr(C, "ATOMIC_GROUP", None):
        return needed(av)
    if op is C.BRANCH:
        out: set[str] = set()
        for alt in av[1]:
            f = needed(alt)
            if f is None:
                return None
            out |= f
        return frozenset(out)
    if op in _REPEATS:
        lo, _hi, body = av
        return needed(body) if lo >= 1 else None
    if op is C.IN:
        if all(o is C.LITERAL for o, _ in av) and len(av) <= MAX_CLASS_CHARS:
            return frozenset(chr(c) for _, c in av)
        return None
    return None  # AT, ASSERT, ASSERT_NOT, ANY, NOT_LITERAL, CATEGORY …: no text required


def needed(seq) -> frozenset[str] | None:
    """The best set of strings one of which every match of this parsed sequence contains."""
    best: frozenset[str] | None = None
    run = ""
    for op, av in seq:
        if op is C.LITERAL:
            run += chr(av)
            continue
        if run:
            best = _better(best, frozenset([run]))
            run = ""
        best = _better(best, _item(op, av))
    if run:
        best = _better(best, frozenset([run]))
    return best


def anchors(pattern: str) -> frozenset[str] | None:
    try:
        return needed(P.parse(pattern))
    except Exception:  # an unusual construct: always run the pattern
        return None


class PatternIndex:
    """``candidates(text)`` → indexes (in the given order) of the patterns worth running."""

    def __init__(self, patterns: list[str]):
        self.always: list[int] = []
        by_anchor: dict[str, list[int]] = {}
        for i, src in enumerate(patterns):
            a = anchors(src)
            if not a or "" in a:
                self.always.append(i)
                continue
            for s in a:
                by_anchor.setdefault(s, []).append(i)
        self._anchors = LiteralTable({s: tuple(ids) for s, ids in by_anchor.items()})
        self.n = len(patterns)

    def candidates(self, text: str) -> list[int]:
        found = set(self.always)
        for _, _, ids in self._anchors.find(text):
            found.update(ids)
        return sorted(found)
