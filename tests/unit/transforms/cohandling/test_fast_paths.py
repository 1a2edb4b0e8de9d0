"""Every fast path of normalisation and validation agrees with the general path it stands in for.

The fast paths skip work on values whose bytes show it would change nothing, or read a
common shape straight from the bytes (transforms/common/utf8.py); the general paths — the
regular expressions, Unicode NFKC, the pandas date parser — are kept for everything else.
Here both run on the same awkward values, and evaluation is checked not to depend on how
the rows are cut into blocks or spread over threads.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from jobs.common import reference
from simulators.platform import generate
from simulators.registry import build_registry
from transforms.cohandling import normalize, owner_rules, rule_blocks, rule_catalogue
from transforms.cohandling import record_rules as rules
from transforms.common import parallel, utf8
from transforms.common.checkdigits import ID_WEIGHTS, USCC_CHARSET, USCC_WEIGHTS, id_check_ok, uscc_check_ok

AS_OF = datetime(2024, 12, 31, 23, 59, 59)

# Characters that each clean-up treats specially: spaces of every kind, controls, full-width
# forms, separators of both widths, combining marks, compatibility characters, other digits.
ODD = [
    " ", "  ", "\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1f", "\x00", "\x7f", "\u3000", "\u00a0", "\u2003", "\u0085", "\u200b",
    "\ufeff", "（", "）", "(", ")", ",", "，", "、", "/", ";", "；", ",,", "x", "ｘ", "Ｘ", "０", "９", "٣", "\u0301", "\uf900",
    "\u2f00", "〇", "·", "・", "•", "．", "‧", "･", "⋅", "\u200d", "\u2060", "\u00ad", "😀", "ß", "ﬁ", "①", "-", "+", ".", "a", "Ａ", "\u4e00", "\u9fff", "\u3400", "\ua000", "\u3001", "㈠", "ǅ", "ı",
]
BASES = ["370102199001011234", "张三", "鲁(2021)济南市不动产权第0000001号", "2024-03-05 10:11:12", "济南市历下区泉城路1号", "w0001", "13812345678", ""]


def _awkward() -> list[str | None]:
    values: list[str | None] = [None, "", " ", "\u3000", "  ", *BASES, *ODD]
    for base, odd in itertools.product(BASES, ODD):
        middle = len(base) // 2
        values += [odd + base, base[:middle] + odd + base[middle:], base + odd]
    return values


AWKWARD = _awkward()


def _arrays(values: list[str | None]) -> list[pa.Array]:
    """The values as large_string, also sliced (non-zero offset) and with a null slot holding bytes."""
    whole = pa.array(values, pa.large_string())
    offsets = np.frombuffer(whole.buffers()[1], dtype=np.int64)[: len(values) + 1]
    valid = np.array([v is not None for v in values])
    valid[1] = False  # "" made null: its slot keeps whatever bytes it has (none)
    valid[4] = False  # "  " made null: a null slot with two bytes in it
    holding = pa.Array.from_buffers(pa.large_string(), len(values), [pa.py_buffer(np.packbits(valid, bitorder="little")), pa.py_buffer(offsets.copy()), whole.buffers()[2]])
    return [whole, whole.slice(7, len(values) - 20), holding]


def _blank_to_null(arr: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(pc.utf8_length(arr), 0), pa.scalar(None, arr.type), arr)


def test_plain_text_is_left_alone_by_every_clean_up():
    chars = [chr(c) for c in [*range(0x21, 0x7F), *range(0x4000, 0xA000)]]
    arr = pa.array(chars, pa.large_string())
    assert pc.utf8_normalize(arr, "NFKC").to_pylist() == chars
    assert pc.utf8_trim_whitespace(arr).to_pylist() == chars
    assert [a for a, b in zip(chars, pc.utf8_upper(arr).to_pylist()) if a != b] == [chr(c) for c in range(ord("a"), ord("z") + 1)]
    # No pair of plain characters composes into another character.
    plain = set(chars) | {" "}
    pairs = []
    for cp in range(0x110000):
        parts = unicodedata.decomposition(chr(cp)).split()
        if len(parts) == 2 and not parts[0].startswith("<") and all(chr(int(p, 16)) in plain for p in parts):
            pairs.append(cp)
    assert pairs == []


@pytest.mark.parametrize(
    ("name", "fast", "full"),
    [
        ("code", lambda a: normalize._code(a, upper=False, cjk=False), normalize._code_full),
        ("code, upper case", lambda a: normalize._code(a, upper=True, cjk=False), lambda a: pc.utf8_upper(normalize._code_full(a))),
        ("certificate number", lambda a: normalize._code(a, upper=False, cjk=True), normalize._code_full),
        ("text", lambda a: normalize._text(a, nfkc=True), lambda a: normalize._text_full(a, nfkc=True)),
        ("name", lambda a: normalize._text(a, nfkc=False), lambda a: normalize._text_full(a, nfkc=False)),
    ],
)
def test_cleaning_only_flagged_rows_agrees_with_cleaning_every_row(name, fast, full):
    for arr in _arrays(AWKWARD):
        assert fast(arr).to_pylist() == _blank_to_null(full(arr)).to_pylist(), name


def test_owner_lists_cut_from_the_bytes_agree_with_the_regex_split():
    separated = [None, "", ",", "，", "a,", ",a", "a,,b", "a，、b", "张三；李四/王五;赵六", "x、", "，，", "1,1", "a\uff0cb", "a\uff1bb", "\u3001"]
    arrays = _arrays(AWKWARD + separated)
    for arr in arrays:
        fast, _ = normalize._split(arr)
        assert fast.type == pa.list_(pa.string())
        assert fast.to_pylist() == normalize._split_full(arr).to_pylist()
    column = normalize._split_column(pa.chunked_array(arrays))
    assert column.to_pylist() == [x for arr in arrays for x in normalize._split_full(arr).to_pylist()]


def test_the_usual_dbsj_form_read_from_bytes_agrees_with_the_general_parser():
    years = ["0000", "0001", "1500", "1677", "1899", "1900", "1970", "2000", "2023", "2024", "2100", "2262", "9999"]
    months, days = [f"{m:02d}" for m in range(14)], ["00", "01", "28", "29", "30", "31", "32"]
    times = [f"{h} {m} {s}" for h in ("00", "09", "23", "24", "99") for m in ("00", "59", "60") for s in ("00", "59", "60")]
    values = [f"{y}-{mo}-{d} {t.replace(' ', ':')}" for y in years for mo in months for d in days for t in times]
    values += ["2024/03/05 10:11:12", "2024-03-05T10:11:12", "2024-03-0510:11:12x", "2024-3-5 10:11:12", None, ""]
    # the forms only the general path reads (Chinese, offsets), some of them 19 bytes long
    values += ["2024-6-3 1:05+08:00", "2024年6月3日 9时5分", "24年6月3日9时5分3秒", "2024-06-03T01:05:03Z", "2024-06-03 09:05:03+0800", "2024-06-0309:05:03Z"]
    arr = pa.array(values, pa.large_string())
    fast = normalize._parse_dbsj_chunk(arr)
    full = normalize._parse_dbsj_full(arr)
    assert fast.dtype == full.dtype
    assert np.array_equal(fast, full, equal_nan=True)
    assert (~np.isnat(fast)).sum() > 1000


def test_birth_dates_read_from_bytes_agree_with_pandas():
    dates = [f"{y}{m:02d}{d:02d}" for y in ("0000", "1879", "1880", "1900", "2000", "2023", "2024", "2025", "9999") for m in range(14) for d in range(33)]
    matrix = np.frombuffer("".join(f"110105{d}0011" for d in dates).encode("ascii"), dtype=np.uint8).reshape(len(dates), 18)
    for as_of in (AS_OF, datetime(2024, 2, 29), datetime(2024, 12, 31, 0, 0)):
        births = pd.to_datetime(pd.Series(dates), format="%Y%m%d", errors="coerce")
        expected = births.isna().to_numpy() | (births > pd.Timestamp(as_of)).to_numpy() | (births < pd.Timestamp("1880-01-01")).to_numpy()
        assert (owner_rules._birth_date_bad(matrix, as_of) == expected).all()


def test_check_characters_agree_with_integer_sums():
    rng = np.random.default_rng(7)
    ids = rng.integers(48, 58, size=(50_000, 18), dtype=np.uint8)
    ids[::3, 17] = ord("X")
    expected = np.frombuffer(b"10X98765432", dtype=np.uint8)[((ids[:, :17].astype(np.int64) - 48) @ ID_WEIGHTS) % 11] == ids[:, 17]
    assert (id_check_ok(ids) == expected).all() and expected.any()
    charset = np.frombuffer(USCC_CHARSET.encode("ascii"), dtype=np.uint8)
    codes = charset[rng.integers(0, 31, size=(50_000, 18))]
    values = np.searchsorted(charset, codes)  # the charset is in byte order
    expected = (31 - (values[:, :17] @ USCC_WEIGHTS) % 31) % 31 == values[:, 17]
    assert (uscc_check_ok(codes) == expected).all() and expected.any()


def test_digits_eight_bytes_at_a_time_agree_with_byte_by_byte():
    rng = np.random.default_rng(5)
    # Mostly digits, with one odd byte of any value at a random place in some rows.
    matrix = rng.integers(48, 58, size=(20_000, 18), dtype=np.uint8)
    rows = rng.integers(0, 20_000, size=8_000)
    matrix[rows, rng.integers(0, 18, size=8_000)] = rng.integers(0, 256, size=8_000, dtype=np.uint8)
    matrix[:256, 3] = np.arange(256, dtype=np.uint8)
    for start, stop in ((0, 17), (0, 15), (2, 11), (4, 12), (5, 13), (2, 4), (9, 18)):
        expected = ((matrix[:, start:stop] >= 48) & (matrix[:, start:stop] <= 57)).all(axis=1)
        assert (utf8.rows_digits(matrix, start, stop) == expected).all(), (start, stop)


def test_null_masks_read_from_the_validity_bitmap():
    values = pa.array([None if i % 3 == 0 or i % 7 == 0 else str(i) for i in range(100)], pa.large_string())
    for start in (0, 1, 5, 13):
        part = values.slice(start, 60)
        assert utf8.nulls(part).tolist() == pc.is_null(part).to_pylist()
    assert not utf8.nulls(pa.array(["a", "b"])).any()


def _numbers() -> list[str]:
    return [
        "11010519491231002X", "1101051949123100X2", "110105194912310021", "110105491231002", "1101054912310X2", "91110000600037341L",
        "91110000600037341I", "9111000060003734lL", "９１１１００００６０００３７３４１Ｌ", "A123456(7)", "60003734-1", "", "1" * 17, "1" * 19, "ABCDEFGHJKLMNPQRTU",
        *(v for v in AWKWARD if v is not None),
    ]


def test_id_shapes_read_from_bytes_agree_with_the_patterns():
    numbers = pa.array(_numbers(), pa.large_string())
    shapes = owner_rules._IdShapes(numbers, utf8.byte_lengths(numbers))
    assert (shapes.eighteen == rule_blocks.matches(numbers, r"\d{17}[\dX]")).all() and shapes.eighteen.any()
    uscc = shapes.uscc(np.ones(len(numbers), dtype=bool))
    assert (uscc == rule_blocks.matches(numbers, r"[0-9A-HJ-NPQRTUWXY]{18}")).all() and uscc.any()
    assert not shapes.uscc(np.zeros(len(numbers), dtype=bool)).any()
    assert (shapes.fifteen == rule_blocks.matches(numbers, r"\d{15}")).all() and shapes.fifteen.any()


def test_mobiles_read_from_bytes_agree_with_the_pattern():
    ctx = rule_catalogue.build_context(divisions=reference.divisions(), area_codes=reference.area_codes(), registry=build_registry(), as_of=AS_OF)
    lookups = rule_blocks.Lookups(ctx)
    phones = ["13812345678", "12812345678", "1381234567", "138123456789", "+8613812345678", "8613812345678", "0531-12345678", "05311234567", "0633-1234567",
              "0633-12345678", "010-12345678-801", "1381234567X", "１３８１２３４５６７８", "13 12345678", "0531-1234567", "053112345678", "0755-1234567",
              "07551234567", "0755-123456789", "0355-12345678", "0531--1234567", "0531-1234567-8", "0300-1234567", "0299-1234567", "05X1-1234567",
              "0531-123456X", "05311234567X", "138-1234-5678", "138-1234-567", "+86 138 1234 5678", "008613812345678", "(0531)88557856",
              "(0531)8855785", "0531-8855-7856", "0531-88557856转801", "+86-531-88557856", "400-123-4567", "4001234567", "40012345678",
              "95588", "95105-888", "96777", "97588", "0531-88557856转", "86-0531-88557856", *_numbers()]
    arr = pa.array(phones, pa.large_string())
    fast = owner_rules._phone_ok(arr, lookups)
    assert (fast == owner_rules._phone_ok_by_pattern(arr, lookups)).all() and fast.any() and not fast.all()


def test_certificate_numbers_agree_with_python_re():
    certs = ["鲁(2021)济南市不动产权第0000001号", "鲁(2021)济南市不动产证明第000000123号(销)", "鲁(2021)济南市不动产权第٣٣٣٣٣号", "鲁(1899)济南市不动产权第0000001号",
             "鲁(2021)(济南)不动产权第12345号", "鲁(2021)济南市不动产权第12345号(注销的很长的后缀啊)", "鲁(2021)" + "长" * 30 + "不动产权第12345号",
             "鲁(2021)" + "长" * 31 + "不动产权第12345号", "鲁(2021)济南\x0b市不动产权第12345号", "鲁(2021)济南市不动产权第12345号(\n)", "鲁(2021)济南😀市不动产权第12345号", None,
             *AWKWARD]
    arr = pa.array(certs, pa.large_string())
    pattern = re.compile(rule_catalogue.CERT_PATTERN)
    expected = [v is not None and pattern.fullmatch(v) is not None for v in certs]
    assert rules._cert_ok(arr).tolist() == expected and any(expected)


def test_seen_before_agrees_with_a_set_of_earlier_values():
    rng = np.random.default_rng(3)
    guids = [f"{rng.integers(0, 2**63):036x}"[-36:] for _ in range(5000)]
    guids += [guids[i] for i in rng.integers(0, 5000, size=300)]
    for values in (guids, [g[: 8 + i % 20] for i, g in enumerate(guids)]):  # one width (hashed), and many
        seen, expected = set(), []
        for v in values:
            expected.append(v in seen)
            seen.add(v)
        assert rules._seen_before(pa.array(values, pa.large_string())).tolist() == expected


@pytest.fixture(scope="module")
def generated():
    registry = build_registry()
    frame = generate(30_000, seed=11, as_of=AS_OF, defect_rate=0.3, oddity_rate=0.3, registry=registry)
    frame = frame.drop(columns=["defect", "defect_field", "oddity"])
    frame.loc[frame.index[::7], "OP"] = "U"
    ctx = rule_catalogue.build_context(divisions=reference.divisions(), area_codes=reference.area_codes(), registry=registry, as_of=AS_OF,
                              known_rowguids=frame["ROWGUID"].iloc[:20])
    return frame, ctx


def test_blocks_and_threads_do_not_change_the_result(generated, monkeypatch):
    frame, ctx = generated
    records = normalize.normalize_records(frame)
    failures, outcome = rules.evaluate(records, ctx)
    assert len(failures) > 5_000
    monkeypatch.setattr(rule_blocks, "BLOCK_ROWS", 997)
    for workers in (1, 3):
        monkeypatch.setattr(parallel, "WORKERS", workers)
        chunked = pa.Table.from_batches(pa.Table.from_pandas(frame, preserve_index=False).to_batches(max_chunksize=1500))
        for again in (records, normalize.normalize_records(chunked)):
            other_failures, other_outcome = rules.evaluate(again, ctx)
            pd.testing.assert_frame_equal(other_failures, failures)
            pd.testing.assert_frame_equal(other_outcome, outcome)


def test_normalising_in_chunks_and_threads_gives_the_same_frame(generated, monkeypatch):
    frame, _ = generated
    expected = normalize.normalize_records(frame)
    monkeypatch.setattr(parallel, "WORKERS", 1)
    chunked = pa.Table.from_batches(pa.Table.from_pandas(frame, preserve_index=False).to_batches(max_chunksize=1234))
    pd.testing.assert_frame_equal(normalize.normalize_records(chunked), expected)
