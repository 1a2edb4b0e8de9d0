"""Vectorised building blocks of synthetic values (numpy string arrays, no Python loop per row),
shared by the platform generator (simulators/platform.py, simulators/platform_defects.py) and the
remote-collection module (simulators/remote_module.py): digits, concatenation, full-width forms,
resident ID numbers with their check character, and the pools of places they draw from.
"""

from __future__ import annotations

import numpy as np

from transforms.common.checkdigits import id_check_chars

# Resident-ID address prefixes from other provinces (buyers are not all from Shandong).
OTHER_PROVINCE_PREFIXES = np.array(
    ["110105", "120101", "130102", "140105", "210102", "220102", "310101", "320102", "330106", "340102", "410105", "440106", "500103", "610103"]
)
PERMIT_PREFIXES = np.array(["810000", "820000", "830000"])  # HK / Macao / Taiwan residence permits
ROADS = np.array(
    ["人民路", "解放路", "建设路", "和平路", "文化路", "青年路", "新华路", "胜利街", "幸福街", "民生路", "泰山路", "黄河路", "长江路", "府前街", "振兴路", "工业北路", "滨河路", "花园路", "中心街", "东风路"]
)
COMMUNITIES = np.array(["", "", "阳光花园", "金色家园", "翡翠城", "锦绣苑", "和谐小区", "书香苑", "滨河湾", "东方名苑", "世纪华庭", "丽景苑"])


def fullwidth_chars(values: np.ndarray) -> np.ndarray:
    """Digits and ASCII letters to their full-width forms (what an IME in full-width mode types)."""
    table = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}
    trans = str.maketrans(table)
    return np.array([v.translate(trans) if isinstance(v, str) else v for v in values], dtype=object)


def random_digits(rng: np.random.Generator, n: int, width: int, *, first: tuple[int, int] = (0, 10)) -> np.ndarray:
    """n random digit strings of `width`, the first digit drawn from [first[0], first[1]).

    Built as ASCII bytes and viewed as fixed-width strings: numpy's int-to-str is the slow path.
    """
    raw = rng.integers(48, 58, size=(n, width), dtype=np.uint8)
    raw[:, 0] = rng.integers(48 + first[0], 48 + first[1], size=n, dtype=np.uint8)
    return raw.view(f"S{width}").ravel().astype(f"U{width}")


def concat(*parts: np.ndarray | str) -> np.ndarray:
    """Element-wise concatenation of string arrays (numpy's C string loops, no Python objects)."""
    def text(part):
        part = np.asarray(part)
        return part if part.dtype.kind == "U" else part.astype(str)

    out = text(parts[0])
    for part in parts[1:]:
        out = np.strings.add(out, text(part))
    return out


def resident_ids(rng: np.random.Generator, prefixes: np.ndarray, births: np.ndarray) -> np.ndarray:
    """18-char resident IDs: 6-char prefix + yyyymmdd + 3-digit sequence + MOD 11-2 check."""
    body = np.strings.add(np.strings.add(prefixes.astype("U6"), births.astype("U8")), random_digits(rng, len(prefixes), 3))
    digits = body.astype("S17").view(np.uint8).reshape(len(body), 17).astype(np.int64) - 48
    return np.strings.add(body, id_check_chars(digits))
