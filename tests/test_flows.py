"""The flow format, checker, engine and hot reload (no Redis: pure functions over YAML)."""
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.settings import ROOT
from flows.engine import Engine, FlowState
from flows.loader import FlowLoadError, load_flows
from flows.registry import FlowRegistry

CONTENT = ROOT / "flows" / "content"
CTX = {"hotlines": "· 全国心理援助热线：12356", "emergency": "110 / 120",
       "lists": {"slots": [("周二 14:00-15:00（6月3日）", "2026-06-03T14:00")]}}
TOPICS = {"情绪管理": "self_help_emotions", "认知调整": "self_help_thinking", "压力应对": "self_help_stress",
          "人际关系": "self_help_relationships", "职业规划": "self_help_career", "家庭关系": "self_help_family",
          "睡眠": "self_help_sleep", "正念放松": "self_help_mindfulness"}


def test_shipped_content_loads_and_every_flow_runs_to_a_question_or_end():
    flows = load_flows(CONTENT)
    engine = Engine(flows)
    for flow_id in flows:
        turn = engine.start(flow_id, CTX)
        assert turn.says, flow_id
        assert turn.state is None or engine.step_of(turn.state).waits
        if turn.state is not None and not engine.step_of(turn.state).input:
            assert turn.says[-1].options, flow_id


def test_the_library_has_all_eight_topics_each_with_an_exercise_and_a_way_to_a_person():
    flows = load_flows(CONTENT)
    engine = Engine(flows)
    for topic, flow_id in TOPICS.items():
        assert engine.flow_for_intent("self_help", {"topic": topic}) == flow_id
        flow = flows[flow_id]
        jumps = {c.jump for s in flow.steps.values() for c in s.options} | {s.jump for s in flow.steps.values()}
        assert "talk_to_human" in jumps or "booking" in jumps, flow_id
        assert "satisfaction" in jumps, flow_id
    assert engine.flow_for_intent("self_help", {}) == "self_help"
    assert engine.flow_for_intent("screening", {"scale": "phq9"}) == "phq9"
    assert engine.flow_for_intent("screening", {"scale": "gad7"}) == "gad7"
    assert engine.flow_for_intent("screening", {}) == "screening"


def test_answers_by_digit_label_value_and_traditional_label():
    engine = Engine(load_flows(CONTENT))
    state = FlowState("main_menu", "menu")
    for answer, value in (("4", None), ("热线与服务信息", None), ("熱線與服務信息", None), ("", "hotline")):
        turn = engine.answer(state, answer, value, CTX)
        assert turn is not None and "12356" in turn.says[0].text, answer
    assert engine.answer(state, "99", None, CTX) is None
    assert engine.answer(state, "随便说说", None, CTX) is None


def test_consent_choice_yields_its_action():
    engine = Engine(load_flows(CONTENT))
    turn = engine.answer(FlowState("welcome", "consent"), "不同意", None, CTX)
    assert turn.action_names == ["consent_no"] and turn.state == FlowState("main_menu", "menu")


def test_traditional_is_derived_and_english_is_used_where_given():
    engine = Engine(load_flows(CONTENT))
    trad = engine.start("hotline", CTX, lang="zh-Hant")
    assert "這些電話隨時可以打" in trad.says[0].text
    en = engine.start("welcome", CTX, lang="en")
    assert en.says[0].text.startswith("Hello") and [o[0] for o in en.says[-1].options] == ["I agree", "I do not agree"]
    assert engine.answer(FlowState("welcome", "consent"), "I agree", None, CTX).action_names == ["consent_yes"]


def test_scores_accumulate_and_bands_are_named():
    engine = Engine(load_flows(CONTENT))
    turn = engine.start("phq9", CTX)
    for _ in range(2):
        turn = engine.answer(turn.state, "3", None, CTX, turn.vars)   # 一半以上的天数 = 2
    assert turn.vars["phq2"] == 4 and turn.state.step == "q3"
    score = engine.scores["phq9"]
    edges = {0: "minimal", 4: "minimal", 5: "mild", 9: "mild", 10: "moderate", 14: "moderate",
             15: "moderately_severe", 19: "moderately_severe", 20: "severe", 27: "severe"}
    assert {v: score.band(v).id for v in edges} == edges
    gad = engine.scores["gad7"]
    assert {v: gad.band(v).id for v in (0, 4, 5, 9, 10, 14, 15, 21)} == {
        0: "minimal", 4: "minimal", 5: "mild", 9: "mild", 10: "moderate", 14: "moderate", 15: "severe", 21: "severe"}


def test_free_text_input_checks_its_pattern():
    engine = Engine(load_flows(CONTENT))
    state = FlowState("booking", "phone")
    assert engine.answer(state, "不知道", None, CTX, {"contact": "phone"}) is None
    turn = engine.answer(state, "13812345678", None, CTX, {"contact": "phone", "slot_label": "周二"})
    assert turn.vars["phone"] == "13812345678" and turn.state.step == "confirm"
    assert "手机号好像不太对" in engine.prompt(state, CTX).text


# -- the checker -----------------------------------------------------------------------------------------------

MINIMAL = ("flow: welcome\nstart: s\nsteps:\n  s:\n    say: hi\n    jump: main_menu\n",
           "flow: main_menu\nstart: m\nsteps:\n  m:\n    say: menu\n    end: true\n")


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def errors_of(tmp_path, text: str) -> str:
    write(tmp_path, "welcome.yaml", MINIMAL[0])
    write(tmp_path, "main_menu.yaml", MINIMAL[1])
    write(tmp_path, "a.yaml", text)
    with pytest.raises(FlowLoadError) as exc:
        load_flows(tmp_path)
    return str(exc.value)


def test_broken_yaml_is_reported_with_line_and_column(tmp_path):
    write(tmp_path, "a.yaml", "flow: a\nstart: s\nsteps:\n  s:\n    say: [unclosed\n")
    with pytest.raises(FlowLoadError) as exc:
        load_flows(tmp_path)
    err = exc.value.errors[0]
    assert err.where.file.endswith("a.yaml") and err.where.line >= 5 and "YAML" in err.message


def test_unknown_references_and_dead_ends_are_reported_where_written(tmp_path):
    text = errors_of(tmp_path, "flow: a\nstart: s\nsteps:\n  s:\n    say: hi\n    options:\n"
                               "      - {label: x, next: nowhere}\n      - {label: y, jump: nosuchflow}\n"
                               "      - {label: z, next: t}\n  t:\n    say: dead end\n")
    assert "a.yaml:7:" in text and "no step `nowhere`" in text
    assert "a.yaml:8:" in text and "no flow `nosuchflow`" in text
    assert "a.yaml:10:" in text and "leads nowhere" in text


def test_unreachable_steps_unknown_fields_actions_and_names(tmp_path):
    text = errors_of(tmp_path, "flow: a\nstart: s\nsteps:\n  s:\n    say: 你好 {{ nosuchname }}\n    end: true\n"
                               "    colour: red\n    action: fly\n  lonely:\n    say: 没人来\n    end: true\n")
    assert "a.yaml:9:" in text and "unreachable step" in text
    assert "a.yaml:7:" in text and "`colour`" in text
    assert "a.yaml:8:" in text and "`fly`" in text
    assert "unknown name `nosuchname`" in text


def test_missing_translations_are_reported(tmp_path):
    text = errors_of(tmp_path, "flow: a\nlanguages: [zh, en]\ntitle: A\ntitle_en: A\nstart: s\nsteps:\n"
                               "  s:\n    say: 你好\n    options:\n      - {label: 好, label_en: OK, next: t}\n"
                               "      - {label: 不好, next: t}\n  t:\n    say: 再见\n    say_en: Bye\n    end: true\n")
    assert "a.yaml:8:" in text and "missing English translation" in text
    assert "a.yaml:11:" in text and text.count("missing English") == 2


SCORED = """flow: a
start: q1
answers:
  yn:
    - {label: 否, score: 0}
    - {label: 是, score: 1}
scores:
  total:
    range: [0, %s]
    bands:
%s
steps:
  q1:
    say: 一
    options: yn
    score: total
    next: q2
  q2:
    say: 二
    options: yn
    score: total
    next: check
  check:
    branch:
      - {if: total >= 1, next: high}
      - next: low
  high:
    say: "{{ total }} {{ total_band }}"
    end: true
  low:
    say: 低
    end: true
"""


def test_score_ranges_must_match_the_questions_and_bands_must_tile_them(tmp_path):
    good = "      - {range: [0, 0], id: none, label: 无}\n      - {range: [1, 2], id: some, label: 有}"
    write(tmp_path, "welcome.yaml", MINIMAL[0])
    write(tmp_path, "main_menu.yaml", MINIMAL[1])
    write(tmp_path, "a.yaml", SCORED % (2, good))
    flows = load_flows(tmp_path)
    engine = Engine(flows)
    turn = engine.start("a", {})
    turn = engine.answer(turn.state, "是", None, {}, turn.vars)
    turn = engine.answer(turn.state, "是", None, {}, turn.vars)
    assert turn.says[-1].text == "2 有"
    text = errors_of(tmp_path, SCORED % (3, "      - {range: [0, 1], id: none, label: 无}\n"
                                           "      - {range: [1, 2], id: some, label: 有}"))
    assert "0–3" in text and "0–2" in text and "score range does not match" in text
    assert "overlap" in text and "a.yaml:12:" in text
    assert "bands must reach the highest score" in text
    text = errors_of(tmp_path, SCORED % (2, "      - {range: [0, 0], id: none, label: 无}\n"
                                           "      - {range: [2, 2], id: some, label: 有}"))
    assert "gap" in text


def test_bad_conditions_and_unknown_answer_sets_are_reported(tmp_path):
    text = errors_of(tmp_path, "flow: a\nstart: s\nsteps:\n  s:\n    say: 问\n    options: nosuchset\n    next: b\n"
                               "  b:\n    branch:\n      - {if: 'x >>= 1', next: s}\n      - {if: y > 1, next: s}\n")
    assert "a.yaml:6:" in text and "nosuchset" in text
    assert "a.yaml:10:" in text and "条件" in text
    assert "otherwise case" in text


def test_xinyi_flows_check_exits_non_zero_on_errors_and_zero_on_the_shipped_content(tmp_path):
    write(tmp_path, "a.yaml", "flow: a\nstart: s\nsteps:\n  s:\n    say: [unclosed\n")
    bad = subprocess.run([sys.executable, "-m", "bot.cli", "flows", "check", str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "a.yaml:6:" in bad.stderr
    good = subprocess.run([sys.executable, "-m", "bot.cli", "flows", "check"], cwd=ROOT, capture_output=True, text=True)
    assert good.returncode == 0, good.stderr


def test_hot_reload_swaps_good_edits_and_keeps_serving_on_broken_ones(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(CONTENT, folder)
    registry = FlowRegistry(folder, check_every_s=0)
    hotline = folder / "hotline.yaml"
    original = hotline.read_text(encoding="utf-8")
    hotline.write_text(original.replace("这些电话随时可以打", "新的说法：这些电话随时可以打"), encoding="utf-8")
    time.sleep(0.01)
    assert "新的说法" in registry.engine.start("hotline", CTX).says[0].text
    hotline.write_text(original.replace("start: numbers", "start: numbers\nsteps: [broken"), encoding="utf-8")
    assert "新的说法" in registry.engine.start("hotline", CTX).says[0].text
    assert registry.errors and "hotline.yaml:" in registry.errors[0]
    line, col = registry.errors[0].split("hotline.yaml:")[1].split(":")[:2]
    assert line.isdigit() and col.isdigit()
    hotline.write_text(original, encoding="utf-8")
    registry.engine
    assert registry.errors == []
