"""The purge of personal data past its retention (issue 15 item 2, PIPL §19/§47; docs/security.md): a value becomes

    purged:<blind index>:<masked form>        e.g. purged:k1:9f3a…(64 hex):370102********123X

— no longer the value, nor decryptable, but still equal-comparable (the blind index, HMAC-SM3 under the field key,
fieldcrypt.blind_index_column) and still readable the way pages show it (the masked form, transforms/common/mask.py).
A value without an index (unreadable token, or nothing left once normalised) is `purged::<masked form>`. NULL and ''
stay as they are, a value already purged stays as it is: purging twice changes nothing.

Bytes (a dead letter's payload, a value's original before cleaning) become `PURGED_BYTES` alone: no hash of them is kept,
as a hash of an ID number or a phone is found back by trying every number (a dead letter keeps its payload_sha256,
which the purge never touches, as every hash and count).

Kinds: `id` (ID numbers: first 6 and last 4 kept), `phone` (first 3 and last 4), `name` (first character), `text`
(a value of any field — a failing value, an unmatched result value: ID numbers and phones in it masked as such, else
its first character kept). Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from transforms.common.fieldcrypt import PURGED, FieldCryptError, Keyring, blind_index_column, decrypt_column
from transforms.common.mask import mask_id, mask_in_text, mask_names, mask_phone

PURGED_BYTES = PURGED.encode()
INDEX_KIND = {"id": "id", "phone": "phone", "name": "text", "text": "text"}

# The kind of every personal column (connectors/ledger/personal.py PERSONAL): how it is masked and indexed.
COLUMN_KIND: dict[tuple[str, str], str] = {
    **{("received_record", c): "name" for c in ("zrfxm", "zcfxm")},
    **{("received_record", c): "id" for c in ("zrfzjhm", "zcfzjhm")},
    **{("received_record", c): "phone" for c in ("zrflxdh", "zcflxdh")},
    ("remote_applicant", "sqrxm"): "name",
    ("remote_applicant", "zjhm"): "id",
    ("sms_outbox", "phone"): "phone",
    ("rule_failure", "value"): "text",
    ("result_exception", "value"): "text",
    ("remote_failure", "value"): "text",
}


def kind_of_column(table: str, column: str) -> str:
    """A personal column's kind; a column nobody classified is `text` (masked hardest: its first character kept)."""
    return COLUMN_KIND.get((table, column), "text")


def _mask_text(values: pd.Series) -> pd.Series:
    found = mask_in_text(values)
    return found.where(found != values, mask_names(values))  # no ID number nor phone in it: its first character kept


MASKERS = {"id": mask_id, "phone": mask_phone, "name": mask_names, "text": _mask_text}


@dataclass
class Purged:
    """A column's values purged: the new values, how many changed, and how many lost their index (unreadable token)."""

    values: list
    changed: int = 0
    unindexed: int = 0
    positions: list[int] = field(default_factory=list)  # the rows that changed


def is_due(value) -> bool:
    """A value still to purge: text that is neither NULL, '' nor purged already."""
    return isinstance(value, str) and value != "" and not value.startswith(PURGED)


def purge_values(values, keyring: Keyring, *, table: str, column: str, kind: str | None = None) -> Purged:
    """Each value as `purged:<index>:<masked>` (module docstring); NULL, '' and purged values kept. A token that does
    not decrypt (its key gone, altered) is purged all the same, without index nor masked form: erasure is the point."""
    kind = kind or kind_of_column(table, column)
    items = list(values)
    due = [i for i, v in enumerate(items) if is_due(v)]
    out = Purged(list(items))
    if not due:
        return out
    clear: list[str | None]
    try:  # the column at once (the bulk SM4 path: bench-purge's dearest part was one value at a time)
        clear = list(decrypt_column([items[i] for i in due], keyring, table=table, column=column))
    except FieldCryptError:  # then one at a time: one bad token must not stop the others
        clear = []
        for i in due:
            try:
                clear.append(decrypt_column([items[i]], keyring, table=table, column=column)[0])
            except FieldCryptError:
                clear.append(None)
    readable = [c for c in clear if c is not None]
    indexes = iter(blind_index_column(readable, keyring, kind=INDEX_KIND[kind], column=column))
    masked = iter(MASKERS[kind](pd.Series(readable, dtype=object)).tolist())
    for i, c in zip(due, clear, strict=True):
        if c is None:
            out.values[i] = PURGED + ":"
            out.unindexed += 1
        else:
            index, shown = next(indexes), next(masked)
            out.values[i] = f"{PURGED}{index or ''}:{shown}"
            out.unindexed += index is None
        out.changed += 1
        out.positions.append(i)
    return out


def purge_bytes(values) -> Purged:
    """Byte strings as PURGED_BYTES; None and values already purged kept."""
    items = list(values)
    out = Purged(list(items))
    for i, v in enumerate(items):
        if v is not None and bytes(v) != PURGED_BYTES:
            out.values[i] = PURGED_BYTES
            out.changed += 1
            out.positions.append(i)
    return out
