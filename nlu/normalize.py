"""Text normalisation for crisis matching (callers keep the original for display).

Steps, in order: strip zero-width/variation/combining marks → risk emoji to words
(nlu/lexicon/emoji.yaml) and other emoji dropped → traditional→simplified (OpenCC
``tw2s``, which also turns 著→着, with 么 kept) → NFKC (full-width → half-width) →
lowercase → remove spaces/dots/dashes inserted between CJK characters and spaced-out
letters → collapse runs of 3+ identical characters → tone marks folded and runs of pinyin read
as characters where they spell a lexicon word (nlu/pinyin_text.py) → homophone slang and pinyin
(nlu/lexicon/slang.yaml; latin keys only as whole words).

``with_breaks`` also says where the writer typed a space between two runs of Chinese (removed for
matching like any inserted separator): the rules do not let a negation reach across one.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Callable

import opencc

from nlu.lexicon_load import RISK_CUE_KINDS, Lexicon, load
from nlu.pinyin_text import PinyinReader, fold_tones

_ZERO_WIDTH = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f\u202a-\u202e"
                         "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\u0300-\u036f\u20d0-\u20ff"
                         "\U000e0000-\U000e007f\U0001f3fb-\U0001f3ff]")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# separators people insert inside a word: spaces, dots, dashes, stars, slashes, tildes …
_SEP = r"[\s\.\-_\*~·•/\\|\+=\^`'\"…。，,、#@&%$!！?？:：;；]"
_INSERTED = re.compile(rf"(?<=[{_CJK}a-z0-9])(?:[\s\.\-_\*~·•/\\|\+=\^`'\"#@&%$]|\s)+(?=[{_CJK}])"
                       rf"|(?<=[{_CJK}])(?:[\s\.\-_\*~·•/\\|\+=\^`'\"#@&%$])+(?=[a-z0-9])")
# 自，杀 / 不。想。活: sentence punctuation between single isolated CJK characters
_SPACED_RUN = re.compile(rf"(?:^|(?<={_SEP}))[{_CJK}](?:{_SEP}+[{_CJK}](?={_SEP}|$)){{1,}}")
_SPACED_LATIN = re.compile(r"(?<![a-z])[a-z](?:[\s\.\-_\*]+[a-z](?![a-z])){3,}")
_REPEAT_CJK = re.compile(rf"([{_CJK}])\1{{2,}}")
# a space between two runs of two or more CJK characters: a clause break the writer typed
# (包工头跑了 老婆天天打电话问), removed for matching like every inserted separator, but remembered
_SOFT_BREAK = re.compile(rf"(?<=[{_CJK}]{{2}})[ \u3000\t]+(?=[{_CJK}]{{2}})")
_MARK = "\ue000"  # a private-use character: no step of the normaliser touches it
_REPEAT_LATIN = re.compile(r"([a-z])\1{2,}")
_REPEAT_PUNCT = re.compile(r"([^\w\s])\1{2,}")


def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    return (0x1F000 <= cp <= 0x1FAFF) or (0x2600 <= cp <= 0x27BF) or (0x2B00 <= cp <= 0x2BFF)


class Normalizer:
    def __init__(self, lexicon: Lexicon):
        self._cc = opencc.OpenCC("tw2s")
        # set by the Assessor: does a normalised text carry a risk cue? (decides whether pinyin
        # runs without a crisis word are read as characters)
        self.risky: Callable[[str], bool] | None = None
        cue = [e.kind in RISK_CUE_KINDS for e in lexicon.entries]  # their words, in pinyin, make a run read
        self._pinyin = PinyinReader([v for e, c in zip(lexicon.entries, cue) if c for v in e.variants]
                                    + [str(s["from"]) for s in lexicon.slang],
                                    [v for e, c in zip(lexicon.entries, cue) if not c for v in e.variants])
        self._emoji = {}
        for e in lexicon.emoji:
            key = _ZERO_WIDTH.sub("", str(e["emoji"]))
            self._emoji[key] = str(e["to"])
        keys = sorted(self._emoji, key=len, reverse=True)
        self._emoji_re = re.compile("|".join(map(re.escape, keys))) if keys else None
        # slang: longest first; exceptions map to themselves so 紫砂壶 wins over 紫砂
        table: dict[str, str] = {}
        for s in lexicon.slang:
            src = self._base(str(s["from"]))
            table[src] = str(s["to"])
            for ex in s.get("except") or []:
                table.setdefault(self._base(str(ex)), self._base(str(ex)))
        self._slang = table
        cjk_keys = sorted((k for k in table if not re.fullmatch(r"[a-z0-9 ]+", k)), key=len, reverse=True)
        lat_keys = sorted((k for k in table if re.fullmatch(r"[a-z0-9 ]+", k)), key=len, reverse=True)
        parts = [re.escape(k) for k in cjk_keys]
        parts += [rf"(?<![a-z]){re.escape(k)}(?![a-z])" for k in lat_keys]
        self._slang_re = re.compile("|".join(parts)) if parts else None

    def _base(self, text: str) -> str:
        """Everything except slang replacement (also used to normalise slang keys)."""
        if not text:
            return ""
        text = _ZERO_WIDTH.sub("", text)
        if self._emoji_re is not None and any(_is_emoji(c) for c in text):
            text = self._emoji_re.sub(lambda m: self._emoji[m.group(0)], text)
            text = "".join(c for c in text if not _is_emoji(c))
        if not text.isascii():
            conv = self._cc.convert(text)
            if "么" in text and len(conv) == len(text):  # tw2s turns 么 into 幺
                conv = "".join(o if o == "么" else c for o, c in zip(text, conv))
            text = unicodedata.normalize("NFKC", conv)
        text = fold_tones(text.lower())
        if not text.isascii():
            text = _SPACED_RUN.sub(lambda m: re.sub(_SEP, "", m.group(0)), text)
            text = _INSERTED.sub("", text)
            text = _REPEAT_CJK.sub(r"\1", text)
        text = _SPACED_LATIN.sub(lambda m: re.sub(r"[\s\.\-_\*]", "", m.group(0)), text)
        text = _REPEAT_LATIN.sub(r"\1\1", text)
        text = _REPEAT_PUNCT.sub(r"\1", text)
        return self._pinyin(text, self._risky_read if self.risky is not None else None).strip()

    def _risky_read(self, text: str) -> bool:
        return self.risky(self._slang_sub(text.strip()))

    def _slang_sub(self, text: str) -> str:
        if self._slang_re is not None and text:
            text = self._slang_re.sub(lambda m: self._slang[m.group(0)], text)
        return text

    def __call__(self, text: str) -> str:
        return self._slang_sub(self._base(text))

    def with_breaks(self, text: str) -> tuple[str, tuple[int, ...]]:
        """The normalised text and the positions in it where the writer's spaces between two runs
        of Chinese were (soft clause breaks: the text has no character there). () when there are
        none, or when marking them would change the normalised text (a cue spanning the space)."""
        norm = self(text)
        if not text or not _SOFT_BREAK.search(text):
            return norm, ()
        marked = self(_SOFT_BREAK.sub(_MARK, text))
        breaks, out = [], []
        for ch in marked:
            if ch == _MARK:
                breaks.append(len(out))
            else:
                out.append(ch)
        if "".join(out) != norm:
            return norm, ()
        return norm, tuple(sorted(set(b for b in breaks if 0 < b < len(norm))))


@lru_cache(maxsize=1)
def default_normalizer() -> Normalizer:
    return Normalizer(load())


def normalize(text: str) -> str:
    """Normalised form of ``text`` for matching; never for display."""
    return default_normalizer()(text)
