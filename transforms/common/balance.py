"""The lifetime balance: every unit the gateway ever received is in exactly one state, and the
states add up — per surface, over the whole ledger.

    received = final + waiting + due + quarantined + dead-lettered

- **final**: nothing more will happen to it here (routed, superseded by a correction,
  withdrawn, delivered and answered, a form loaded, a feed entry counted);
- **waiting**: it waits for someone outside with a known reason and date (held for a
  county's opening, delivered and open at the receiver);
- **due**: the gateway owes the next step (not yet validated, not yet routed, not yet
  delivered, a withdrawal not yet sent). A due unit older than the surface's stale age is
  **stale**: the balance fails loudly;
- **quarantined**: stopped with a reason shown to the person who can fix it (quarantine list,
  return list, exceptions list) — a correction flows on;
- **dead-lettered**: the open dead letters of the surface (`dead_letter`, any stage's): kept as
  received with one rule and a reason, never also a row of the surface's tables.

A state no surface knows (one a newer stage added) counts as due: it is counted, and it is
stale when old, rather than lost. A state named `inconsistent`, a check that is not zero (a
verdict without its change, ...) or states that do not add up to the independent count
break the balance. Pure: counts in, a report out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

FINAL, WAITING, DUE, QUARANTINED, DEAD_LETTERED = "final", "waiting", "due", "quarantined", "dead_lettered"
CATEGORIES: tuple[str, ...] = (FINAL, WAITING, DUE, QUARANTINED, DEAD_LETTERED)
BROKEN = "inconsistent"


@dataclass(frozen=True)
class Surface:
    name: str
    label: str
    states: Mapping[str, str]  # state -> category
    dead_letters: tuple[str, ...] = ()  # dead_letter.surface values counted here

    def category(self, state: str) -> str:
        return self.states.get(state, DUE)


SURFACES: dict[str, Surface] = {s.name: s for s in (
    Surface("exchange_change", "平台变更 exchange changes", {
        "unvalidated": DUE, "unrouted": DUE, "routed": FINAL, "superseded": FINAL, "withdrawn": FINAL,
        "quarantined": QUARANTINED, "duplicate": QUARANTINED}, ("exchange_row",)),
    Surface("work_order", "工单 work orders", {
        "to_deliver": DUE, "delivering": DUE, "held": WAITING, "at_receiver": WAITING, "quarantined": QUARANTINED, "refused": QUARANTINED,
        "done": FINAL, "rejected": FINAL, "cancelled": FINAL, "withdrawn": FINAL, "superseded": FINAL,
        "cancel_pending": DUE, "cancel_refused": QUARANTINED}, ("work_order",)),
    Surface("remote_package", "异地代收报文 remote packages", {
        "unvalidated": DUE, "to_deliver": DUE, "delivering": DUE, "withdrawing": DUE, "at_authority": WAITING,
        "returned": QUARANTINED, "refused": QUARANTINED, "correction_requested": QUARANTINED,
        "closed": FINAL, "superseded": FINAL, "withdrawn": FINAL}, ("package_row",)),
    Surface("registry_form", "机构名录表单 registry forms", {"loaded": FINAL}, ("registry_form",)),
    Surface("remote_checklist", "材料清单表单 checklist forms", {"loaded": FINAL}, ("remote_checklist",)),
    Surface("result_file", "结果文件 result files", {"processed": FINAL, "rejected": QUARANTINED, "refused": QUARANTINED}, ("result_file",)),
    Surface("result_feed", "结果接口条目 results-feed entries", {"accepted": FINAL, "exception": QUARANTINED}, ("result_feed",)),
    Surface("package_event", "报文状态事件 package events", {"counted": FINAL, "issue": QUARANTINED}, ("package_event",)),
)}


@dataclass(frozen=True)
class StateCount:
    n: int
    oldest: datetime | None = None
    stale: int = 0  # units in this state since before the stale cut-off


@dataclass(frozen=True)
class StaleUnit:
    surface: str
    state: str
    unit: str  # masked: never an ID in clear
    since: datetime


@dataclass
class SurfaceBalance:
    surface: str
    label: str
    received: int  # counted on its own, plus the open dead letters
    states: dict[str, int]  # the units of the surface's tables by state (dead letters are a category of their own)
    categories: dict[str, int]
    stale: int
    stale_after: timedelta
    problems: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return not self.problems


@dataclass
class LifetimeBalance:
    at: datetime
    surfaces: list[SurfaceBalance]
    oldest_stale: list[StaleUnit] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        """Every surface's states add up, nothing inconsistent."""
        return all(s.holds for s in self.surfaces)

    @property
    def stale(self) -> int:
        return sum(s.stale for s in self.surfaces)

    @property
    def ok(self) -> bool:
        return self.holds and self.stale == 0

    def surface(self, name: str) -> SurfaceBalance:
        return next(s for s in self.surfaces if s.surface == name)

    def summary(self) -> dict:
        """Counts only (for XCom): holds, stale, and per surface received and its categories."""
        return {"holds": self.holds, "stale": self.stale,
                "surfaces": {s.surface: {"received": s.received, **s.categories, "stale": s.stale} for s in self.surfaces}}

    def as_dict(self) -> dict:
        return {
            "at": self.at.isoformat(sep=" "), "holds": self.holds, "stale": self.stale, "ok": self.ok,
            "surfaces": [{"surface": s.surface, "label": s.label, "received": s.received, **s.categories, "stale": s.stale,
                          "stale_after_hours": s.stale_after / timedelta(hours=1), "holds": s.holds, "states": s.states, "problems": s.problems}
                         for s in self.surfaces],
            "oldest_stale": [{"surface": u.surface, "state": u.state, "unit": u.unit, "since": u.since.isoformat(sep=" ")} for u in self.oldest_stale],
        }

    def text(self) -> str:
        """The balance as a table, then why it does not hold and the oldest stale units."""
        head = ("surface", "received", "final", "waiting", "due", "quarantined", "dead-lettered", "stale", "holds")
        rows = [(f"{s.surface} {s.label}", s.received, *(s.categories[c] for c in CATEGORIES), s.stale, "yes" if s.holds else "NO")
                for s in self.surfaces]
        widths = [max(_width(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
        lines = [
            f"生命周期对账 lifetime balance at {self.at:%Y-%m-%d %H:%M} UTC — "
            + ("holds, nothing stale" if self.ok else f"{'holds' if self.holds else 'DOES NOT HOLD'}, {self.stale} stale units"),
            "received = final + waiting + due + quarantined + dead-lettered; due units older than the stale age are stale",
        ]
        for row in [head, *rows]:
            lines.append("  ".join(_pad(str(v), w) if i == 0 else " " * (w - _width(str(v))) + str(v) for i, (v, w) in enumerate(zip(row, widths))))
        for s in self.surfaces:
            if s.problems:
                lines.append(f"{s.surface} does not balance: " + "; ".join(s.problems))
            due = {k: v for k, v in s.states.items() if v and _category(s.surface, k) == DUE}
            if due:
                lines.append(f"  {s.surface} due: " + ", ".join(f"{k} {v}" for k, v in sorted(due.items()))
                             + f" (stale after {s.stale_after / timedelta(hours=1):g} h)")
        if self.oldest_stale:
            lines.append("oldest stale units:")
            for u in self.oldest_stale:
                lines.append(f"  {u.surface} {u.state} {u.unit} since {u.since:%Y-%m-%d %H:%M} UTC ({(self.at - u.since) / timedelta(days=1):.1f} days)")
        return "\n".join(lines)


def surface_balance(surface: str, *, totals: Mapping[str, int], states: Mapping[str, StateCount], dead_lettered: int,
                    stale_after: timedelta) -> SurfaceBalance:
    """One surface's balance: `totals` has `received` (the units counted on their own) and checks that must be 0."""
    spec = SURFACES.get(surface, Surface(surface, surface, {}, (surface,)))
    counted = {state: c.n for state, c in states.items()}
    categories = dict.fromkeys(CATEGORIES, 0)
    for state, n in counted.items():
        categories[spec.category(state)] += n
    categories[DEAD_LETTERED] += dead_lettered
    received = int(totals.get("received", 0))
    problems = []
    if sum(counted.values()) != received:
        problems.append(f"states add up to {sum(counted.values())}, {received} received")
    if counted.get(BROKEN):
        problems.append(f"{counted[BROKEN]} units in no consistent state")
    problems += [f"{name.replace('_', ' ')}: {n}" for name, n in totals.items() if name != "received" and n]
    stale = sum(c.stale for state, c in states.items() if spec.category(state) == DUE and state != BROKEN)
    return SurfaceBalance(surface, spec.label, received + dead_lettered, counted, categories, stale, stale_after, problems)


def due_states(surface: str, states: Mapping[str, StateCount]) -> list[str]:
    """The states of `surface` whose units the gateway owes a step (stale when old)."""
    return sorted(s for s in states if _category(surface, s) == DUE and s != BROKEN)


def dead_letter_surfaces(counts: Mapping[str, int]) -> dict[str, int]:
    """Open dead letters by dead_letter.surface -> by balance surface (an unknown one is a surface of its own)."""
    by_surface: dict[str, int] = {}
    owner = {dl: s.name for s in SURFACES.values() for dl in s.dead_letters}
    for dl_surface, n in counts.items():
        if n:
            name = owner.get(dl_surface, dl_surface)
            by_surface[name] = by_surface.get(name, 0) + int(n)
    return by_surface


def mask_ref(ref: str | None) -> str:
    """An identifier shown in an alert: its first and last four characters (1a2b…9f0e); a short one not at all."""
    if ref is None:
        return ""
    text = str(ref)
    if len(text) <= 10:
        return "*" * len(text)
    return f"{text[:4]}****{text[-4:]}"


def stale_unit(surface: str, row: Mapping) -> StaleUnit:
    """A unit row (unit, ref, state, since) as a StaleUnit, its identifier masked."""
    ref = mask_ref(row.get("ref"))
    return StaleUnit(surface, row["state"], f"{row['unit']}" + (f" ({ref})" if ref else ""), row["since"])


def _category(surface: str, state: str) -> str:
    spec = SURFACES.get(surface)
    return spec.category(state) if spec else DUE


def _width(text: str) -> int:
    """Display width: a CJK character takes two columns."""
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
