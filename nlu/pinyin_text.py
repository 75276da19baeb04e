"""Read toneless pinyin typed instead of characters (wo bu xiang huo le → 我不想活了).

A run of latin words is read as pinyin only when every word splits into valid syllables
(pypinyin's syllable table) and either at least one crisis-lexicon word of two or more syllables is
found in the message, or the message read that way carries a risk cue (the Assessor's prefilter)
that it does not carry as typed (wo xiang si le: 想死 is a pattern, not one word), so English
(``i'm on the bridge``) and ordinary pinyin chat (``ni hao``, ``wo xiang qu shang ban``) stay as
they are. Words are matched longest first against the lexicon's own words (their pinyin
from pypinyin) and a short list of everyday words; a syllable left over becomes its most
common character in this kind of talk, or stays latin. Tone marks and ü are folded first.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Callable

from pypinyin import Style, lazy_pinyin
from pypinyin.pinyin_dict import pinyin_dict

# everyday words that carry the sentence around a cue (their pinyin is computed, not typed)
EVERYDAY_WORDS = ("已经", "现在", "今晚", "今天", "明天", "马上", "真的", "不想", "没有", "什么", "怎么", "意思",
                  "活着", "没意思", "自己", "一个", "准备", "打算", "好多", "吃药", "吃了药", "喝药", "药",
                  "窗户", "阳台", "楼顶", "天台", "跳下去", "消失", "太累了", "好累", "再见", "对不起",
                  "我们", "你们", "他们", "大家", "不要", "不会", "一起", "认真", "这次")
# the character a lone syllable most likely stands for in this kind of message
SINGLE = {"wo": "我", "ni": "你", "ta": "他", "zai": "在", "le": "了", "xiang": "想", "bu": "不", "yao": "要",
          "si": "死", "huo": "活", "jiu": "就", "qu": "去", "chi": "吃", "he": "喝", "tiao": "跳", "lou": "楼",
          "shang": "上", "xia": "下", "hao": "好", "zhen": "真", "de": "的", "shi": "是", "mei": "没",
          "you": "有", "lei": "累", "ku": "哭", "zou": "走", "dao": "刀", "sha": "杀", "ba": "吧", "a": "啊",
          "ma": "吗", "ne": "呢", "ge": "个", "yi": "一", "jian": "见", "gei": "给", "dou": "都"}
MAX_WORD = 6
_RUN = re.compile(r"(?<![a-z0-9'])[a-z0-9]+(?:[ ']+[a-z0-9]+)*(?![a-z0-9'])")
_MEDICINE_AFTER = "吃喝吞服了"  # yao after these is 药, not 要
_FOLD = {"ü": "v", "ǖ": "v", "ǘ": "v", "ǚ": "v", "ǜ": "v"}


@lru_cache(maxsize=1)
def syllables() -> frozenset[str]:
    out = set()
    for readings in pinyin_dict.values():
        for p in readings.split(","):
            out.add(fold_tones(p))
    out.discard("")
    return frozenset(s for s in out if s.isascii() and s.isalpha())


def fold_tones(text: str) -> str:
    """ǒ → o, ü → v; other characters untouched."""
    if text.isascii():
        return text
    out = []
    for ch in text:
        if ch in _FOLD:
            out.append(_FOLD[ch])
        elif "\u00c0" <= ch <= "\u024f" or "\u1e00" <= ch <= "\u1eff":
            out.append("".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)))
        else:
            out.append(ch)
    return "".join(out)


def split_syllables(word: str, table: frozenset[str]) -> list[str] | None:
    """Fewest-syllables split of one latin word, or None if it is not pinyin."""
    n = len(word)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        if best[i] is None:
            continue
        for j in range(min(n, i + 6), i, -1):
            if word[i:j] in table and (best[j] is None or len(best[j]) > len(best[i]) + 1):
                best[j] = best[i] + [word[i:j]]
    return best[n]


class PinyinReader:
    def __init__(self, cue_words: list[str], other_words: list[str] = ()):
        """cue_words: risk-bearing lexicon words (one of them makes a message read as pinyin);
        other_words: lexicon words that only help reading (times, subjects, negations)."""
        self.table = syllables()
        self.crisis: dict[tuple[str, ...], str] = {}
        self.words: dict[tuple[str, ...], str] = {}
        chinese = lambda w: len(w) >= 2 and all("\u4e00" <= c <= "\u9fff" for c in w)  # noqa: E731
        for w in filter(chinese, cue_words):
            self.crisis.setdefault(self._key(w), w)
        for w in [*EVERYDAY_WORDS, *filter(chinese, other_words)]:
            self.words.setdefault(self._key(w), w)
        self.words.update(self.crisis)

    @staticmethod
    def _key(word: str) -> tuple[str, ...]:
        return tuple(lazy_pinyin(word, style=Style.NORMAL, v_to_u=False))

    def __call__(self, text: str, risky: Callable[[str], bool] | None = None) -> str:
        """``text`` lowercased and half-width; runs of pinyin are replaced by characters.

        Without a crisis word among them, the runs are still read when ``risky`` says the text
        read that way carries a risk cue that the text as typed does not (jin wan jiu zou →
        今晚就走: no single crisis word, but a time and a going-away cue).
        """
        if not any("a" <= c <= "z" for c in text):
            return text
        read = {}
        for m in _RUN.finditer(text):
            r = self._read_run(m.group(0))
            if r is not None:
                read[m.group(0)] = r
        if not read:
            return text
        out = _RUN.sub(lambda m: read[m.group(0)][0] if m.group(0) in read else m.group(0), text)
        if any(found for _, found in read.values()):
            return out
        return out if risky is not None and risky(out) and not risky(text) else text

    def _read_run(self, run: str) -> tuple[str, bool] | None:
        """(characters, whether a crisis word was found), or None when the run is not pinyin."""
        syl: list[str] = []
        for word in re.split(r"[ ']+", run):
            if word.isdigit():
                syl.append(word)
                continue
            parts = split_syllables(word, self.table)
            if parts is None:
                return None
            syl += parts
        if not any(not s.isdigit() for s in syl):
            return None
        out, i, found = [], 0, False
        while i < len(syl):
            for j in range(min(len(syl), i + MAX_WORD), i + 1, -1):
                w = self.words.get(tuple(syl[i:j]))
                if w is not None:
                    out.append(w)
                    found = found or tuple(syl[i:j]) in self.crisis
                    i = j
                    break
            else:
                s = syl[i]
                if s == "yao" and out and out[-1][-1] in _MEDICINE_AFTER:
                    out.append("药")
                else:
                    out.append(SINGLE.get(s, s))
                i += 1
        return "".join(out), found
