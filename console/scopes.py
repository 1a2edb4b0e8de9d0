"""Who sees what in the web console: each signed-in user's scope, from a file outside the ledger.

The file is named by `$GATEWAY_CONSOLE_USERS` (default: console/demo_users.json, the demo data's users). JSON:

    {"users": {
        "auditor":  {"role": "province"},
        "jinan":    {"role": "city", "code": "370100"},
        "shizhong": {"role": "county", "code": "370103"},
        "shizhong-heat": {"role": "institution", "code": "913701030J57KFMWRC"},
        ...}}

| role | sees | may write |
|---|---|---|
| province | everything: all work orders, quarantine, the run reports and validation pages | no |
| city | the work orders of its city (`code`: the city's 6-digit code, e.g. 370100) | no |
| county | the work orders of its county (`code`: the county's XZQH, e.g. 370103) | no |
| institution | its own work orders (`code`: its unified social credit code), on its board | its results |

A trace (`/trace`) is scoped the same way (`Scope.trail`): a city or county sees trails in its area, an institution
only its own work orders' events.

The user name is the one Airflow's auth manager signs in (inside Airflow), or the name on the console's own sign-in
form (standalone, `python -m console`: only then a `password` is read from this file — the demo's). A user not in the
file is signed in but sees nothing (403). Scope is applied on the server to every request (console/app.py).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROLES: dict[str, str] = {
    "province": "省级（全省）",
    "city": "市级监督（本市，只读）",
    "county": "县级部门（本县，只读）",
    "institution": "承办单位（本单位工单）",
}
DEMO_USERS = Path(__file__).resolve().parent / "demo_users.json"


class UsersFileError(ValueError):
    """The users file is not what the module docstring describes."""


@dataclass(frozen=True)
class Scope:
    user: str
    role: str
    code: str = ""
    password: str | None = None  # the standalone sign-in form's only (the demo's); inside Airflow never read

    @property
    def label(self) -> str:
        return ROLES[self.role] + (f" {self.code}" if self.code else "")

    def orders(self, statuses: pd.DataFrame) -> pd.DataFrame:
        """The reconciled work orders this user may see (reconcile's rows)."""
        if self.role == "province":
            return statuses
        if self.role == "city":
            return statuses[statuses["city_code"] == self.code]
        if self.role == "county":
            return statuses[statuses["xzqh"] == self.code]
        return statuses[statuses["institution_code"] == self.code]

    def filters(self) -> dict[str, str]:
        """The same scope as SQL filters over the console's read model (connectors/ledger/console_store.py)."""
        column = {"province": None, "city": "city_code", "county": "xzqh", "institution": "institution_code"}[self.role]
        return {column: self.code} if column else {}

    def sees_area(self, xzqh: str) -> bool:
        """Whether an area's (county's) figures and lists are in this user's scope (institutions see only their own)."""
        if self.role == "province":
            return True
        if self.role == "city":
            return str(xzqh)[:4] == self.code[:4]
        return self.role == "county" and xzqh == self.code

    def trail(self, trace) -> pd.DataFrame | None:
        """What of a trace (jobs/common/trace.py `Trace`) this user may see: its events, or None — not found, or not
        theirs (the same answer, so a trace tells nobody what lies outside their scope). A city or county sees a trail
        whose records or packages lie in its area; an institution sees only the events of its own work orders (those
        routed to it, and the result exceptions about them), never the record's other utilities, verdicts or reminders."""
        if not trace.found:
            return None
        if self.role == "province":
            return trace.events
        if self.role in ("city", "county"):
            return trace.events if any(self.sees_area(a) for a in trace.areas) else None
        own = {key for key, code in trace.owners if code == self.code}
        if not own:
            return None
        subjects = own | {key.rsplit(":", 1)[0] for key in own}  # result exceptions name ROWGUID:utility
        return trace.events[trace.events["subject"].isin(subjects)].reset_index(drop=True)


def users_file() -> Path:
    return Path(os.environ.get("GATEWAY_CONSOLE_USERS", str(DEMO_USERS)))


def load_users(path: Path | None = None) -> dict[str, Scope]:
    """User name -> Scope; UsersFileError naming the entry that is wrong."""
    path = path or users_file()
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, dict):
        raise UsersFileError(f"{path}: expected an object with 'users'")
    out = {}
    for name, entry in users.items():
        role = entry.get("role") if isinstance(entry, dict) else None
        if role not in ROLES:
            raise UsersFileError(f"{path}: user {name!r}: role must be one of {', '.join(ROLES)}")
        code = str(entry.get("code") or "")
        if role != "province" and not code:
            raise UsersFileError(f"{path}: user {name!r}: role {role} needs a code")
        if role in ("city", "county") and not (code.isascii() and code.isdigit() and len(code) == 6):
            raise UsersFileError(f"{path}: user {name!r}: a {role} code is a 6-digit division code")
        out[name] = Scope(user=name, role=role, code=code, password=entry.get("password"))
    return out
