"""The flows folder for channel tests: the working tree's when it loads, else the last committed
one (content editors work on flows/content concurrently; channel tests must not depend on a
half-edited file). Tests only rely on texts that both share."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from bot.settings import ROOT


def loadable_flows_dir(tmp: Path) -> Path:
    from flows.loader import FlowLoadError, load_flows
    live = ROOT / "flows" / "content"
    try:
        load_flows(live)
        return live
    except FlowLoadError:
        pass
    out = tmp / "flows-head"
    out.mkdir(exist_ok=True)
    names = subprocess.run(["git", "ls-tree", "--name-only", "HEAD", "flows/content/"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in names:
        blob = subprocess.run(["git", "show", f"HEAD:{name}"], cwd=ROOT, capture_output=True, check=True).stdout
        (out / Path(name).name).write_bytes(blob)
    return out


def choose(reply: str, label_part: str) -> str:
    """The digit of the numbered option whose label contains `label_part`."""
    for m in re.finditer(r"^(\d+)\. (.+)$", reply, re.M):
        if label_part in m.group(2):
            return m.group(1)
    raise AssertionError(f"no option containing {label_part!r} in:\n{reply}")
