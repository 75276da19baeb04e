"""The `xinyi` command as other tools and editors use it (real subprocesses)."""
import json
import os
import subprocess
import sys
from pathlib import Path

from bot.settings import ROOT

XINYI = [sys.executable, "-m", "bot.cli"]


def run(args, stdin="", env=None):
    env = {**os.environ, "RASA_URL": "", **(env or {})}
    return subprocess.run(XINYI + args, input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_assess_writes_the_design_contract_one_line_per_message_offline():
    out = run(["assess"], "我想自杀\n今天加班累死了\n\n")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == 3
    for obj in lines:
        assert list(obj) == ["text", "risk", "category", "intent", "confidence", "signals"]
        assert obj["intent"] is None and obj["confidence"] is None
    assert lines[0]["text"] == "我想自杀" and lines[0]["risk"] in ("high", "imminent")
    assert lines[1]["risk"] in ("none", "low")
    assert lines[2]["text"] == "" and lines[2]["risk"] == "none"


def test_flows_check_reports_file_line_column_and_fails(tmp_path: Path):
    (tmp_path / "bad.yaml").write_text("flow: bad\nstart: s\nsteps:\n  s:\n    say: hi\n    next: nowhere\n",
                                       encoding="utf-8")
    out = run(["flows", "check", str(tmp_path)])
    assert out.returncode == 1
    assert "bad.yaml:4:" in out.stderr and "nowhere" in out.stderr
    ok = run(["flows", "check"])
    assert ok.returncode == 0 and ok.stdout.startswith("ok:")


def test_serve_without_secrets_stops_with_a_clear_message(tmp_path: Path):
    env = {k: "" for k in ("XINYI_ID_SECRET", "XINYI_DATA_KEY", "XINYI_CONSOLE_SECRET")}
    out = subprocess.run(XINYI + ["serve"], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                         env={**{k: v for k, v in os.environ.items() if not k.startswith("XINYI_")},
                              "PYTHONPATH": str(ROOT), **env})
    assert out.returncode != 0
    assert "XINYI_ID_SECRET" in out.stderr and "XINYI_DATA_KEY" in out.stderr


def test_terminal_chat_numbered_options_and_crisis(clean_redis, tmp_path: Path):
    from core.seal import Sealer
    env = {"REDIS_URL": clean_redis, "XINYI_DATA_DIR": str(tmp_path), "XINYI_ID_SECRET": "t" * 32,
           "XINYI_DATA_KEY": Sealer.new_key(), "XINYI_CONSOLE_SECRET": "c" * 32}
    out = run(["chat", "--as", "tester"], "1\n2\n我想自杀\n", env=env)
    assert out.returncode == 0, out.stderr
    assert "1. 同意" in out.stdout and "2. 不同意" in out.stdout      # buttons became numbered lines
    assert "想从哪里开始" in out.stdout and "全国心理援助热线" in out.stdout
    assert "我已经在联系工会的值班心理辅导员" in out.stdout
    assert "tester" not in out.stderr


def test_terminal_chat_completes_a_phq9_screening(clean_redis, tmp_path: Path):
    from core.seal import Sealer
    env = {"REDIS_URL": clean_redis, "XINYI_DATA_DIR": str(tmp_path), "XINYI_ID_SECRET": "t" * 32,
           "XINYI_DATA_KEY": Sealer.new_key(), "XINYI_CONSOLE_SECRET": "c" * 32}
    # consent; then "一半以上的天数" (2 points) to items 1–8 — PHQ-2 = 4 ≥ 3 goes on — and item 9 "完全不会"
    answers = "1\n情绪自评\n" + "3\n" * 8 + "1\n"
    out = run(["chat", "--as", "phq-tester"], answers, env=env)
    assert out.returncode == 0, out.stderr
    assert "4. 几乎每天" in out.stdout                         # the questions as numbered lines
    assert "16 分" in out.stdout and "中重度的情绪困扰" in out.stdout  # band 15–19
    assert "我已经在联系" not in out.stdout                    # item 9 at 0: no escalation


def test_flows_check_also_checks_the_booking_slots(tmp_path: Path):
    from bot.services import check_services
    bad = tmp_path / "services.yaml"
    bad.write_text("default:\n  slots:\n    - {day: 8, time: \"14:00-15:00\"}\n    - {day: 2, time: \"15:00-14:00\"}\n"
                   "organisations:\n  nowhere: {}\n", encoding="utf-8")
    errors = check_services(bad, {"city"})
    assert any(":3:" in e and "day" in e for e in errors)
    assert any(":4:" in e and "time" in e for e in errors)
    assert any(":6:" in e and "nowhere" in e for e in errors)
    from escalation.orgs import Orgs
    shipped = set(Orgs.load(ROOT / "config" / "organisations.yaml").orgs)
    assert check_services(ROOT / "config" / "services.yaml", shipped) == []
