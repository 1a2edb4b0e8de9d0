"""A synthetic registry of water / gas / heat institutions, a few per Shandong county.

Institution codes are unified social credit codes (统一社会信用代码) with valid check
characters, issued in the institution's county: that is what a county writes in Annex 2's
机构编码 column when the company has no other code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jobs.common import reference
from transforms.common.checkdigits import USCC_CHARSET, uscc_check_chars

UTILITY_KINDS = ("water", "gas", "heat")
_KIND_LABEL = {"water": "水", "gas": "气", "heat": "热"}
_NAME_PATTERNS = {
    "water": ["{county}供水有限公司", "{county}自来水有限公司", "{city}水务集团{county}分公司", "{county}城乡供水有限公司"],
    "gas": ["{county}华润燃气有限公司", "{county}港华燃气有限公司", "{county}中燃城市燃气有限公司", "{county}新奥燃气有限公司", "{city}能源集团{county}燃气有限公司"],
    "heat": ["{county}热力有限公司", "{city}热电集团{county}供热分公司", "{county}城市供热有限公司"],
}
_SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎")
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉")


def uscc_codes(rng: np.random.Generator, county_codes: np.ndarray, *, kind: str = "91") -> np.ndarray:
    """Valid unified social credit codes registered in the given counties."""
    n = len(county_codes)
    prefix = np.array([[USCC_CHARSET.index(c) for c in kind]] * n, dtype=np.int64).reshape(n, 2)
    county = np.frombuffer("".join(np.asarray(county_codes).astype(str)).encode(), dtype=np.uint8).reshape(n, 6).astype(np.int64) - 48
    org = rng.integers(0, 31, size=(n, 9))
    org[:, 0] = rng.integers(0, 10, size=n)  # organisation codes start with a digit
    body = np.concatenate([prefix, county, org], axis=1)
    checks = uscc_check_chars(body)
    table = np.frombuffer(USCC_CHARSET.encode("ascii"), dtype=np.uint8)
    chars = np.concatenate([table[body], np.frombuffer("".join(checks).encode("ascii"), dtype=np.uint8).reshape(n, 1)], axis=1)
    return np.ascontiguousarray(chars).view("S18").ravel().astype("U18")


def build_registry(seed: int = 2021) -> pd.DataFrame:
    """One row per institution: xzqh, county, city, utility, code, name, phones, channel, opening date, file format.

    Counts per county: water 1–2, gas 1–3, heat 0–2 (about 600 in the province). About one
    county in six is in system mode (系统对接); the others open account mode (配置账号) on a
    date between 2021-07-01 and 2021-10-01, as the Annex 3 applications did.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for county in reference.counties():
        city = reference.city_of(county.code)
        area_code = reference.area_code_of_city(city.code)
        digits = int(reference.area_codes()[area_code]["subscriber_digits"])
        channel = "system" if rng.random() < 0.16 else "account"
        open_date = pd.Timestamp("2021-07-01") + pd.Timedelta(days=int(rng.integers(0, 92)))
        counts = {"water": int(rng.integers(1, 3)), "gas": int(rng.integers(1, 4)), "heat": int(rng.integers(0, 3))}
        for kind in UTILITY_KINDS:
            patterns = rng.permutation(_NAME_PATTERNS[kind])
            for i in range(counts[kind]):
                # District names repeat across cities (市中区 is in Jinan and Zaozhuang):
                # companies in districts carry the city in their registered name.
                place = city.name + county.name if county.name.endswith("区") else county.name
                pattern = patterns[i % len(patterns)]
                name = pattern.format(county=county.name if "{city}" in pattern else place, city=city.name)
                if i >= len(patterns):
                    name = name.replace("有限公司", f"第{i + 1}有限公司")
                local = str(int(rng.integers(2, 9))) + "".join(map(str, rng.integers(0, 10, digits - 1)))
                contact = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN, int(rng.integers(1, 3))))
                mobile = "1" + str(int(rng.integers(3, 10))) + "".join(map(str, rng.integers(0, 10, 9)))
                rows.append(
                    {
                        "xzqh": county.code,
                        "county": county.name,
                        "city": city.name,
                        "utility": kind,
                        "utility_label": _KIND_LABEL[kind],
                        "name": name,
                        "service_phone": f"{area_code}-{local}",
                        "contact": f"{contact} {mobile}",
                        "channel": channel,
                        "open_date": open_date.date(),
                    }
                )
    frame = pd.DataFrame(rows)
    frame.insert(4, "code", uscc_codes(rng, frame["xzqh"].to_numpy()))
    # The file format an account-mode institution asked for (its own generator, so adding it
    # changed nothing else): mostly the default (the form's cell left empty: XLSX), some GB18030 CSV, JSON Lines, Parquet.
    choice = np.random.default_rng(seed + 1).random(len(frame))
    frame["file_format"] = np.select([choice < 0.8, choice < 0.9, choice < 0.95], ["xlsx", "csv_gb18030", "jsonl"], "parquet")
    return frame
