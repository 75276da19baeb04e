#!/usr/bin/env bash
# Build (once) the separate Rasa venv and print its path as the LAST stdout line.
#
# Rasa 3.6.21 needs Python 3.8-3.10 and pins pydantic 1 / TensorFlow 2.12, so it
# lives in its own venv keyed by the lock file it was installed from:
#   ${XINYI_CACHE:-$HOME/.cache/xinyi}/rasa-venv-<sha256(lock)[:12]>
# A stamp file is written only after a successful install, so a half install is redone.
#
# Interpreter: $XINYI_RASA_PYTHON, else pyenv 3.10.13 / any pyenv 3.10, else python3.10
# on PATH -> nlu/rasa/requirements-py310.lock (normal install).
# Fallback with no 3.10: python3.11 -> nlu/rasa/requirements-py311.lock installed with
# --no-deps --ignore-requires-python (pins chosen so that every wheel exists for 3.11).
# All progress goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${XINYI_CACHE:-$HOME/.cache/xinyi}"
log() { printf 'rasa-venv: %s\n' "$*" >&2; }

pick_python() {
  if [[ -n "${XINYI_RASA_PYTHON:-}" ]]; then
    command -v "$XINYI_RASA_PYTHON" || { log "XINYI_RASA_PYTHON=$XINYI_RASA_PYTHON not found"; return 1; }
    return 0
  fi
  if command -v pyenv >/dev/null 2>&1; then
    local p v
    if p="$(pyenv prefix 3.10.13 2>/dev/null)" && [[ -x "$p/bin/python3.10" ]]; then
      echo "$p/bin/python3.10"; return 0
    fi
    while read -r v; do
      v="${v#\* }"; v="${v%% *}"
      if [[ "$v" == 3.10* ]] && p="$(pyenv prefix "$v" 2>/dev/null)" && [[ -x "$p/bin/python3.10" ]]; then
        echo "$p/bin/python3.10"; return 0
      fi
    done < <(pyenv versions --bare 2>/dev/null)
  fi
  local c
  for c in python3.10 python3.11; do
    if p="$(command -v "$c" 2>/dev/null)" && "$p" -c 'import sys' >/dev/null 2>&1; then
      echo "$p"; return 0
    fi
  done
  log "no Python 3.10 or 3.11 found (set XINYI_RASA_PYTHON)"
  return 1
}

py="$(pick_python)"
minor="$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
case "$minor" in
  3.8|3.9|3.10) lock="$here/nlu/rasa/requirements-py310.lock"; mode=normal ;;
  3.11)         lock="$here/nlu/rasa/requirements-py311.lock"; mode=nodeps ;;
  *) log "Python $minor from $py cannot run Rasa 3.6 (needs 3.8-3.10, or 3.11 fallback)"; exit 1 ;;
esac

hash="$(sha256sum "$lock" | cut -c1-12)"
venv="$cache/rasa-venv-$hash"
stamp="$venv/.xinyi-installed"

if [[ -f "$stamp" && -x "$venv/bin/rasa" ]]; then
  log "cached: $venv"
  echo "$venv"
  exit 0
fi

mkdir -p "$cache"
# one builder at a time (tests and CLI may race)
exec 9>"$cache/.rasa-venv-$hash.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if [[ -f "$stamp" && -x "$venv/bin/rasa" ]]; then
  log "cached (built concurrently): $venv"
  echo "$venv"
  exit 0
fi

log "building $venv with $py (Python $minor, $mode install of $(basename "$lock"))"
rm -rf "$venv"
"$py" -m venv "$venv" >&2
export RASA_TELEMETRY_ENABLED=false PIP_DISABLE_PIP_VERSION_CHECK=1
start=$SECONDS
"$venv/bin/python" -m pip install -q 'pip<25' setuptools wheel >&2
if [[ "$mode" == normal ]]; then
  "$venv/bin/python" -m pip install -r "$lock" >&2
else
  "$venv/bin/python" -m pip install --no-deps --ignore-requires-python -r "$lock" >&2
fi
# smoke check before stamping: the pieces the NLU pipeline imports
"$venv/bin/python" - >&2 <<'EOF'
import rasa, jieba, tensorflow, sklearn  # noqa: F401
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer  # noqa: F401
from rasa.nlu.classifiers.diet_classifier import DIETClassifier  # noqa: F401
print("rasa", rasa.__version__, "ok")
EOF
date -u +%FT%TZ > "$stamp"
log "installed in $((SECONDS - start)) s"
echo "$venv"
