"""Normalisation of co-handling records before any rule is checked (DOMAIN.md §4).

`normalize_records` takes the Annex 1 fields as received (text) and returns them
normalised under the same names, with each original kept beside it as `<FIELD>__orig`:

- code-like fields (ID numbers, types, phones, XZQH, area, certificate number, DBSJ,
  accounts, institution codes): Unicode NFKC (full-width digits, letters and brackets to
  half width), every space removed, upper case (a trailing `x` of an ID becomes `X`);
- names and addresses: NFKC only where it cannot change a person's name (brackets and
  digits in addresses and institution names), trimmed;
- owner fields split on `,` `，` `、` `/` `;` `；` into lists (`ZRF_NAMES`, `ZRF_TYPES`,
  `ZRF_IDS`, `ZRF_PHONES`, and ZCF_* likewise), the same separators for all four;
- DBSJ parsed from the forms the platform sends (`2024-03-05 10:11:12`, `2024/03/05 …`,
  `20240305101112`, ISO `T`, date only) into `DBSJ_TS`; area into `FWJZMJ_NUM` with its
  count of decimals in `FWJZMJ_DECIMALS`.

Empty or blank values become null. Pure and vectorised (pyarrow.compute).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.annex1 import FIELD_CODES

CODE_FIELDS = (
    "ROWGUID", "YCYWH", "ZRFZJZL", "ZRFZJHM", "ZRFLXDH", "ZCFZJZL", "ZCFZJHM", "ZCFLXDH", "XZQH",
    "FWJZMJ", "BDCQZH", "YDHH", "YSHH", "GSJGBM", "YQHH", "RQJGBM", "YNHH", "GRJGBM",
)
NAME_FIELDS = ("ZRFXM", "ZCFXM")
TEXT_FIELDS = ("FWZL", "GSJGMC", "RQJGMC", "GRJGMC")
UPPER_FIELDS = ("ZRFZJHM", "ZCFZJHM", "GSJGBM", "RQJGBM", "GRJGBM", "YDHH", "YSHH", "YQHH", "YNHH")
OWNER_SEPARATORS = r"[,，、/;；]"  # names are not NFKC-normalised, so both widths
SIDES = {"ZRF": "buyer", "ZCF": "seller"}


def _blank_to_null(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.if_else(pc.equal(pc.utf8_length(arr), 0), pa.scalar(None, pa.string()), arr)


def _code(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    out = pc.replace_substring_regex(pc.utf8_normalize(arr, "NFKC"), r"\s+", "")
    return _blank_to_null(out)


def _text(arr: pa.ChunkedArray, *, nfkc: bool) -> pa.ChunkedArray:
    out = pc.utf8_normalize(arr, "NFKC") if nfkc else arr
    # Half-width brackets and collapsed inner spaces keep institution names comparable.
    out = pc.replace_substring(pc.replace_substring(out, "（", "("), "）", ")")
    return _blank_to_null(pc.utf8_trim_whitespace(pc.replace_substring_regex(out, r"\s+", " ")))


def _split(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    """Owner lists; a null field is a null list, empty items are kept (and found by the rules)."""
    parts = pc.split_pattern_regex(pc.fill_null(arr, ""), OWNER_SEPARATORS)
    return pc.if_else(pc.is_null(arr), pa.scalar(None, parts.type), parts)


def parse_dbsj(arr: pa.ChunkedArray) -> pd.Series:
    """Recorded times from the forms the platform sends; NaT where none fits."""
    text = pc.replace_substring(pc.replace_substring(pc.fill_null(arr, ""), "/", "-"), "T", " ")
    text = pc.replace_substring_regex(text, r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$", r"\1-\2-\3 \4:\5:\6")
    text = pc.replace_substring_regex(text, r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3")
    text = pc.replace_substring_regex(text, r"^(\d{4})-(\d)-", r"\1-0\2-")
    text = pc.replace_substring_regex(text, r"^(\d{4}-\d{2})-(\d)(\D|$)", r"\1-0\2\3")
    ok = pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}( \d{1,2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$")
    text = pc.if_else(ok, text, pa.scalar(None, pa.string()))
    return pd.to_datetime(pd.Series(text.to_pandas(), dtype=object), format="ISO8601", errors="coerce")


def normalize_records(records: pd.DataFrame | pa.Table) -> pd.DataFrame:
    """Annex 1 fields normalised (same names), originals beside them as `<FIELD>__orig`, derived columns."""
    table = records if isinstance(records, pa.Table) else pa.Table.from_pandas(records, preserve_index=False)
    columns: dict[str, pa.ChunkedArray] = {}
    for name in table.column_names:
        if name not in FIELD_CODES:
            columns[name] = table[name]
    for field in FIELD_CODES:
        raw = table[field] if field in table.column_names else pa.chunked_array([pa.nulls(table.num_rows, pa.string())])
        raw = raw.cast(pa.string())
        if field == "DBSJ":
            value = _text(raw, nfkc=True)  # keep the space between date and time
        elif field in CODE_FIELDS:
            value = _code(raw)
            if field in UPPER_FIELDS:
                value = pc.utf8_upper(value)
        elif field in NAME_FIELDS:
            value = _text(raw, nfkc=False)
        else:
            value = _text(raw, nfkc=True)
        columns[field] = value
        columns[f"{field}__orig"] = raw
    for prefix in SIDES:
        columns[f"{prefix}_NAMES"] = _split(columns[f"{prefix}XM"])
        columns[f"{prefix}_TYPES"] = _split(columns[f"{prefix}ZJZL"])
        columns[f"{prefix}_IDS"] = _split(columns[f"{prefix}ZJHM"])
        columns[f"{prefix}_PHONES"] = _split(columns[f"{prefix}LXDH"])
    area = columns["FWJZMJ"]
    numeric = pc.match_substring_regex(area, r"^-?\d+(\.\d+)?$")
    columns["FWJZMJ_NUM"] = pc.if_else(numeric, area, pa.scalar(None, pa.string())).cast(pa.float64())
    decimals = pc.utf8_length(pc.replace_substring_regex(area, r"^-?\d+\.?", ""))
    columns["FWJZMJ_DECIMALS"] = pc.if_else(numeric, decimals, pa.scalar(None, pa.int32()))
    out = pa.table(columns).to_pandas(types_mapper=_pandas_type)
    out["DBSJ_TS"] = parse_dbsj(columns["DBSJ"]).to_numpy()
    return out


def _pandas_type(arrow_type: pa.DataType):
    if arrow_type == pa.string():
        return pd.StringDtype("pyarrow", na_value=float("nan"))
    if pa.types.is_list(arrow_type):
        return pd.ArrowDtype(arrow_type)
    return None
