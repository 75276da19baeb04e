"""What the crisis rules said about an own dev set BEFORE they were tuned on it.

Hand-written rules tuned on a set look near-perfect on it, so a learned signal trained beside
them on that set seems to add nothing, although on new text the rules miss a lot (own dev3:
page 0.415 before tuning, 0.94 after; held-out v4 0.336). The trainer
(nlu/crisis_model_train.py) therefore combines the model with these untuned assessments where a
snapshot exists: the out-of-fold estimate then shows what the model adds on text the rules have
not seen, like stacking with out-of-fold base predictions.

    python -m nlu.rules_snapshot nlu/eval/crisis_dev4.yaml   # BEFORE tuning on it; commit the file

Snapshots live in nlu/eval/rules_snapshots/<set>.json with the commit of the rules used.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from nlu.risk import Assessment, Risk

SNAPSHOT_DIR = Path(__file__).with_name("eval") / "rules_snapshots"


def snapshot_path(set_path: Path) -> Path:
    return SNAPSHOT_DIR / f"{Path(set_path).stem}.json"


def load(set_path: Path) -> dict[str, Assessment]:
    """text → the untuned rules' assessment ({} when the set has no snapshot)."""
    p = snapshot_path(set_path)
    if not p.exists():
        return {}
    data = json.loads(p.read_text(encoding="utf-8"))
    return {r["text"]: Assessment(Risk[r["risk"]], r["category"], tuple(r["signals"])) for r in data["items"]}


def write(set_path: Path, note: str = "") -> Path:
    from nlu.assess import Assessor
    from nlu.crisis_eval import own_items
    a = Assessor(model=False)
    items = []
    for it in own_items(set_path):
        r = a.rules_of(it.text)
        items.append({"text": it.text, "risk": r.risk.name, "category": r.category, "signals": list(r.signals)})
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip()
    p = snapshot_path(set_path)
    p.parent.mkdir(parents=True, exist_ok=True)
    body = {"set": Path(set_path).name, "rules_commit": commit, "note": note, "items": items}
    p.write_text(json.dumps(body, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    return p


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nlu.rules_snapshot", description=__doc__.splitlines()[0])
    ap.add_argument("set", help="an own dev set (YAML) the rules have not been tuned on yet")
    ap.add_argument("--note", default="")
    args = ap.parse_args(argv)
    print(f"wrote {write(Path(args.set), args.note)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
