"""Fingerprint and model caching of the Rasa project (real venv, real model)."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from nlu import rasa_project


def _copy_project(dst: Path) -> Path:
    for sub in ("nlu/rasa/data", "nlu/jieba"):
        shutil.copytree(rasa_project.ROOT / sub, dst / sub)
    for f in ("config.yml", "domain.yml", "requirements-py310.lock", "requirements-py311.lock"):
        shutil.copy(rasa_project.RASA_DIR / f, dst / "nlu/rasa" / f)
    return dst


def test_fingerprint_is_stable_and_tracks_every_source(tmp_path):
    root = _copy_project(tmp_path)
    fp = rasa_project.fingerprint(root)
    assert fp == rasa_project.fingerprint(root) == rasa_project.fingerprint()
    assert rasa_project.model_path(root).name == fp[:16] + ".tar.gz"

    nlu = root / "nlu/rasa/data/nlu.yml"
    original = nlu.read_text(encoding="utf-8")
    nlu.write_text(original.replace("    - 你好\n", "    - 你好\n    - 你好吗\n", 1), encoding="utf-8")
    fp_data = rasa_project.fingerprint(root)
    assert fp_data != fp
    nlu.write_text(original, encoding="utf-8")
    assert rasa_project.fingerprint(root) == fp          # content, not mtime

    (root / "nlu/jieba/extra.txt").write_text("打工人 100 n\n", encoding="utf-8")
    assert rasa_project.fingerprint(root) != fp          # a new dictionary counts
    (root / "nlu/jieba/extra.txt").unlink()
    (root / "nlu/rasa/config.yml").write_text(
        (root / "nlu/rasa/config.yml").read_text() + "\n# comment\n")
    assert rasa_project.fingerprint(root) != fp


@pytest.mark.rasa
def test_ensure_trained_reuses_the_model(rasa_venv, rasa_model):
    assert rasa_model == rasa_project.model_path() and rasa_model.is_file()
    mtime = rasa_model.stat().st_mtime_ns
    t0 = time.monotonic()
    again = rasa_project.ensure_trained(rasa_venv)
    assert time.monotonic() - t0 < 1.0
    assert again == rasa_model and again.stat().st_mtime_ns == mtime
    # no half-written leftovers from the atomic rename
    assert not list(rasa_model.parent.glob(".tmp-*"))


def test_venv_script_prints_path_last(rasa_venv):
    assert (rasa_venv / "bin" / "rasa").exists()
    assert (rasa_venv / ".xinyi-installed").is_file()
