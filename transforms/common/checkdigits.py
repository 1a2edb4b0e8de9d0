"""Check-character algorithms of docs/domain.md §4, vectorised over numpy arrays.

Used by validation (to verify) and by the synthetic platform (to make valid numbers).
"""

from __future__ import annotations

import re

import numpy as np

# GB 11643-1999, ISO 7064 MOD 11-2.
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK_CHARS = np.array(list("10X98765432"))

# GB 32100-2015: 31 characters, no I O Z S V; weights 3^i mod 31.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
_USCC_VALUE = np.full(128, -1, dtype=np.int64)
for _i, _c in enumerate(USCC_CHARSET):
    _USCC_VALUE[ord(_c)] = _i


def id_check_chars(body_digits: np.ndarray) -> np.ndarray:
    """Check characters for an (n, 17) int array of resident-ID body digits."""
    return ID_CHECK_CHARS[(body_digits @ ID_WEIGHTS) % 11]


def id_check_char(body: str) -> str:
    """Check character for one 17-digit resident-ID body."""
    digits = np.frombuffer(body.encode("ascii"), dtype=np.uint8).astype(np.int64) - 48
    return str(id_check_chars(digits[None, :])[0])


def uscc_check_chars(body_values: np.ndarray) -> np.ndarray:
    """Check characters for an (n, 17) int array of USCC character values (0..30)."""
    charset = np.array(list(USCC_CHARSET))
    return charset[(31 - (body_values @ USCC_WEIGHTS) % 31) % 31]


def uscc_values(codes: np.ndarray) -> np.ndarray:
    """(n, 18) character values of 18-char ASCII codes; -1 where a character is not allowed."""
    return _USCC_VALUE[ascii_matrix(codes, 18)]


def ascii_matrix(codes: np.ndarray, width: int) -> np.ndarray:
    """(n, width) uint8 matrix of n ASCII strings of exactly `width` characters."""
    return np.asarray(codes).astype(f"S{width}").view(np.uint8).reshape(len(codes), width)


_ID_CHECK_BYTES = np.frombuffer("10X98765432".encode("ascii"), dtype=np.uint8)


def _weighted_sum(columns: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per row of an (n, k) small-integer matrix: the sum of column i times weights[i].

    One column at a time in int32: faster than numpy's integer matrix product, and no BLAS
    threads (which would compete with the transforms' own).
    """
    total = np.zeros(len(columns), dtype=np.int32)
    for i, w in enumerate(weights.tolist()):
        total += columns[:, i] * np.int32(w)
    return total.astype(np.int64)


def id_check_ok(matrix: np.ndarray) -> np.ndarray:
    """Per row of an (n, 18) uint8 matrix of `\\d{17}[\\dX]` resident IDs: is the check character right?"""
    total = _weighted_sum(matrix, ID_WEIGHTS) - 48 * int(ID_WEIGHTS.sum())
    return _ID_CHECK_BYTES[total % 11] == matrix[:, 17]


def uscc_check_ok(matrix: np.ndarray) -> np.ndarray:
    """Per row of an (n, 18) uint8 matrix of USCC-charset codes: is the check character right?"""
    values = _USCC_VALUE[matrix]
    return (31 - _weighted_sum(values, USCC_WEIGHTS) % 31) % 31 == values[:, 17]


# GB 11714-1997 organisation code: 8 body characters (digits, upper-case letters), weights
# 3 7 9 10 5 8 4 2; C9 = 11 - (sum mod 11), 10 -> 'X', 11 -> '0'. Letters count as 10..35.
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_code_check_char(body: str) -> str:
    """Check character of an 8-character organisation-code body (GB 11714)."""
    total = sum(int(c, 36) * w for c, w in zip(body, ORG_WEIGHTS))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def org_code_ok(code: str) -> bool:
    """`XXXXXXXX-C` or `XXXXXXXXC` with the right GB 11714 check character."""
    body, check = code.replace("-", "")[:8], code[-1]
    return len(code.replace("-", "")) == 9 and body.isalnum() and org_code_check_char(body) == check


# Foreigners' permanent residence ID card, 2023 edition: '9' + issuing province (2 digits) +
# nationality (3) + birth date (8) + sequence (3) + MOD 11-2 check (as GB 11643).
PR_2023_FIRST = ord("9")


# Hong Kong identity card (香港身份证, Registration of Persons Regulations; algorithm as published
# by the HK Immigration Department's card layout and widely reproduced): 1 or 2 letters + 6 digits +
# check character. With one letter, a space (value 36) stands before it; letters count A=10 … Z=35,
# weights 9 8 7 6 5 4 3 2; check = 11 - (sum mod 11), 10 -> 'A', 11 -> '0'. Published example:
# A123456(3).
_HK_ID = re.compile(r"([A-Z]{1,2})(\d{6})\(?([\dA])\)?")


def hk_id_ok(number: str) -> bool | None:
    """True / False for a HK identity card's check character; None when `number` is not that shape."""
    m = _HK_ID.fullmatch(number)
    if m is None:
        return None
    letters, digits, check = m.groups()
    values = ([36] if len(letters) == 1 else []) + [int(c, 36) for c in letters] + [int(d) for d in digits]
    c = 11 - sum(v * w for v, w in zip(values, range(9, 1, -1))) % 11
    return check == ("A" if c == 10 else "0" if c == 11 else str(c))


# Taiwan national ID (中華民國國民身分證統一編號): a letter for the place of first registration, 1/2 for
# the sex, 7 digits and a check digit. The letter becomes two digits (A=10 … H=17, I=34, J=18 … N=22,
# O=35, P=23 … V=29, W=32, X=30, Y=31, Z=33); weights 1 9 8 7 6 5 4 3 2 1 1; the sum is a multiple
# of 10. Published example: A123456789.
_TW_ID = re.compile(r"([A-Z])([12]\d{8})")
_TW_LETTER = {c: v for v, c in zip([10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21, 22, 35, 23, 24, 25, 26, 27, 28, 29, 32, 30, 31, 33],
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ")}


def taiwan_id_ok(number: str) -> bool | None:
    """True / False for a Taiwan ID's check digit; None when `number` is not that shape."""
    m = _TW_ID.fullmatch(number)
    if m is None:
        return None
    head = _TW_LETTER[m.group(1)]
    digits = [head // 10, head % 10] + [int(d) for d in m.group(2)]
    return sum(d * w for d, w in zip(digits, (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1))) % 10 == 0


def permit_check_ok(number: str) -> bool:
    """A type-2 (港澳台) document number's check character, where its shape has a published one
    (HK identity card, Taiwan ID); True for shapes without one (Macao ID, travel permits)."""
    for check in (hk_id_ok, taiwan_id_ok):
        ok = check(number)
        if ok is not None:
            return ok
    return True

