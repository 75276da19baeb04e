"""Organisations of the union network and their hotline numbers (config/organisations.yaml)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML


@dataclass(frozen=True)
class Hotline:
    name: str
    number: str
    hours: str = ""


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    parent: str | None
    hotlines: tuple[Hotline, ...]
    emergency: str
    level: str = ""                       # 市 / 区 / 县 / 基层 / 企业
    service_hours: tuple[tuple[str, str], ...] = ()   # (day type, "HH:MM-HH:MM,…"); see roster.py


class Orgs:
    def __init__(self, default: str, orgs: dict[str, Org]):
        if default not in orgs:
            raise ValueError(f"default organisation `{default}` is not defined")
        self.default = default
        self.orgs = orgs

    @classmethod
    def load(cls, path: Path) -> "Orgs":
        doc = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8"))
        orgs = {}
        for oid, o in (doc.get("organisations") or {}).items():
            orgs[oid] = Org(
                id=oid, name=o.get("name", oid), parent=o.get("parent"),
                hotlines=tuple(Hotline(h["name"], str(h["number"]), h.get("hours", "")) for h in o.get("hotlines") or ()),
                emergency=str(o.get("emergency", "110 / 120")), level=str(o.get("level") or ""),
                service_hours=tuple((str(k), str(v)) for k, v in (o.get("service_hours") or {}).items()),
            )
        for o in orgs.values():
            if o.parent is not None and o.parent not in orgs:
                raise ValueError(f"organisation `{o.id}` has unknown parent `{o.parent}`")
        return cls(doc.get("default"), orgs)

    def get(self, org_id: str | None) -> Org:
        return self.orgs.get(org_id or self.default) or self.orgs[self.default]

    def known(self, org_id: str | None) -> bool:
        return bool(org_id) and org_id in self.orgs

    def chain(self, org_id: str | None) -> list[Org]:
        """The organisation and its ancestors, nearest first (cycles cut)."""
        out: list[Org] = []
        org: Org | None = self.get(org_id)
        while org is not None and org not in out:
            out.append(org)
            org = self.orgs.get(org.parent) if org.parent else None
        return out

    def name(self, org_id: str | None) -> str:
        return self.orgs[org_id].name if org_id in self.orgs else str(org_id or "")

    def hotlines(self, org_id: str | None) -> tuple[Hotline, ...]:
        """The org's own numbers, else the nearest ancestor's."""
        org = self.get(org_id)
        while not org.hotlines and org.parent:
            org = self.get(org.parent)
        return org.hotlines or self.orgs[self.default].hotlines

    def hotlines_text(self, org_id: str | None) -> str:
        return "\n".join(f"· {h.name}：{h.number}" + (f"（{h.hours}）" if h.hours else "") for h in self.hotlines(org_id))


def subtree(orgs: Orgs, root: str) -> set[str]:
    """An organisation and everything below it (staff see only their subtree)."""
    out = {root}
    changed = True
    while changed:
        changed = False
        for o in orgs.orgs.values():
            if o.parent in out and o.id not in out:
                out.add(o.id)
                changed = True
    return out
