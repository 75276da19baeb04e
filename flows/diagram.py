"""Draw a flow as SVG, server-side (no JavaScript, works offline), for the editors' console page.

Steps are laid out in rows by distance from the start step; arrows carry the option label or
the branch condition; jumps to other flows end in a rounded box linking to that flow's drawing.
"""
from __future__ import annotations

from collections import deque
from html import escape

from flows.model import Flow, Step

W, H, GAP_X, GAP_Y, PAD = 230, 96, 40, 80, 30
COLOURS = {"question": "#e8f3ec", "say": "#ffffff", "branch": "#fff7e0", "input": "#eef3fe", "end": "#f3e9e9",
           "flow": "#f1f1f1"}


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _kind(step: Step) -> str:
    if step.input:
        return "input"
    if step.waits:
        return "question"
    if step.branch:
        return "branch"
    if step.end or not (step.next or step.jump):
        return "end"
    return "say"


KIND_LABELS = {"question": "提问", "say": "说明", "branch": "分支", "input": "填写", "end": "结束", "flow": "跳到流程"}


def _edges(flow: Flow, step: Step):
    """(target node id, label) for every way out of a step; other flows are 'flow:<id>'."""
    out = []
    options = step.options
    if step.choose_from:
        out.append((step.next and f"step:{step.next}" or (step.jump and f"flow:{step.jump}"),
                    f"从「{step.choose_from}」选"))
    for c in options:
        if c.next:
            out.append((f"step:{c.next}", c.label.zh))
        elif c.jump:
            out.append((f"flow:{c.jump}", c.label.zh))
        elif step.next or step.jump:
            out.append((f"step:{step.next}" if step.next else f"flow:{step.jump}", c.label.zh))
    for b in step.branch:
        out.append((f"step:{b.next}" if b.next else f"flow:{b.jump}", f"如果 {b.condition}" if b.condition else "否则"))
    if not options and not step.branch and not step.choose_from:
        if step.next:
            out.append((f"step:{step.next}", step.input and "填写后" or ""))
        elif step.jump:
            out.append((f"flow:{step.jump}", ""))
    merged: dict[str, list[str]] = {}
    for t, label in out:
        if t:
            merged.setdefault(t, [])
            if label and label not in merged[t]:
                merged[t].append(label)
    return [(t, " / ".join(labels)) for t, labels in merged.items()]


def layout(flow: Flow) -> tuple[dict[str, tuple[int, int]], list[tuple[str, str, str]]]:
    """Node positions (row, column) and edges (source, target, label)."""
    rows: dict[str, int] = {}
    order: list[str] = []
    edges: list[tuple[str, str, str]] = []
    todo = deque([(f"step:{flow.start}", 0)])
    while todo:
        node, row = todo.popleft()
        if node in rows:
            continue
        rows[node] = row
        order.append(node)
        if node.startswith("step:") and node[5:] in flow.steps:
            for target, label in _edges(flow, flow.steps[node[5:]]):
                edges.append((node, target, label))
                if target not in rows:
                    todo.append((target, row + 1))
    last = max(rows.values(), default=0) + 1
    for name, step in flow.steps.items():   # unreachable steps still get drawn, in a last row
        node = f"step:{name}"
        if node not in rows:
            rows[node] = last
            order.append(node)
            edges.extend((node, t, label) for t, label in _edges(flow, step))
            for t, _ in _edges(flow, step):
                if t not in rows:
                    rows[t] = last + 1
                    order.append(t)
    columns: dict[int, int] = {}
    pos = {}
    for node in order:
        r = rows[node]
        pos[node] = (r, columns.get(r, 0))
        columns[r] = columns.get(r, 0) + 1
    return pos, edges


def svg(flow: Flow, link=lambda flow_id: f"/console/flows/{flow_id}") -> str:
    pos, edges = layout(flow)
    rows = max((r for r, _ in pos.values()), default=0) + 1
    cols = max((c for _, c in pos.values()), default=0) + 1
    width, height = PAD * 2 + cols * W + cols * GAP_X + 60, PAD * 2 + rows * H + (rows - 1) * GAP_Y

    def box(node):
        r, c = pos[node]
        return PAD + c * (W + GAP_X), PAD + r * (H + GAP_Y)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="system-ui, \'Noto Sans CJK SC\', sans-serif" '
             f'role="img" aria-label="{escape(flow.title.zh)}">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#4a6b5a"/></marker></defs>']
    labels = []
    for src, dst, label in edges:
        if dst not in pos:
            continue
        x1, y1 = box(src)
        x2, y2 = box(dst)
        if pos[dst][0] > pos[src][0]:
            sx, sy, ex, ey = x1 + W / 2, y1 + H, x2 + W / 2, y2
            d = f"M {sx} {sy} C {sx} {sy + GAP_Y / 2}, {ex} {ey - GAP_Y / 2}, {ex} {ey - 2}"
            lx, ly = (sx + ex) / 2, (sy + ey) / 2
        else:   # back to an earlier or the same row: loop round the right side
            sx, sy, ex, ey = x1 + W, y1 + H / 2, x2 + W, y2 + H / 2
            bend = max(sx, ex) + GAP_X * 0.8
            d = f"M {sx} {sy} C {bend} {sy}, {bend} {ey}, {ex + 2} {ey}"
            lx, ly = bend - 10, (sy + ey) / 2
        parts.append(f'<path d="{d}" fill="none" stroke="#4a6b5a" stroke-width="1.4" marker-end="url(#arrow)"/>')
        if label:
            text = escape(_short(label, 12))
            w = 13 * len(_short(label, 12)) + 8
            labels.append(f'<g><rect x="{lx - w / 2}" y="{ly - 10}" width="{w}" height="18" rx="4" fill="#fff" '
                          f'stroke="#c9d6ce"/><text x="{lx}" y="{ly + 4}" font-size="11" text-anchor="middle" '
                          f'fill="#2f4f3f">{text}</text></g>')
    for node in pos:
        x, y = box(node)
        if node.startswith("flow:"):
            fid = node[5:]
            parts.append(f'<a href="{escape(link(fid))}"><rect x="{x}" y="{y}" width="{W}" height="{H}" '
                         f'rx="28" fill="{COLOURS["flow"]}" stroke="#888" stroke-dasharray="4 3"/>'
                         f'<text x="{x + W / 2}" y="{y + H / 2 + 5}" font-size="13" text-anchor="middle" '
                         f'fill="#333">→ 流程 {escape(fid)}</text></a>')
            continue
        name = node[5:]
        step = flow.steps.get(name)
        if step is None:
            continue
        kind = _kind(step)
        start = name == flow.start
        parts.append(f'<g id="step-{escape(name)}"><rect x="{x}" y="{y}" width="{W}" height="{H}" rx="8" '
                     f'fill="{COLOURS[kind]}" stroke="{"#2f7d5b" if start else "#9bb3a5"}" '
                     f'stroke-width="{2.5 if start else 1.2}"/>')
        parts.append(f'<text x="{x + 10}" y="{y + 19}" font-size="13" font-weight="bold" fill="#1f3d2f">'
                     f'{escape(name)}<tspan font-weight="normal" fill="#6b7f73"> · {KIND_LABELS[kind]}'
                     f'{" · 开始" if start else ""}</tspan></text>')
        say = step.say[0].zh if step.say else ""
        for i, line in enumerate(_wrap(say, 16, 3)):
            parts.append(f'<text x="{x + 10}" y="{y + 40 + i * 16}" font-size="12" fill="#333">{escape(line)}</text>')
        extras = []
        if step.score:
            extras.append("计分 " + "+".join(step.score))
        if step.actions:
            extras.append("动作 " + ",".join(a.name for a in step.actions))
        if step.input:
            extras.append(f"保存到 {step.input}")
        if extras:
            parts.append(f'<text x="{x + 10}" y="{y + H - 8}" font-size="11" fill="#8a4b00">'
                         f'{escape(_short(" · ".join(extras), 30))}</text>')
        parts.append(f"<title>{escape(name)}: {escape(say)}</title></g>")
    parts.extend(labels)
    parts.append("</svg>")
    return "\n".join(parts)


def _wrap(text: str, width: int, lines: int) -> list[str]:
    flat = " ".join(text.split())
    out = [flat[i: i + width] for i in range(0, len(flat), width)][:lines]
    if len(flat) > width * lines and out:
        out[-1] = out[-1][:-1] + "…"
    return out
