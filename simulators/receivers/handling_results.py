"""How the simulated receivers handle what they accept (办理结果): each item's fate, decided from a
hash of (receiver, idempotency_key) and the configured mix, and the local time of its result, so
that a test knows the truth before it asks (simulators/receivers/__init__.py).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime

from simulators.batch_envelope import local_text, settings_of

RESULT_KINDS = ("done", "duplicate", "no_account", "arrears", "other", "silent", "late")  # an item's fate
FINAL = {  # fate -> (result, code) of its final result; "silent" has none
    "done": ("done", "0000"),
    "duplicate": ("done", "0201"),
    "no_account": ("rejected", "0002"),
    "arrears": ("rejected", "0003"),
    "other": ("rejected", "0009"),
    "late": ("done", "0000"),
}
RECEIVED = ("received", "0100", "已受理，待办理")
REASONS = {
    "duplicate": ["重复申请：该户过户已按此前申请办结"],
    "no_account": ["户号不存在"],
    "arrears": ["存在欠费未结清，请结清后办理"],
    "other": ["产权人信息与户主信息不一致", "表计故障，需现场核验后办理", "预付费表需持卡到营业厅办理", "该户已申请销户，无法办理过户",
              "新户主联系电话无法接通，请核实后重新申请"],
}
HANDLERS = ["王丽", "张伟", "李娜", "刘洋", "陈静", "杨帆", "赵敏", "孙强"]


def _default_mix() -> dict[str, float]:
    return {"done": 0.7, "duplicate": 0.05, "no_account": 0.05, "arrears": 0.05, "other": 0.03, "silent": 0.07, "late": 0.05}


@dataclass
class ResultsConfig:
    """How accepted items are handled; applies to items accepted after it is set (kept in the state)."""

    mix: dict[str, float] = field(default_factory=_default_mix)  # fate -> weight (normalised)
    delay_days: list[int] = field(default_factory=lambda: [0, 3])  # final result this many calendar days after acceptance
    late_days: list[int] = field(default_factory=lambda: [8, 15])  # ... for "late"
    acknowledge: bool = True  # a 0100 "received" result at acceptance, before the final one

    @classmethod
    def parse(cls, wanted: object) -> ResultsConfig:
        """From a POST /_sim/results body; keys not given take their defaults. ValueError names what is wrong."""
        config = settings_of(cls, wanted)
        if not isinstance(config.mix, dict) or not config.mix:
            raise ValueError(f"mix must be an object of weights by kind ({', '.join(RESULT_KINDS)})")
        odd = sorted(set(config.mix) - set(RESULT_KINDS))
        if odd:
            raise ValueError(f"unknown kinds in mix: {', '.join(odd)} (kinds: {', '.join(RESULT_KINDS)})")
        for kind, weight in config.mix.items():
            if type(weight) not in (int, float) or not 0 <= weight < math.inf:
                raise ValueError(f"mix.{kind} must be a number >= 0")
        total = sum(config.mix.values())
        if total <= 0:
            raise ValueError("mix must have a weight above 0")
        config.mix = {kind: config.mix.get(kind, 0) / total for kind in RESULT_KINDS}
        for name in ("delay_days", "late_days"):
            days = getattr(config, name)
            if (not isinstance(days, list) or len(days) != 2 or any(type(d) is not int for d in days)
                    or not 0 <= days[0] <= days[1] <= 366):
                raise ValueError(f"{name} must be [low, high], whole days, 0 <= low <= high <= 366")
        if type(config.acknowledge) is not bool:
            raise ValueError("acknowledge must be true or false")
        return config


def draw(receiver: str, key: str, what: str) -> float:
    """A number in [0, 1) fixed by (receiver, key, what): the simulator's decisions are reproducible."""
    digest = hashlib.sha256(f"{receiver}\n{key}\n{what}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def draw_fate(receiver: str, key: str, mix: dict[str, float]) -> str:
    u, total = draw(receiver, key, "fate"), 0.0
    weighted = [kind for kind in RESULT_KINDS if mix.get(kind, 0) > 0]
    for kind in weighted:
        total += mix[kind]
        if u < total:
            return kind
    return weighted[-1]  # rounding: the weights sum to 1 within a few ulps


def draw_handled_at(receiver: str, key: str, accepted: datetime, days: list[int]) -> str:
    """`days` (drawn in the range) calendar days after acceptance, in office hours 08:30-17:30; on
    the day of acceptance never before it (then 5-59 minutes after)."""
    low, high = days
    day = accepted.date() + timedelta(days=min(high, low + int(draw(receiver, key, "days") * (high - low + 1))))
    minute = 8 * 60 + 30 + int(draw(receiver, key, "time") * 9 * 60)
    moment = datetime.combine(day, dtime(minute // 60, minute % 60))
    if moment <= accepted:
        moment = accepted.replace(second=0) + timedelta(minutes=5 + int(draw(receiver, key, "minutes") * 55))
    return local_text(moment)
