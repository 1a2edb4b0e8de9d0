"""The owners' rules (transforms/cohandling/rule_catalogue.py): ID types, ID numbers and their
check characters, names, phones and owner counts on each side of a record (ZRF buyers, ZCF
sellers), vectorised over one block of rows (transforms/cohandling/rule_blocks.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.cohandling.annex1 import ID_TYPES
from transforms.cohandling.normalize import SERVICE_PATTERN, canonical_phones
from transforms.cohandling.rule_blocks import Block, Failures, Lookups, distinct_sorted, index_in, matches, matches_where
from transforms.cohandling.rule_catalogue import (
    LANDLINE_PATTERN,
    MOBILE_PATTERN,
    NAME_BAD_PATTERN,
    OLD_PR_PATTERN,
    PASSPORT_PATTERN,
    PERMIT_PATTERN,
    PROVINCE_PREFIXES,
    RESIDENT_ID_TYPES,
    Context,
)
from transforms.common import dates, utf8
from transforms.common.checkdigits import USCC_CHARSET, id_check_ok, org_code_ok, permit_check_ok, uscc_check_ok


def _list_lengths(lists: pa.Array) -> np.ndarray:
    return pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False).astype(np.int64)


def _starts(lengths: np.ndarray) -> np.ndarray:
    return np.cumsum(lengths) - lengths



def _fixed(values: pa.Array, lengths: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions, byte matrix) of the values exactly `width` bytes long."""
    idx = np.flatnonzero(lengths == width)
    if not len(idx):
        return idx, np.zeros((0, width), dtype=np.uint8)
    return idx, utf8.fixed_width_matrix(values.take(pa.array(idx)), width)


def _type_flags(dictionary: list[str]) -> dict[str, np.ndarray]:
    """Per ID type code (and a last entry for "no type"): which kind of ID it is."""

    def flag(codes) -> np.ndarray:
        return np.array([d in codes for d in dictionary] + [False])

    return {
        "known": flag(ID_TYPES), "resident": flag(RESIDENT_ID_TYPES), "permit": flag(("2",)), "passport": flag(("3",)),
        "company": flag(("6", "7", "8")), "org": flag(("6",)), "licence": flag(("7",)),
        "id_card": flag(("1",)), "other": flag(("99",)),
    }


_PROVINCE = np.zeros(100, dtype=bool)
_PROVINCE[[int(p) for p in PROVINCE_PREFIXES]] = True


def _province_ok(m: np.ndarray) -> np.ndarray:
    """Per 18-byte ID: a province code in front, or '9' + a province code (2023 permanent residence card)."""
    first = (m[:, 0].astype(np.int64) - 48) * 10 + m[:, 1] - 48
    after_nine = (m[:, 1].astype(np.int64) - 48) * 10 + m[:, 2] - 48
    return np.where(m[:, 0] == ord("9"), _PROVINCE[np.clip(after_nine, 0, 99)], _PROVINCE[np.clip(first, 0, 99)])
_USCC_ALLOWED = np.zeros(256, dtype=bool)
_USCC_ALLOWED[np.frombuffer(USCC_CHARSET.encode("ascii"), dtype=np.uint8)] = True


class _IdShapes:
    """Shapes of ID numbers read from their bytes, where a regular expression is not needed:
    `\\d{17}[\\dX]` (resident ID), `[0-9A-HJ-NPQRTUWXY]{18}` (USCC), `\\d{15}`."""

    def __init__(self, numbers: pa.Array, lengths: np.ndarray) -> None:
        self._at18, self._m18 = _fixed(numbers, lengths, 18)
        self.eighteen, self.fifteen = (np.zeros(len(numbers), dtype=bool) for _ in range(2))
        last = self._m18[:, 17]
        self.eighteen[self._at18] = utf8.rows_digits(self._m18, 0, 17) & (((last - np.uint8(48)) <= 9) | (last == ord("X")))
        at15, m15 = _fixed(numbers, lengths, 15)
        self.fifteen[at15] = utf8.rows_digits(m15, 0, 15)
        self._row18 = np.full(len(numbers), -1, dtype=np.int64)
        self._row18[self._at18] = np.arange(len(self._at18))

    def uscc(self, where: np.ndarray) -> np.ndarray:
        """USCC shape, computed at the positions of the boolean mask `where` only (False elsewhere)."""
        out = np.zeros(len(where), dtype=bool)
        idx = np.flatnonzero(where & (self._row18 >= 0))
        out[idx] = utf8.rows_all(_USCC_ALLOWED[self.bytes18(idx)])
        return out

    def over18(self, check: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """`check` over the (k, 18) bytes of every 18-byte number, spread to all numbers (False elsewhere)."""
        out = np.zeros(len(self.eighteen), dtype=bool)
        out[self._at18] = check(self._m18)
        return out

    def bytes18(self, idx: np.ndarray) -> np.ndarray:
        """(len(idx), 18) bytes of the 18-byte numbers at positions idx."""
        return self._m18[self._row18[idx]]


def _birth_date_bad(matrix: np.ndarray, as_of: datetime) -> np.ndarray:
    """Per resident ID (n, 18 bytes): the birth date is not a real date, before 1880, or after `as_of`."""
    ymd = utf8.decimal(matrix, 6, 14)
    # Born at midnight: later than as_of exactly when the date is after as_of's date.
    today = pd.Timestamp(as_of)
    return ~dates.real_yyyymmdd(ymd) | (ymd < 18800101) | (ymd > today.year * 10000 + today.month * 100 + today.day)


def check_parties(b: Block, prefix: str, ctx: Context, lookups: Lookups, f: Failures) -> None:
    id_field, type_field, phone_field = f"{prefix}ZJHM", f"{prefix}ZJZL", f"{prefix}LXDH"
    id_lists, type_lists = b.arr(f"{prefix}_IDS"), b.arr(f"{prefix}_TYPES")
    names, types, ids, phones = (_list_lengths(b.arr(f"{prefix}_{k}")) for k in ("NAMES", "TYPES", "IDS", "PHONES"))
    present = (names > 0) & (ids > 0)
    # One ID type or one phone for several owners is common and unambiguous, and so are several
    # phones for one owner ("13812345678/0531-88557856"); other mismatches are not. The failure names
    # the list that disagrees: the ID numbers against the names, else the types, else the phones.
    names_ids = present & (names != ids)
    types_off = present & ~names_ids & (types != ids) & (types != 1) & (types > 0)
    phones_off = present & ~names_ids & ~types_off & (phones != ids) & (phones != 1) & (phones > 0) & ~((ids == 1) & (phones > 1))
    f.add(np.flatnonzero(names_ids), "OWNER_COUNT", id_field)
    f.add(np.flatnonzero(types_off), "OWNER_COUNT", type_field)
    f.add(np.flatnonzero(phones_off), "OWNER_COUNT", phone_field)

    numbers = pc.list_flatten(id_lists)
    parents = np.repeat(np.arange(b.n), ids)
    pos = np.arange(len(numbers)) - np.repeat(_starts(ids), ids)
    # The ID type of each number: the one at the same position, or else the record's first one
    # (as a code into the types' dictionary; -1 for none).
    encoded = pc.list_flatten(type_lists).dictionary_encode()
    t_codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    t_starts = _starts(types)
    first = np.full(b.n, -1, dtype=np.int64)
    first[types > 0] = t_codes[t_starts[types > 0]]
    same_pos = pos < types[parents]
    code = first[parents]
    code[same_pos] = t_codes[t_starts[parents[same_pos]] + pos[same_pos]]
    kind = {k: v[code] for k, v in _type_flags(encoded.dictionary.to_pylist()).items()}

    lengths = utf8.byte_lengths(numbers)
    empty = lengths == 0
    if numbers.null_count:
        empty |= pc.is_null(numbers).to_numpy(zero_copy_only=False)
    f.add(distinct_sorted(parents[empty & ~b.null(id_field)[parents]]), "REQUIRED", id_field)
    f.add(distinct_sorted(parents[~kind["known"] & (code >= 0)]), "ID_TYPE_UNKNOWN", type_field, with_value=True)

    shapes = _IdShapes(numbers, lengths)
    eighteen, fifteen = shapes.eighteen, shapes.fifteen

    resident, permit = kind["resident"] & ~empty, kind["permit"] & ~empty
    passport, company = kind["passport"] & ~empty, kind["company"] & ~empty
    uscc_shape = shapes.uscc(company)  # only companies' numbers are read as USCC
    hk_macao_tw = matches_where(numbers, permit & ~eighteen, PERMIT_PATTERN)
    # The 2004 foreigners' permanent residence card (3 letters + 12 digits) under 身份证, 港澳台 or 其它.
    old_pr = matches_where(numbers, (kind["id_card"] | permit | kind["other"]) & ~empty & ~eighteen & ~fifteen, OLD_PR_PATTERN)
    shape_bad = (resident & ~eighteen & ~fifteen & ~old_pr) | (permit & ~eighteen & ~hk_macao_tw & ~old_pr)
    shape_bad |= passport & ~matches_where(numbers, passport, PASSPORT_PATTERN)
    org_code = matches_where(numbers, company & kind["org"] & ~uscc_shape, r"[0-9A-Z]{8}-?[0-9X]")
    shape_bad |= company & ~uscc_shape & ~org_code & ~(kind["licence"] & fifteen)
    f.add(distinct_sorted(parents[shape_bad]), "ID_FORMAT", id_field, with_value=True)

    # Resident IDs (and 18-digit residence permits): check character, birth date, province.
    # (Computed over every 18-byte number at once, which is cheaper than gathering the chosen
    # ones; only the chosen ones' results are used.)
    # A 2023 permanent residence card ('9' + 17) is recognisable whatever type it is filed
    # under: under 其它 (99) it is checked too.
    pr_2023 = shapes.over18(lambda m: m[:, 0] == ord("9"))
    chosen = (resident | permit | (kind["other"] & pr_2023 & ~empty)) & eighteen
    f.add(distinct_sorted(parents[chosen & ~shapes.over18(id_check_ok)]), "ID_CHECKSUM", id_field, with_value=True)
    f.add(distinct_sorted(parents[chosen & shapes.over18(lambda m: _birth_date_bad(m, ctx.as_of))]), "ID_BIRTH_DATE", id_field, with_value=True)
    province = shapes.over18(_province_ok)
    f.add(distinct_sorted(parents[chosen & ~province]), "ID_PROVINCE", id_field, with_value=True)
    f.add(distinct_sorted(parents[resident & fifteen]), "ID_LEGACY_15", id_field, with_value=True)

    # 港澳台 documents whose shape has a published check character (HK identity card, Taiwan ID).
    at = np.flatnonzero(hk_macao_tw)
    wrong = np.array([not permit_check_ok(v) for v in numbers.take(pa.array(at)).to_pylist()], dtype=bool) if len(at) else np.zeros(0, dtype=bool)
    f.add(distinct_sorted(parents[at[wrong]]), "ID_CHECKSUM", id_field, with_value=True)

    # Organisation codes (type 6, 9 characters): the GB 11714 check character.
    org_at = np.flatnonzero(org_code)
    if len(org_at):
        org_bad = np.array([not org_code_ok(v) for v in numbers.take(pa.array(org_at)).to_pylist()], dtype=bool)
        f.add(distinct_sorted(parents[org_at[org_bad]]), "ORG_CODE_CHECKSUM", id_field, with_value=True)
    else:
        f.add(org_at, "ORG_CODE_CHECKSUM", id_field, with_value=True)

    # Names: each owner's name neither digits only nor holding a control character.
    name_values = pc.list_flatten(b.arr(f"{prefix}_NAMES"))
    n_parents = np.repeat(np.arange(b.n), names)
    name_bad = matches(name_values, NAME_BAD_PATTERN)
    f.add(distinct_sorted(n_parents[name_bad]), "NAME_FORMAT", f"{prefix}XM", with_value=True)

    # Companies: the USCC check character (type 8, or 6/7 given as an 18-char code).
    idx = np.flatnonzero(company & uscc_shape)
    f.add(distinct_sorted(parents[idx[~uscc_check_ok(shapes.bytes18(idx))]]), "USCC_CHECKSUM", id_field, with_value=True)

    # Phones: every listed phone must be a mobile or a landline (Shandong local lengths).
    phone_values = pc.list_flatten(b.arr(f"{prefix}_PHONES"))
    p_parents = np.repeat(np.arange(b.n), phones)
    rows = distinct_sorted(p_parents[~_phone_ok(phone_values, lookups)])
    if prefix == "ZCF":  # the seller's phone is optional; when given it must be right
        rows = rows[~b.null(phone_field)[rows]]
    f.add(rows, "PHONE", phone_field, with_value=True)


def _phone_ok(phones: pa.Array, lookups: Lookups) -> np.ndarray:
    """Mobile or landline (`_phone_ok_by_pattern`). The usual shapes are read from the bytes —
    an 11-digit mobile `1[3-9]…`, a landline `0AAA-NNNNNNN(N)` or `0AAANNNNNNN(N)` with a
    four-digit area code — and every other phone goes through the patterns."""
    lengths = utf8.byte_lengths(phones)
    ok = np.zeros(len(phones), dtype=bool)
    decided = np.zeros(len(phones), dtype=bool)
    for width in (11, 12, 13):
        at, m = _fixed(phones, lengths, width)
        if not len(at):
            continue
        if width == 11:
            mobile = (m[:, 0] == ord("1")) & ((m[:, 1] - np.uint8(ord("3"))) <= 6) & utf8.rows_digits(m, 2, 11)
            decided[at[mobile]] = ok[at[mobile]] = True
        # For a `0[3-9]` area code the pattern's only reading is: four-digit area, optional
        # dash, local number (its length checked against the Shandong area codes).
        long_area = (m[:, 0] == ord("0")) & ((m[:, 1] - np.uint8(ord("3"))) <= 6) & utf8.rows_digits(m, 2, 4)
        area = (m[:, 1].astype(np.int64) - 48) * 100 + (m[:, 2].astype(np.int64) - 48) * 10 + m[:, 3] - 48
        need = lookups.landline_digits[np.where(long_area, area, 0)]
        forms = []
        if width in (11, 12):
            forms.append((long_area & utf8.rows_digits(m, 4, width), width - 4))
        if width in (12, 13):
            forms.append((long_area & (m[:, 4] == ord("-")) & utf8.rows_digits(m, 5, width), width - 5))
        for form, local in forms:
            decided[at[form]] = True
            ok[at[form]] = ((need == -1) | (need == local))[form]
    rest = np.flatnonzero(~decided)
    if len(rest):
        ok[rest] = _phone_ok_by_pattern(phones.take(pa.array(rest)), lookups)
    return ok


def _phone_ok_by_pattern(phones: pa.Array, lookups: Lookups) -> np.ndarray:
    """The general path: each phone as written (dashes, brackets, +86, extensions) rewritten to
    its canonical form (transforms/normalize.PHONE_REWRITES), then matched: mobile, landline
    (local length per Shandong area code), or service number (400/800/95/96)."""
    phones = canonical_phones(phones)
    mobile = matches(phones, MOBILE_PATTERN.strip("^$")) | matches(phones, SERVICE_PATTERN.strip("^$"))
    parts = pc.extract_regex(phones, LANDLINE_PATTERN)
    short = pc.struct_field(parts, [0])
    area = pc.if_else(pc.fill_null(pc.greater(pc.utf8_length(short), 0), False), short, pc.struct_field(parts, [1]))
    local_len = pc.fill_null(pc.utf8_length(pc.struct_field(parts, [2])), 0).to_numpy(zero_copy_only=False)
    is_landline = pc.is_valid(parts).to_numpy(zero_copy_only=False)
    need = lookups.area_digits[index_in(area, lookups.area_codes)]
    length_ok = (need == -1) | (local_len == need)
    return mobile | (is_landline & length_ok)
