"""Personal data at rest in the ledger (issue 15 item 1; docs/security.md): which columns hold ID numbers, phones and
names, and the ledger's one way to write them (`seal`, SM4-GCM tokens) and read them back (`unseal`).

Writers seal what they take from outside before it reaches a table; only the readers that need a clear value unseal
it (validation, delivery to the receiver, the SMS sender, and reports/pages/trace that mask it at once in memory). The
keyring comes from the Connection / key file (jobs/common/field_keys.py), loaded once per ledger on first use;
`use_keyring` sets it (tests, tools).

`seal` and `unseal` take an Arrow table, a pandas DataFrame or a list of dicts and give back the same shape. A column
is sealed under its ledger name (`<table>.<column>` is in every token's AAD); a reader whose SELECT renames a column
(`r.zrfzjhm AS buyer_id`) passes the names: `unseal(rows, "received_record", names={"buyer_id": "zrfzjhm"})`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from transforms.common.fieldcrypt import Keyring, decrypt_bytes, decrypt_column, encrypt_bytes_column, encrypt_column

# Every ledger column that holds a citizen's ID number, phone or name — text columns; `dead_letter.payload` and
# `received_original.original` are bytes (a whole unit as received / a value before cleaning) and sealed whole.
PERSONAL: dict[str, tuple[str, ...]] = {
    "received_record": ("zrfxm", "zrfzjhm", "zrflxdh", "zcfxm", "zcfzjhm", "zcflxdh"),
    "rule_failure": ("value",),  # a failing value of any rule: sealed whatever the field (few rows; no guessing)
    "result_exception": ("value",),  # a result file's value the gateway could not match
    "sms_outbox": ("phone",),
    "remote_applicant": ("sqrxm", "zjhm"),
    "remote_failure": ("value",),
}
PERSONAL_BYTES: dict[str, tuple[str, ...]] = {
    "dead_letter": ("payload",),
    "received_original": ("original",),
}
# How reports name received_record's buyer columns (reconciliation_of_versions.sql).
BUYER_AS: dict[str, str] = {"buyer_id": "zrfzjhm", "buyer_name": "zrfxm", "buyer_phone": "zrflxdh"}


def _columns(names: list[str], table: str, given: Mapping[str, str] | None) -> dict[str, str]:
    """{column in the data: column in `table`} for the personal columns present (matched case-insensitively)."""
    personal = set(PERSONAL.get(table, ()))
    out = {n: n.lower() for n in names if n.lower() in personal}
    for name, column in (given or {}).items():
        if name in names:
            out[name] = column
    return out


_PART = 4096  # values per task: big columns are cut into parts that run on every core at once


def _pool():
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1), thread_name_prefix="fieldcrypt")
    return _POOL


_POOL: ThreadPoolExecutor | None = None


def _run(columns: dict[str, list], fn) -> dict[str, list]:
    """fn(values, column) over every column's values, in parts of _PART on a thread pool: `cryptography` releases the
    GIL inside OpenSSL, so SM4 on one column's parts and on several columns runs on all cores (2.2x on 2 cores)."""
    tasks = [(name, column, values[i:i + _PART]) for name, (column, values) in columns.items() for i in range(0, len(values), _PART)]
    if len(tasks) <= 1:
        return {name: list(fn(values, column)) for name, (column, values) in columns.items()}
    done = list(_pool().map(lambda task: list(fn(task[2], task[1])), tasks))
    out: dict[str, list] = {name: [] for name in columns}
    for (name, _, _), part in zip(tasks, done, strict=True):
        out[name].extend(part)
    return out


def _apply(data, table: str, names: Mapping[str, str] | None, fn):
    import pandas as pd
    import pyarrow as pa

    if isinstance(data, pa.Table):
        wanted = _columns(data.column_names, table, names)
        done = _run({name: (column, data[name].to_pylist()) for name, column in wanted.items()}, fn)
        for name, values in done.items():
            data = data.set_column(data.column_names.index(name), name, pa.array(values, pa.string()))
        return data
    if isinstance(data, pd.DataFrame):
        data = data.copy()
        wanted = _columns(list(data.columns), table, names)
        clear = {name: (column, data[name].astype(object).where(data[name].notna(), None).tolist()) for name, column in wanted.items()}
        for name, values in _run(clear, fn).items():
            data[name] = pd.Series(values, index=data.index, dtype=object)
        return data
    rows = [dict(r) for r in data]
    if not rows:
        return rows
    wanted = _columns(list(rows[0]), table, names)
    for name, values in _run({name: (column, [r[name] for r in rows]) for name, column in wanted.items()}, fn).items():
        for row, value in zip(rows, values, strict=True):
            row[name] = value
    return rows


def seal_data(data, keyring: Keyring, table: str, *, names: Mapping[str, str] | None = None):
    """The personal columns of `data` (those of `table` in PERSONAL, or renamed by `names`) as tokens. Everything is
    taken as clear: a value from outside that looks like a token is encrypted like any other."""
    return _apply(data, table, names, lambda values, column: encrypt_column(values, keyring, table=table, column=column, fresh=True))


def unseal_data(data, keyring: Keyring, table: str, *, names: Mapping[str, str] | None = None):
    """The personal columns of `data` back to clear values (legacy clear values pass as they are)."""
    return _apply(data, table, names, lambda values, column: decrypt_column(values, keyring, table=table, column=column))


class PersonalStore:
    """Mixed into the Ledger: its keyring and the seal/unseal of its personal columns."""

    _keyring: Keyring | None = None
    # False only in bench/bench_extract.py, to measure the same run without encryption (the cost it prints); no setting,
    # variable or command turns it off in the gateway.
    personal_at_rest: bool = True

    @property
    def keyring(self) -> Keyring:
        if self._keyring is None:
            from jobs.common.field_keys import load_keyring  # the Connection / key file: loaded on first use only

            self._keyring = load_keyring()
        return self._keyring

    def use_keyring(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def seal(self, data, table: str, *, names: Mapping[str, str] | None = None):
        return seal_data(data, self.keyring, table, names=names) if self.personal_at_rest else data

    def unseal(self, data, table: str, *, names: Mapping[str, str] | None = None):
        return unseal_data(data, self.keyring, table, names=names)

    def seal_bytes(self, values, table: str, column: str) -> list:
        return encrypt_bytes_column(values, self.keyring, table=table, column=column)

    def unseal_bytes(self, value, table: str, column: str):
        return decrypt_bytes(value, self.keyring, table=table, column=column)
