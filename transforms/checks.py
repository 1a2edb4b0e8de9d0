"""Check-character algorithms of docs/domain.md §4, vectorised over numpy arrays.

Used by validation (to verify) and by the synthetic platform (to make valid numbers).
"""

from __future__ import annotations

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
