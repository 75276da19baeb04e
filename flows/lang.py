"""Languages: simplified Chinese is written; traditional is derived with OpenCC; English where given."""
from __future__ import annotations

import re
from functools import lru_cache

import opencc

_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[A-Za-z]{2,}")
EN_GREETINGS = {"hi", "hello", "hey", "english", "help"}


@lru_cache(maxsize=1)
def _s2t():
    return opencc.OpenCC("s2tw")


@lru_cache(maxsize=1)
def _t2s():
    return opencc.OpenCC("tw2s")


def to_traditional(text: str) -> str:
    return _s2t().convert(text)


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


def detect(text: str) -> str | None:
    """`zh-Hant`, `zh` or `en` when the text clearly shows it, else None (keep the current language)."""
    text = text or ""
    han = _CJK.findall(text)
    if han:
        simplified = to_simplified(text)
        trad_only = sum(1 for a, b in zip(text, simplified) if a != b)
        simp_only = sum(1 for a, b in zip(text, to_traditional(text)) if a != b and _CJK.match(a))
        if trad_only >= 1 and trad_only > simp_only:
            return "zh-Hant"
        if simp_only >= 1 and simp_only > trad_only:
            return "zh"
        return None
    words = _WORD.findall(text)
    if len(words) >= 2 or (len(words) == 1 and words[0].lower() in EN_GREETINGS):
        return "en"
    return None


def localise(text: str, lang: str | None) -> str:
    return to_traditional(text) if lang == "zh-Hant" else text
