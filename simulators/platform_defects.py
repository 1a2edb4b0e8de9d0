"""The labelled defects and odd-but-valid forms the platform generator (simulators/platform.py)
injects into clean records, in place, by the label columns `defect` and `oddity` it drew:
each defect is one an Annex 1 rule must catch; each oddity must pass once normalised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulators.synthetic_values import concat, fullwidth_chars, random_digits, resident_ids
from transforms.common.checkdigits import id_check_chars

# Odd-looking valid buyers (issue 13): foreigners' permanent residence cards (2023 '9' form under
# 身份证 or 其它, 2004 3-letter form), HK/Macao travel permits; phones as people write them;
# transliterated names with the middle dot written as ・ • ． or ·.
_PR_2023_PREFIXES = np.array(["911840", "937826", "931392", "944410"])  # 9 + province + nationality (ISO 3166 numeric)
_OLD_PR_NATIONS = np.array(["USA", "GBR", "JPN", "KOR", "DEU"])
_BIRTHS = np.array(["19750312", "19880921", "19620105", "19910630"])
_DOTTED_NAMES = (("阿依古丽", "买买提"), ("迪丽娜尔", "阿不都拉"), ("约翰", "史密斯"), ("扎西", "次仁"))
_NAME_DOTS = np.array(["·", "・", "•", "．"])
MISSING_FIELDS = ("YCYWH", "ZRFXM", "ZRFZJHM", "FWZL", "BDCQZH", "DBSJ")


def _mask(frame: pd.DataFrame, column: str, value: str) -> np.ndarray:
    return (frame[column] == value).to_numpy()


def inject_defects(frame: pd.DataFrame, rng: np.random.Generator, registry: pd.DataFrame, as_of: pd.Timestamp) -> None:
    m = _mask(frame, "defect", "bad_id_checksum") & (frame["ZRFZJZL"] == "1").to_numpy()
    ids = frame.loc[m, "ZRFZJHM"].to_numpy(dtype=object).astype(str)
    chars = "10X98765432"
    frame.loc[m, "ZRFZJHM"] = [i[:17] + chars[(chars.index(i[17]) + 1 + int(k)) % 11] for i, k in zip(ids, rng.integers(0, 10, size=len(ids)))]
    # A buyer of another ID type cannot carry this defect: relabel as clean.
    frame.loc[_mask(frame, "defect", "bad_id_checksum") & ~m, ["defect", "defect_field"]] = ""

    m = _mask(frame, "defect", "impossible_birth_date") & (frame["ZRFZJZL"] == "1").to_numpy()
    k = int(m.sum())
    if k:
        future = str(as_of.year + 1) + "0315"
        bad = rng.choice(np.array(["19990230", "19870431", "20011301", "19950000", future]), size=k)
        prefixes = frame.loc[m, "ZRFZJHM"].str.slice(0, 6).to_numpy(dtype=object).astype(str)
        frame.loc[m, "ZRFZJHM"] = resident_ids(rng, prefixes, bad).astype(object)
    frame.loc[_mask(frame, "defect", "impossible_birth_date") & ~m, ["defect", "defect_field"]] = ""

    # Born after the recording but not after "now": BIRTH_AFTER_DBSJ, not ID_BIRTH_DATE.
    dbsj_day = pd.to_datetime(frame["DBSJ"], errors="coerce").to_numpy().astype("datetime64[D]")
    room = (np.datetime64(as_of.date()) - dbsj_day).astype(np.int64)
    m = _mask(frame, "defect", "birth_after_dbsj") & (frame["ZRFZJZL"] == "1").to_numpy() & (room >= 1)
    k = int(m.sum())
    if k:
        births = dbsj_day[m] + (1 + np.floor(rng.random(k) * room[m])).astype(np.int64).astype("timedelta64[D]")
        prefixes = frame.loc[m, "ZRFZJHM"].str.slice(0, 6).to_numpy(dtype=object).astype(str)
        frame.loc[m, "ZRFZJHM"] = resident_ids(rng, prefixes, np.strings.replace(np.datetime_as_string(births, unit="D"), "-", "")).astype(object)
    frame.loc[_mask(frame, "defect", "birth_after_dbsj") & ~m, ["defect", "defect_field"]] = ""

    # A registered water institution of another county (code and its registered name).
    water_all = registry[registry["utility"] == "water"]
    served: dict[str, set[str]] = {}
    for code, xzqh in zip(water_all["code"], water_all["xzqh"]):
        served.setdefault(code, set()).add(xzqh)
    m = _mask(frame, "defect", "institution_other_county") & frame["GSJGBM"].notna().to_numpy()
    if m.any():
        w_codes, w_names = water_all["code"].to_numpy(dtype=object), water_all["name"].to_numpy(dtype=object)
        picks = np.floor(rng.random(int(m.sum())) * len(w_codes)).astype(np.int64)
        new_codes, new_names = [], []
        for p, place in zip(picks, frame.loc[m, "XZQH"].to_numpy(dtype=object)):
            while place in served[w_codes[p]]:
                p = (p + 1) % len(w_codes)
            new_codes.append(w_codes[p])
            new_names.append(w_names[p])
        frame.loc[m, "GSJGBM"] = new_codes
        frame.loc[m, "GSJGMC"] = new_names
    frame.loc[_mask(frame, "defect", "institution_other_county") & ~m, ["defect", "defect_field"]] = ""

    m = _mask(frame, "defect", "bad_phone")
    k = int(m.sum())
    bad_phones = np.array(["1234567", "2581234567", "138123456", "1381234567890", "0531-1234567", "0633-12345678", "13912345678X", "电话13912345678"])
    frame.loc[m, "ZRFLXDH"] = rng.choice(bad_phones, size=k)

    m = _mask(frame, "defect", "unknown_county")
    frame.loc[m, "XZQH"] = rng.choice(np.array(["370199", "379901", "371199", "370000", "370100", "110199"]), size=int(m.sum()))

    m = _mask(frame, "defect", "nonpositive_area")
    frame.loc[m, "FWJZMJ"] = rng.choice(np.array(["0", "0.00", "-85.3", "-1"]), size=int(m.sum()))

    m = _mask(frame, "defect", "future_dbsj")
    k = int(m.sum())
    if k:
        future = as_of.to_datetime64() + rng.integers(3600, 90 * 86400, size=k).astype("timedelta64[s]")
        frame.loc[m, "DBSJ"] = np.strings.replace(np.datetime_as_string(future, unit="s"), "T", " ")

    m = _mask(frame, "defect", "institution_mismatch") & frame["GSJGBM"].notna().to_numpy()
    water = registry[registry["utility"] == "water"]
    others = water["name"].to_numpy(dtype=object)
    codes = frame.loc[m, "GSJGBM"].to_numpy()
    by_code = dict(zip(water["code"], water["name"]))
    picks = rng.integers(0, len(others), size=int(m.sum()))
    frame.loc[m, "GSJGMC"] = [others[p] if others[p] != by_code[c] else others[(p + 1) % len(others)] for p, c in zip(picks, codes)]
    frame.loc[_mask(frame, "defect", "institution_mismatch") & ~m, ["defect", "defect_field"]] = ""

    m = _mask(frame, "defect", "account_without_institution") & frame["YQHH"].notna().to_numpy()
    frame.loc[m, ["RQJGBM", "RQJGMC"]] = None
    frame.loc[_mask(frame, "defect", "account_without_institution") & ~m, ["defect", "defect_field"]] = ""

    m = _mask(frame, "defect", "missing_required")
    k = int(m.sum())
    fields = rng.choice(np.array(MISSING_FIELDS), size=k)
    blanks = rng.choice(np.array([None, "", "  "], dtype=object), size=k)
    rows = np.flatnonzero(m)
    for field in MISSING_FIELDS:
        sel = fields == field
        frame.loc[frame.index[rows[sel]], field] = blanks[sel]
    frame.loc[frame.index[rows], "defect_field"] = fields

    # A second record sent under an earlier record's ROWGUID: the later one is the defect.
    rows = np.flatnonzero(_mask(frame, "defect", "duplicate_rowguid"))
    clean = np.flatnonzero(frame["defect"].to_numpy() == "")
    earlier = np.searchsorted(clean, rows)  # how many clean rows come before each
    ok = earlier > 0
    source = clean[np.floor(rng.random(int(ok.sum())) * earlier[ok]).astype(np.int64)]
    guid = frame.columns.get_loc("ROWGUID")
    frame.iloc[rows[ok], guid] = frame.iloc[source, guid].to_numpy()
    frame.loc[frame.index[rows[~ok]], ["defect", "defect_field"]] = ""


def inject_oddities(frame: pd.DataFrame, rng: np.random.Generator) -> None:
    m = _mask(frame, "oddity", "fullwidth_digits")
    part = rng.integers(0, 3, size=len(frame))
    for i, field in enumerate(("ZRFLXDH", "ZRFZJHM", "FWJZMJ")):
        sel = m & (part == i)
        frame.loc[sel, field] = fullwidth_chars(frame.loc[sel, field].to_numpy())

    m = _mask(frame, "oddity", "lowercase_x") & (frame["ZRFZJZL"] == "1").to_numpy()
    rows = np.flatnonzero(m)
    if len(rows):
        body = frame["ZRFZJHM"].to_numpy(dtype=object).astype(str)[rows]
        # Walk the 3-digit sequence until the check character is X (1 in 11 are).
        digits = np.frombuffer("".join(s[:17] for s in body).encode(), dtype=np.uint8).reshape(len(rows), 17).astype(np.int64) - 48
        found = np.zeros(len(rows), dtype=bool)
        for step in range(1000):
            trial = digits.copy()
            seq = (digits[:, 14] * 100 + digits[:, 15] * 10 + digits[:, 16] + step) % 1000
            trial[:, 14], trial[:, 15], trial[:, 16] = seq // 100, seq // 10 % 10, seq % 10
            hit = (~found) & (id_check_chars(trial) == "X")
            digits[hit] = trial[hit]
            found |= hit
            if found.all():
                break
        frame.loc[frame.index[rows], "ZRFZJHM"] = ["".join(map(str, d)) + "x" for d in digits]
    frame.loc[_mask(frame, "oddity", "lowercase_x") & ~m, "oddity"] = ""

    m = _mask(frame, "oddity", "spaces")
    frame.loc[m, "ZRFXM"] = " " + frame.loc[m, "ZRFXM"] + " "
    frame.loc[m, "ZRFZJHM"] = frame.loc[m, "ZRFZJHM"] + "  "
    frame.loc[m, "BDCQZH"] = frame.loc[m, "BDCQZH"].str.replace("不动产权", " 不动产权 ", regex=False)
    # the area with a unit or a thousands separator (docs/domain.md §4), by row: no new random draws
    area = pd.to_numeric(frame.loc[m, "FWJZMJ"], errors="coerce")
    unit = np.array([" ㎡", "平方米", " m²", "m2"])[np.flatnonzero(m) % 4]
    frame.loc[m, "FWJZMJ"] = np.where(area >= 1000, area.map(lambda a: f"{a:,.2f}"), frame.loc[m, "FWJZMJ"] + unit)

    m = _mask(frame, "oddity", "fullwidth_brackets")
    hexagonal = m & (np.arange(len(frame)) % 3 == 0)  # 鲁〔2021〕…: the year in 〔〕 (docs/domain.md §4)
    frame.loc[m, "BDCQZH"] = frame.loc[m, "BDCQZH"].str.replace("(", "（", regex=False).str.replace(")", "）", regex=False)
    frame.loc[hexagonal, "BDCQZH"] = frame.loc[hexagonal, "BDCQZH"].str.replace("（", "〔", regex=False).str.replace("）", "〕", regex=False)

    _inject_written_forms(frame, rng)

    m = _mask(frame, "oddity", "dbsj_format")
    k = int(m.sum())
    ts = pd.to_datetime(frame.loc[m, "DBSJ"])
    forms = rng.integers(0, 3, size=k) + 3 * (np.arange(k) % 2)  # 0-5, the second three by row
    written = [
        ts.dt.strftime("%Y/%m/%d %H:%M:%S"),
        ts.dt.strftime("%Y%m%d%H%M%S"),
        ts.dt.strftime("%Y-%m-%dT%H:%M:%S"),
        ts.dt.year.astype(str) + "年" + ts.dt.month.astype(str) + "月" + ts.dt.day.astype(str) + "日 " + ts.dt.hour.astype(str) + "时" + ts.dt.minute.astype(str) + "分" + ts.dt.second.astype(str) + "秒",
        ts.dt.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
        (ts - pd.Timedelta(hours=8)).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),  # UTC: read back as local time
    ]
    frame.loc[m, "DBSJ"] = np.select([forms == i for i in range(len(written))], [w.to_numpy() for w in written])


def _inject_written_forms(frame: pd.DataFrame, rng: np.random.Generator) -> None:
    """The buyer's ID, phone or name in a valid form real systems write (docs/domain.md §3-4)."""
    rows = frame.index[_mask(frame, "oddity", "foreign_id")]
    k = len(rows)
    if k:
        form = rng.integers(0, 4, size=k)
        pr_2023 = resident_ids(rng, rng.choice(_PR_2023_PREFIXES, size=k), rng.choice(_BIRTHS, size=k))
        old_pr = concat(rng.choice(_OLD_PR_NATIONS, size=k), random_digits(rng, k, 12))
        permit = concat(rng.choice(np.array(["H", "M"]), size=k), random_digits(rng, k, 8), np.where(rng.random(k) < 0.5, random_digits(rng, k, 2), ""))
        frame.loc[rows, "ZRFZJHM"] = np.where(form < 2, pr_2023, np.where(form == 2, old_pr, permit))
        frame.loc[rows, "ZRFZJZL"] = np.array(["1", "99", "1", "2"])[form]

    rows = frame.index[_mask(frame, "oddity", "phone_written")]
    if len(rows):
        phones = frame.loc[rows, "ZRFLXDH"].to_numpy(dtype=object).astype(str)
        form = rng.integers(0, 3, size=len(rows))
        written = []
        for phone, f in zip(phones, form):
            if phone.startswith("1"):
                written.append((f"{phone[:3]}-{phone[3:7]}-{phone[7:]}", f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}", f"0086{phone}")[f])
            else:
                area, local = phone[:4], phone[4:].lstrip("-")
                written.append((f"({area}){local}", f"（{area}）{local}", f"{area}-{local}转{100 + f}")[f])
        frame.loc[rows, "ZRFLXDH"] = written

    rows = frame.index[_mask(frame, "oddity", "name_dot")]
    if len(rows):
        pairs = rng.integers(0, len(_DOTTED_NAMES), size=len(rows))
        dots = rng.choice(_NAME_DOTS, size=len(rows))
        frame.loc[rows, "ZRFXM"] = [_DOTTED_NAMES[p][0] + d + _DOTTED_NAMES[p][1] for p, d in zip(pairs, dots)]
