import shutil
import time
from pathlib import Path

import pytest

from bot.settings import ROOT
from flows.engine import Engine, FlowState
from flows.loader import FlowLoadError, load_flows
from flows.registry import FlowRegistry

CONTENT = ROOT / "flows" / "content"
CTX = {"hotlines": "· 全国心理援助热线：12356", "emergency": "110 / 120"}


def test_shipped_content_loads_and_every_flow_runs_to_a_question_or_end():
    flows = load_flows(CONTENT)
    engine = Engine(flows)
    for flow_id in flows:
        turn = engine.start(flow_id, CTX)
        assert turn.says, flow_id
        assert turn.state is None or flows[turn.state.flow].steps[turn.state.step].options


def test_answers_by_digit_label_and_value():
    engine = Engine(load_flows(CONTENT))
    state = FlowState("main_menu", "menu")
    for answer, value in (("2", None), ("心理援助热线", None), ("", "hotline")):
        turn = engine.answer(state, answer, value, CTX)
        assert turn is not None and "12356" in turn.says[0].text
    assert engine.answer(state, "9", None, CTX) is None
    assert engine.answer(state, "随便说说", None, CTX) is None


def test_consent_choice_yields_its_action():
    engine = Engine(load_flows(CONTENT))
    turn = engine.answer(FlowState("welcome", "consent"), "不同意", None, CTX)
    assert turn.actions == ["consent_no"] and turn.state == FlowState("main_menu", "menu")


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_broken_yaml_is_reported_with_line_and_column(tmp_path):
    write(tmp_path, "a.yaml", "flow: a\nstart: s\nsteps:\n  s:\n    say: [unclosed\n")
    with pytest.raises(FlowLoadError) as exc:
        load_flows(tmp_path)
    err = exc.value.errors[0]
    assert err.where.file.endswith("a.yaml") and err.where.line >= 5 and "YAML" in err.message


def test_unknown_references_and_dead_ends_are_reported_where_written(tmp_path):
    write(tmp_path, "a.yaml", "flow: a\nstart: s\nsteps:\n  s:\n    say: hi\n    options:\n"
                              "      - {label: x, next: nowhere}\n      - {label: y, jump: nosuchflow}\n"
                              "  t:\n    say: dead end\n")
    with pytest.raises(FlowLoadError) as exc:
        load_flows(tmp_path)
    text = str(exc.value)
    assert "a.yaml:7:" in text and "no step `nowhere`" in text
    assert "a.yaml:8:" in text and "no flow `nosuchflow`" in text
    assert "a.yaml:9:" in text and "leads nowhere" in text


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
