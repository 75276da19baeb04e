"""Assess latency: µs per message p50/p99 and messages/s over a realistic mix.

Mix: ~85 % benign union-employee messages, ~10 % distress/hyperbole, ~5 % crisis.
Compares the learned raise-only model (nlu/crisis_model.py) on and off, and the full path (normalise + prefilter + spaCy layer) with the prefilter /
substring layer only (Assessor(use_spacy=False)). Run: python bench/bench_assess.py
"""
from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlu.assess import Assessor  # noqa: E402

BENIGN = ["你好", "我想预约心理咨询", "工会的热线电话是多少", "谢谢你", "怎么做抑郁测评", "周末有活动吗",
          "我想了解一下睡眠的自助内容", "可以转人工吗", "我的信息会保密吗", "1", "2", "好的",
          "今天天气怎么样", "请问咨询要钱吗", "我和同事关系处理不好怎么办", "想学点正念放松的方法",
          "孩子不听话我该怎么沟通", "职业规划可以咨询吗", "再见", "Hello, can I book a session?"]
DISTRESS = ["今天加班累死了", "最近压力好大，睡不着", "被老板气死了", "笑死我了", "电脑死机了，想死的心都有了",
            "失眠一个月了，很崩溃", "活着好累"]
CRISIS = ["我想自杀", "我今晚就去跳楼", "不 想 活 了", "好想紫砂", "安眠藥已經吃了", "我同事说他想死", "i want to kill myself"]


def mix(n: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        r = rnd.random()
        pool = BENIGN if r < 0.85 else DISTRESS if r < 0.95 else CRISIS
        out.append(rnd.choice(pool))
    return out


def bench(assessor: Assessor, msgs: list[str]) -> dict:
    for m in msgs[:200]:
        assessor.assess(m)  # warm up
    times = []
    t_all = time.perf_counter()
    for m in msgs:
        t0 = time.perf_counter_ns()
        assessor.assess(m)
        times.append((time.perf_counter_ns() - t0) / 1000)
    total = time.perf_counter() - t_all
    times.sort()
    return {"p50": statistics.median(times), "p99": times[int(len(times) * 0.99) - 1],
            "mean": statistics.fmean(times), "msg_s": len(msgs) / total}


def main() -> int:
    msgs = mix(20000)
    full, sub = Assessor(use_spacy=True), Assessor(use_spacy=False)
    crisis_only = [m for m in msgs if m in CRISIS or m in DISTRESS] or CRISIS
    with_model, without = Assessor(use_spacy=True, model=True), Assessor(use_spacy=True, model=False)
    rows = [("prefilter + spaCy (mix)", bench(full, msgs)), ("prefilter only (mix)", bench(sub, msgs)),
            ("prefilter + spaCy (flagged msgs)", bench(full, crisis_only * 10)),
            ("prefilter only (flagged msgs)", bench(sub, crisis_only * 10)),
            ("rules + learned model (mix)", bench(with_model, msgs)),
            ("rules, no model (mix)", bench(without, msgs)),
            ("rules + learned model (flagged)", bench(with_model, crisis_only * 10)),
            ("rules, no model (flagged)", bench(without, crisis_only * 10))]
    for name, r in rows:
        print(f"{name:34s} p50 {r['p50']:7.1f} µs  p99 {r['p99']:7.1f} µs  mean {r['mean']:6.1f} µs  {r['msg_s']:9.0f} msg/s")
    print(f"ratio spaCy/prefilter-only p50 (mix): {rows[0][1]['p50'] / rows[1][1]['p50']:.2f}x, "
          f"(flagged): {rows[2][1]['p50'] / rows[3][1]['p50']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
