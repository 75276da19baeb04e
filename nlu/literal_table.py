"""Find every occurrence of many literal strings in a text: a table keyed by first character, then
by length, so each position of the text costs one dict look-up per distinct length (a handful)
instead of a ``startswith`` per string (hundreds for common characters such as 不 or 我).
Used by the list-cue scanner (nlu/assess.py) and the gap-pattern index (nlu/pattern_index.py).
"""
from __future__ import annotations

from typing import Generic, Iterator, TypeVar

V = TypeVar("V")


class LiteralTable(Generic[V]):
    def __init__(self, values: dict[str, V]):
        """``values``: each literal string (non-empty) → what a match of it yields."""
        table: dict[str, dict[int, dict[str, V]]] = {}
        for s, v in values.items():
            table.setdefault(s[0], {}).setdefault(len(s), {})[s] = v
        # longest first at each position
        self._table = {ch: tuple(sorted(by_len.items(), key=lambda t: -t[0])) for ch, by_len in table.items()}
        self.first = frozenset(table)

    def find(self, text: str) -> Iterator[tuple[int, int, V]]:
        """(start, end, value) of every occurrence, by start, the longest first at the same start."""
        table = self._table
        for i, ch in enumerate(text):
            by_len = table.get(ch)
            if by_len is None:
                continue
            for n, strings in by_len:
                v = strings.get(text[i:i + n])
                if v is not None:
                    yield i, i + n, v
