"""pytest plugin: one real Rasa NLU server per test run (`pytest_plugins = ["tests.rasa_fixtures"]`).

`rasa_url` builds the Rasa venv and model if needed (cached by lock hash and by
model fingerprint), starts `rasa run --enable-api` on a free loopback port once per
session and stops it at the end. With RASA_URL set, that server is used instead.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from nlu import rasa_project


@pytest.fixture(scope="session")
def rasa_venv() -> Path:
    return rasa_project.venv_path()


@pytest.fixture(scope="session")
def rasa_model(rasa_venv: Path) -> Path:
    return rasa_project.ensure_trained(rasa_venv)


@pytest.fixture(scope="session")
def rasa_url(request: pytest.FixtureRequest) -> str:
    env_url = os.environ.get("RASA_URL")
    if not env_url:
        request.getfixturevalue("rasa_model")  # build venv + model through the shared fixtures
    with rasa_project.serving(env_url, timeout_s=30 if env_url else 240) as url:
        yield url
