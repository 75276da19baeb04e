"""The Rasa NLU project under nlu/rasa/: its venv, fingerprint, training and server.

Rasa lives in its own venv (scripts/rasa-venv.sh); this module only runs its
`rasa` executable as a subprocess, it never imports Rasa.

- The model is named after a fingerprint of everything it is trained from
  (config, domain, data, jieba dictionaries), so it is retrained exactly when one
  of them changes and otherwise reused.
- Training runs from the repository root (config.yml's `dictionary_path: nlu/jieba`
  is relative to it), writes to a temporary name and renames, so a killed training
  never leaves a half model behind.
- Rasa's own training cache is disabled (RASA_MAX_CACHE_SIZE=0): it does not
  fingerprint the jieba dictionary files, so it could reuse stale tokenisation.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
RASA_DIR = ROOT / "nlu" / "rasa"
JIEBA_DIR = ROOT / "nlu" / "jieba"
# Trained models are cached outside the checkout, keyed by fingerprint, so a fresh clone
# (CI, a second working copy) reuses a model trained from identical sources.
MODELS_DIR = Path(os.environ.get("XINYI_CACHE") or Path.home() / ".cache" / "xinyi") / "models"
VAR_DIR = ROOT / "var"
VENV_SCRIPT = ROOT / "scripts" / "rasa-venv.sh"


def rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        RASA_MAX_CACHE_SIZE="0",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONUNBUFFERED="1",
    )
    # the bot's venv must not leak into Rasa's interpreter
    for k in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(k, None)
    return env


def source_files(root: Path = ROOT) -> list[Path]:
    """Everything a model is trained from, in a stable order."""
    rasa_dir = root / "nlu" / "rasa"
    files = [rasa_dir / "config.yml", rasa_dir / "domain.yml"]
    files += sorted((rasa_dir / "data").glob("*.yml"))
    files += sorted((root / "nlu" / "jieba").glob("*.txt"))
    return [f for f in files if f.is_file()]


def fingerprint(root: Path = ROOT) -> str:
    """sha256 over the names and contents of config, domain, data, jieba dictionaries and the Rasa lock."""
    h = hashlib.sha256()
    for lock in sorted((root / "nlu" / "rasa").glob("requirements-*.lock")):
        h.update(lock.read_bytes())
    for f in source_files(root):
        rel = f.relative_to(root).as_posix()
        data = f.read_bytes()
        h.update(rel.encode() + b"\0" + str(len(data)).encode() + b"\0")
        h.update(data)
    return h.hexdigest()


def model_path(root: Path = ROOT) -> Path:
    return MODELS_DIR / f"{fingerprint(root)[:16]}.tar.gz"


def venv_path(progress_log: Path | None = None) -> Path:
    """Build (once) the Rasa venv via scripts/rasa-venv.sh and return its path.

    Progress goes to stderr, or to `progress_log` (e.g. when built in the background)."""
    if progress_log:
        progress_log.parent.mkdir(parents=True, exist_ok=True)
    with open(progress_log, "ab") if progress_log else contextlib.nullcontext() as log_file:
        out = subprocess.run(
            ["bash", str(VENV_SCRIPT)], cwd=ROOT, check=True, text=True,
            stdout=subprocess.PIPE, stderr=log_file,
        ).stdout.strip().splitlines()
    if not out:
        raise RuntimeError("scripts/rasa-venv.sh printed no venv path")
    venv = Path(out[-1])
    if not (venv / "bin" / "rasa").exists():
        raise RuntimeError(f"no rasa executable in {venv}")
    return venv


def ensure_trained(venv: Path, root: Path = ROOT, *, quiet: bool = False) -> Path:
    """Return the model for the current sources, training it only when it is missing."""
    target = model_path(root)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # one training per model at a time across processes (tests, CLI, bench may race)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file():
            return target
        return _train(venv, root, target)


def _train(venv: Path, root: Path, target: Path) -> Path:
    tmp_name = f".tmp-{target.name[:-len('.tar.gz')]}-{os.getpid()}"
    tmp_dir = target.parent / tmp_name
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir()
    rasa_dir = (root / "nlu" / "rasa").relative_to(root)
    cmd = [
        str(Path(venv) / "bin" / "rasa"), "train", "nlu",
        "--config", str(rasa_dir / "config.yml"),
        "--domain", str(rasa_dir / "domain.yml"),
        "--nlu", str(rasa_dir / "data"),
        "--out", str(tmp_dir),
        "--fixed-model-name", "model",
    ]
    VAR_DIR.mkdir(exist_ok=True)
    log_file = VAR_DIR / "rasa-train.log"
    t0 = time.monotonic()
    log.info("training Rasa NLU model %s", target.name)
    try:
        with open(log_file, "wb") as lf:
            proc = subprocess.run(cmd, cwd=root, env=rasa_env(), stdout=lf, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            tail = log_file.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"rasa train nlu failed (exit {proc.returncode}); see {log_file}\n{tail}")
        produced = tmp_dir / "model.tar.gz"
        if not produced.is_file():
            raise RuntimeError(f"rasa train nlu produced no model; see {log_file}")
        os.replace(produced, target)  # atomic on one filesystem
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    log.info("trained %s in %.1f s", target.name, time.monotonic() - t0)
    return target


def start_server(venv: Path, model: Path, host: str = "127.0.0.1", port: int = 5005,
                 log_path: Path | None = None) -> subprocess.Popen:
    """Start `rasa run --enable-api` on the model; logs go to var/rasa-<port>.log."""
    VAR_DIR.mkdir(exist_ok=True)
    log_path = log_path or VAR_DIR / f"rasa-{port}.log"
    cmd = [
        str(Path(venv) / "bin" / "rasa"), "run", "--enable-api",
        "--model", str(Path(model).resolve()),
        "-i", host, "-p", str(port),
    ]
    lf = open(log_path, "ab")
    try:
        return subprocess.Popen(
            cmd, cwd=ROOT, env=rasa_env(), stdout=lf, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    finally:
        lf.close()  # the child keeps its own descriptor


def wait_ready(url: str, timeout_s: float = 90.0, proc: subprocess.Popen | None = None) -> float:
    """Poll GET /status until the model is loaded; returns seconds waited."""
    t0 = time.monotonic()
    status = url.rstrip("/") + "/status"
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"Rasa server exited with code {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(status, timeout=2) as r:
                if r.status == 200 and b"model_file" in r.read():
                    return time.monotonic() - t0
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() - t0 > timeout_s:
            raise TimeoutError(f"Rasa at {url} not ready after {timeout_s:.0f} s")
        time.sleep(0.25)


def stop_server(proc: subprocess.Popen, timeout_s: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@contextlib.contextmanager
def serving(url: str | None = None, timeout_s: float = 240.0):
    """Yield the URL of a ready Rasa server: `url` if given (waited for), else one started on a free
    loopback port from the current model (built and trained if needed) and stopped afterwards."""
    if url:
        wait_ready(url, timeout_s=timeout_s)
        yield url.rstrip("/")
        return
    venv = venv_path()
    model = ensure_trained(venv)
    port = free_port()
    proc = start_server(venv, model, port=port)
    started = f"http://127.0.0.1:{port}"
    try:
        wait_ready(started, timeout_s=timeout_s, proc=proc)
        yield started
    finally:
        stop_server(proc)


def free_port(host: str = "127.0.0.1") -> int:
    import socket
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


if __name__ == "__main__":  # tiny manual entry point
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    v = venv_path()
    print(ensure_trained(v))
