"""A synthetic remote-collection module (异地代收): packages with labelled defects, their
applicants, materials and electronic files, drawn against the collecting halls and the
checklists the property counties publish (simulators/remote_checklists.py).
- `generate(n)`: a `RemoteBatch` of packages (the exchange columns plus labels), applicants,
  materials and files (real byte blobs; each material's declared SHA-256 is computed from
  its blob, so the gateway's hash check is real). Labels per package: `defect` (one per
  defective package), `defect_rule` (the rule that must catch it), `defect_field`,
  `defect_item` (which applicant `SQR#k`, material `CL#k` or missing material code), and
  `oddity` (an odd-looking valid form that must pass).
- `RemoteDB` (simulators/remote_db.py): writes batches into the exchange tables (sql/source/create_remote_collection.*)
  the way the module does, one transaction per batch, children carrying their package
  row's CHANGE_SEQ; labels go to a side table `SYN_YDDS_TRUTH` that never reaches the gateway.

Volumes are a few thousand packages a day, so packages are built in a plain loop (children
are nested and the loop reads like the window's work); IDs and names are drawn with numpy.
Deterministic by seed. `python -m simulators.remote_module fill ...` writes packages into an
exchange database; `... samples DIR` writes the checklist forms.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from jobs.common import reference
from simulators.remote_checklists import DEFAULT_CHECKLISTS, MATERIALS, OTHER_PROVINCE_COUNTIES, build_checklists, build_halls, write_checklist_samples
from simulators.remote_db import APPLICANT_FIELDS, LABEL_COLUMNS, MATERIAL_FIELDS, PACKAGE_FIELDS, RemoteBatch, RemoteDB
from simulators.synthetic_values import COMMUNITIES, OTHER_PROVINCE_PREFIXES, PERMIT_PREFIXES, ROADS, resident_ids
from transforms.remote.package_rules import IDENTITY_CHECKS

# Defect kind -> the rule that must catch it (transforms/remote/package_rules.py).
DEFECT_RULES: dict[str, str] = {
    "business_type_not_accepted": "BUSINESS_TYPE_NOT_REMOTE",
    "business_type_not_offered": "BUSINESS_TYPE_NOT_OFFERED",
    "missing_required_material": "MATERIAL_MISSING",
    "file_hash_mismatch": "FILE_HASH_MISMATCH",
    "file_missing": "FILE_MISSING",
    "identity_incomplete": "IDENTITY_INCOMPLETE",
    "bad_unit_number": "UNIT_NUMBER_FORMAT",
    "unit_prefix_mismatch": "UNIT_NUMBER_XZQH",
    "not_remote": "NOT_REMOTE",
    "paper_not_collected": "PAPER_ORIGINAL_MISSING",
}
ODDITY_KINDS = ("fullwidth_unit", "lowercase_unit", "spaced_unit", "upper_hash", "sjsj_format")

ROLE_BY_TYPE = {"01": "1", "02": "2", "03": "1", "04": "1", "05": "1"}




@lru_cache(maxsize=2)
def _name_pool(seed: int) -> tuple[str, ...]:
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    return tuple(sorted({fake.name() for _ in range(2500)}))


# --- packages --------------------------------------------------------------------------------


def _in_force(checklists: pd.DataFrame) -> dict[tuple[str, str], list[tuple[pd.Timestamp, list[tuple[str, str, bool, bool]]]]]:
    """(county, type) -> [(valid_from, items)] ascending."""
    out: dict = {}
    for (xzqh, business_type, valid_from), group in checklists.sort_values("position").groupby(["xzqh", "business_type", "valid_from"], sort=True):
        out.setdefault((xzqh, business_type), []).append(
            (pd.Timestamp(valid_from).to_pydatetime(), list(zip(group["material_code"], group["material_name"], group["required"].astype(bool), group["paper_original"].astype(bool)))))
    return out


def _list_at(versions, at: datetime):
    live = [items for start, items in versions if start <= at]
    return live[-1] if live else None


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def generate(
    n: int,
    *,
    seed: int = 0,
    start: str | datetime = "2024-01-01",
    end: str | datetime = "2024-12-31",
    defect_rate: float = 0.1,
    oddity_rate: float = 0.05,
    cross_province_rate: float = 0.04,
    checklists: pd.DataFrame | None = None,
    first_index: int = 0,
) -> RemoteBatch:
    """`n` new packages (OP 'I') collected uniformly in [start, end), with labels. `first_index` keeps BWIDs unique across batches."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    # Plain datetimes in the loop: pandas Timestamps are ten times slower to shift and format.
    start_ts, end_ts = pd.Timestamp(start).to_pydatetime(), pd.Timestamp(end).to_pydatetime()
    checklists = build_checklists() if checklists is None else checklists
    lists = _in_force(checklists)
    halls = build_halls()
    hall_rows = list(halls.itertuples(index=False))
    halls_of: dict[str, list] = {}
    for h in hall_rows:
        halls_of.setdefault(h.xzqh, []).append(h)
    divisions = reference.divisions()
    shandong = [c.code for c in reference.counties()]
    cum_weights = list(np.cumsum(nrng.lognormal(0.0, 0.6, size=len(shandong))))
    halls_in_city: dict[str, list] = {}
    for h in hall_rows:
        halls_in_city.setdefault(h.city, []).append(h)

    def hall_outside(county: str, pool: list):
        """A hall of `pool` in another county than `county` (pools always hold one)."""
        while True:
            h = rng.choice(pool)
            if h.xzqh != county:
                return h

    names = _name_pool(seed % 2)
    defect_kinds = list(DEFECT_RULES)
    not_offered = sorted({(c, t) for c in shandong for t in DEFAULT_CHECKLISTS if (c, t) not in lists})

    packages, applicants, materials, files = [], [], [], []
    dropped: set[str] = set()
    person_prefix, person_birth, person_kind = [], [], []
    span = max(int((end_ts - start_ts).total_seconds() // 60), 1)
    for i in range(n):
        seq = i + 1
        defect = rng.choice(defect_kinds) if rng.random() < defect_rate else ""
        oddity = rng.choice(ODDITY_KINDS) if not defect and rng.random() < oddity_rate else ""
        label = {"defect": defect, "defect_rule": DEFECT_RULES.get(defect, ""), "defect_field": "", "defect_item": "", "oddity": oddity}
        collected = start_ts + timedelta(minutes=rng.randrange(span))
        collected = collected.replace(hour=rng.randint(8, 17), minute=rng.randint(0, 59), second=rng.randint(0, 59))
        if collected >= end_ts:
            collected = end_ts - timedelta(seconds=1)

        # The property's county and the business type.
        business_type = rng.choices(list(DEFAULT_CHECKLISTS), weights=[2, 5, 2, 1, 3])[0]
        if defect == "business_type_not_offered":
            xzqh, business_type = rng.choice(not_offered)
        elif rng.random() < cross_province_rate and defect != "not_remote":
            xzqh = rng.choice(list(OTHER_PROVINCE_COUNTIES))
        else:
            xzqh = rng.choices(shandong, cum_weights=cum_weights)[0]
        if defect != "business_type_not_offered" and _list_at(lists.get((xzqh, business_type), []), collected) is None:
            business_type = next(t for t in DEFAULT_CHECKLISTS if _list_at(lists.get((xzqh, t), []), collected) is not None)
        offered = _list_at(lists.get((xzqh, business_type), []), collected)
        if defect == "business_type_not_accepted":
            business_type = rng.choice(["11", "12", "13", "14", "15", "16"])
            offered = None
        items = offered if offered is not None else [(c, MATERIALS[c], r, p) for c, r, p in DEFAULT_CHECKLISTS["01"][:2]]

        # The collecting hall: in another county (same city more often), or — the defect — in the property's own.
        if defect == "not_remote":
            hall = rng.choice(halls_of[xzqh])
        else:
            city = halls_in_city.get(divisions[xzqh].parent_code, []) if xzqh.startswith("37") else []
            pool = city if len({h.xzqh for h in city}) > 1 and rng.random() < 0.6 else hall_rows
            hall = hall_outside(xzqh, pool)

        bwid = f"YD{collected:%Y%m%d}{first_index + seq:08d}"
        unit = _unit_number(rng, xzqh, business_type)
        if defect == "bad_unit_number":
            unit = _break_unit_number(rng, unit)
        elif defect == "unit_prefix_mismatch":
            unit = next(c for c in iter(lambda: rng.choice(shandong), None) if c != xzqh) + unit[6:]
        elif oddity == "fullwidth_unit":
            unit = _fullwidth(unit)
        elif oddity == "lowercase_unit":
            unit = unit.lower()
        elif oddity == "spaced_unit":
            unit = f"{unit[:6]} {unit[6:12]} {unit[12:19]} {unit[19:]}"
        sjsj = f"{collected:%Y-%m-%d %H:%M:%S}"
        if oddity == "sjsj_format":
            sjsj = rng.choice([f"{collected:%Y/%m/%d %H:%M:%S}", f"{collected:%Y%m%d%H%M%S}", f"{collected:%Y-%m-%dT%H:%M:%S}"])
        if defect in ("bad_unit_number", "unit_prefix_mismatch"):
            label["defect_field"] = "BDCDYH"
        elif defect == "not_remote":
            label["defect_field"] = "SJXZQH"
        elif defect.startswith("business_type"):
            label["defect_field"] = "YWLX"
        packages.append({
            "CHANGE_SEQ": seq, "OP": "I", "BWID": bwid, "SQBH": f"SQ{collected:%Y%m%d}{first_index + seq:08d}", "SJDWDM": hall.code, "SJDWMC": hall.name,
            "SJXZQH": hall.xzqh, "SJSJ": sjsj, "SJRY": rng.choice(names), "YWLX": business_type, "BDCDYH": unit,
            "BDCQZH": _certificate(rng, xzqh, business_type, collected), "ZL": _address(rng, xzqh), "XZQH": xzqh, **label,
        })

        # Applicants: one, or two (a couple); the second may be verified elsewhere.
        count = 2 if rng.random() < 0.3 else 1
        role = ROLE_BY_TYPE.get(business_type, "1")
        for k in range(1, count + 1):
            where = hall
            if k == 2:
                u = rng.random()
                if u < 0.2 and xzqh.startswith("37") and defect != "not_remote":
                    where = None  # in the property's county: verified there, last
                elif u < 0.35:
                    where = hall_outside(xzqh, hall_rows)
            kind = rng.random()
            person_kind.append("2" if kind < 0.01 else "3" if kind < 0.03 else "1")
            origin = rng.random()
            person_prefix.append(hall.xzqh if origin < 0.6 else xzqh if origin < 0.85 and xzqh.startswith("37") else rng.choice(shandong if origin < 0.95 else list(OTHER_PROVINCE_PREFIXES)))
            person_birth.append(f"{rng.randint(1950, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}")
            checks = {c: "1" for c in IDENTITY_CHECKS}
            if where is None:
                prop_hall = halls_of[xzqh][0]
                verified = {"HYDDM": prop_hall.code, "HYXZQH": xzqh, **{c: "0" for c in IDENTITY_CHECKS}, "WXJLBH": None, "HYSJ": None}
            else:
                at = collected - timedelta(minutes=rng.randint(5, 90))
                verified = {"HYDDM": where.code, "HYXZQH": where.xzqh, **checks, "WXJLBH": f"WX{where.code}{at:%Y%m%d}{rng.randrange(10000):04d}",
                            "HYSJ": f"{at:%Y-%m-%d %H:%M:%S}"}
            applicants.append({"CHANGE_SEQ": seq, "XH": k, "BWID": bwid, "SQRXM": rng.choice(names), "ZJZL": None, "ZJHM": None, "SQRLB": role, **verified})
        if defect == "identity_incomplete":
            windows = [a for a in applicants[-count:] if a["HYXZQH"] != xzqh]
            a = rng.choice(windows)
            field = rng.choice([*IDENTITY_CHECKS, "WXJLBH"])
            a[field] = None if field == "WXJLBH" else rng.choice(["0", "", None, "否"])
            label_update(packages[-1], field, f"SQR#{a['XH']}")

        # Materials: every required one, optional ones sometimes; a file each.
        chosen = [it for it in items if it[2] or rng.random() < 0.4]
        if defect == "missing_required_material":
            required = [it for it in chosen if it[2]]
            gone = rng.choice(required)
            chosen.remove(gone)
            label_update(packages[-1], "CLBM", gone[0])
        for k, (code, name, _required, paper) in enumerate(chosen, start=1):
            content = b"%PDF-1.4\n% " + f"{bwid} {code} {k}".encode() + b"\n" + rng.randbytes(rng.randint(64, 320))
            ref = f"ydds/{collected:%Y/%m/%d}/{bwid}/{k:02d}_{code}.pdf"
            digest = hashlib.sha256(content).hexdigest()
            materials.append({"CHANGE_SEQ": seq, "XH": k, "BWID": bwid, "CLBM": code, "CLMC": name, "YS": str(rng.randint(1, 8)), "WJDZ": ref,
                              "WJHX": digest.upper() if oddity == "upper_hash" else digest, "SFZZYJ": "1" if paper or rng.random() < 0.03 else "0"})
            files.append({"WJDZ": ref, "WJNR": content, "WJDX": len(content)})
        mine = materials[len(materials) - len(chosen):]
        if defect == "file_hash_mismatch":
            m = rng.choice(mine)
            m["WJHX"] = hashlib.sha256(b"rescanned " + m["WJDZ"].encode()).hexdigest()
            label_update(packages[-1], "WJHX", f"CL#{m['XH']}")
        elif defect == "file_missing":
            m = rng.choice(mine)
            dropped.add(m["WJDZ"])  # the upload never reached the file store
            label_update(packages[-1], "WJDZ", f"CL#{m['XH']}")
        elif defect == "paper_not_collected":
            papers = [m for m, it in zip(mine, chosen) if it[3]]
            if papers:
                m = rng.choice(papers)
                m["SFZZYJ"] = rng.choice(["0", "", "否"])
                label_update(packages[-1], "SFZZYJ", f"CL#{m['XH']}")
            else:  # no paper original on this list: the package stays clean
                packages[-1].update(defect="", defect_rule="")

    ids, kinds = _person_ids(nrng, person_kind, person_prefix, person_birth)
    for a, number, kind in zip(applicants, ids, kinds):
        a["ZJHM"], a["ZJZL"] = number, kind
    package_frame = pd.DataFrame(packages, columns=["CHANGE_SEQ", "OP", *PACKAGE_FIELDS, *LABEL_COLUMNS])
    return RemoteBatch(
        package_frame,
        pd.DataFrame(applicants, columns=["CHANGE_SEQ", "XH", *APPLICANT_FIELDS]),
        pd.DataFrame(materials, columns=["CHANGE_SEQ", "XH", *MATERIAL_FIELDS]),
        pd.DataFrame([f for f in files if f["WJDZ"] not in dropped], columns=["WJDZ", "WJNR", "WJDX"]),
    )


def label_update(package: dict, field: str, item: str) -> None:
    package["defect_field"], package["defect_item"] = field, item


def _person_ids(nrng: np.random.Generator, kinds: list[str], prefixes: list[str], births: list[str]) -> tuple[list[str], list[str]]:
    """ID numbers: resident IDs (GB 11643, valid check characters), residence permits (81/82/83), passports."""
    if not kinds:
        return [], []
    kind = np.array(kinds)
    prefix = np.where(kind == "2", nrng.choice(PERMIT_PREFIXES, size=len(kind)), np.array(prefixes))
    resident = resident_ids(nrng, prefix.astype("U6"), np.array(births).astype("U8"))
    passport = np.array([f"E{v:08d}" for v in nrng.integers(0, 10**8, size=len(kind))])
    return list(np.where(kind == "3", passport, resident)), list(kind)


def _unit_number(rng: random.Random, xzqh: str, business_type: str) -> str:
    """A 28-character 不动产单元号 of a flat (GB/T 37346): county + 地籍区/子区 + GB + parcel + F + 幢号 + 户号."""
    land = rng.choices(["GB", "GS", "GX", "JC"], weights=[90, 3, 2, 5])[0] if business_type in ("03", "04") else "GB"
    return f"{xzqh}{rng.randint(1, 20):03d}{rng.randint(1, 15):03d}{land}{rng.randint(1, 9999):05d}F{rng.randint(1, 60):04d}{rng.randint(1, 320):04d}"


def _break_unit_number(rng: random.Random, unit: str) -> str:
    """A unit number that keeps its county prefix but breaks the structure."""
    how = rng.randrange(6)
    if how == 0:
        return unit[:-1]  # 27 characters
    if how == 1:
        return unit + str(rng.randrange(10))  # 29
    if how == 2:
        return unit[:12] + rng.choice(["GI", "G1", "KB", "00"]) + unit[14:]  # not a parcel feature code
    if how == 3:
        return unit[:14] + "00000" + unit[19:]  # no parcel number
    if how == 4:
        return unit[:19] + "W" + unit[20:]  # no fixture, but a fixture number
    return unit[:19] + rng.choice(["K", "X", "0"]) + unit[20:]  # not a fixture feature code


def _certificate(rng: random.Random, xzqh: str, business_type: str, collected: datetime) -> str | None:
    if business_type in ("01", "05"):
        return None  # a new build has no certificate yet
    year = rng.randint(2016, collected.year)
    if xzqh in OTHER_PROVINCE_COUNTIES:
        city, county, abbr = OTHER_PROVINCE_COUNTIES[xzqh]
        return f"{abbr}({year}){county if abbr not in ('京', '津', '沪') else city.removesuffix('市') + county}不动产权第{rng.randrange(10**7):07d}号"
    county = reference.divisions()[xzqh]
    city = reference.city_of(xzqh)
    place = city.name if county.name.endswith("区") else county.name
    return f"鲁({year}){place}不动产权第{rng.randrange(10**7):07d}号"


def _address(rng: random.Random, xzqh: str) -> str:
    if xzqh in OTHER_PROVINCE_COUNTIES:
        city, county, _ = OTHER_PROVINCE_COUNTIES[xzqh]
        place = city + county
    else:
        county = reference.divisions()[xzqh]
        place = reference.city_of(xzqh).name + county.name
    community = rng.choice([c for c in COMMUNITIES if c] or ["花园"])
    return f"{place}{rng.choice(list(ROADS))}{rng.randint(1, 399)}号{community}{rng.randint(1, 39)}号楼{rng.randint(1, 5)}单元{rng.randint(1, 32)}{rng.randint(1, 4):02d}室"


def corrections(batch: RemoteBatch, *, seed: int, checklists: pd.DataFrame | None = None, start="2024-01-01", end="2024-12-31") -> RemoteBatch:
    """OP 'U' versions of the batch's defective packages: each regenerated clean under the same BWID."""
    bad = batch.packages[batch.packages["defect"] != ""]
    fixed = generate(len(bad), seed=seed, start=start, end=end, defect_rate=0.0, oddity_rate=0.0, checklists=checklists, first_index=10**7 + seed)
    mapping = dict(zip(fixed.packages["BWID"], bad["BWID"]))
    fixed.packages["OP"] = "U"
    for frame in (fixed.packages, fixed.applicants, fixed.materials):
        frame["BWID"] = frame["BWID"].map(mapping)
    return fixed


def resubmissions(batch: RemoteBatch, bwids: list[str]) -> RemoteBatch:
    """OP 'U' versions of the packages `bwids` of `batch`, as the window resubmits them after a 补正
    request (the same applicants and materials; the files are already in the file store)."""
    wanted = set(bwids)
    packages = batch.packages[batch.packages["BWID"].isin(wanted)].copy()
    packages["OP"] = "U"
    seqs = set(packages["CHANGE_SEQ"])
    return RemoteBatch(packages.reset_index(drop=True), batch.applicants[batch.applicants["CHANGE_SEQ"].isin(seqs)].reset_index(drop=True),
                       batch.materials[batch.materials["CHANGE_SEQ"].isin(seqs)].reset_index(drop=True), batch.files.iloc[0:0])


def withdrawals(bwids: list[str]) -> RemoteBatch:
    """OP 'D' rows: the module withdraws packages (BWID only, no applicants or materials)."""
    packages = pd.DataFrame({"CHANGE_SEQ": np.arange(1, len(bwids) + 1), "OP": "D", "BWID": bwids})
    packages = packages.reindex(columns=["CHANGE_SEQ", "OP", *PACKAGE_FIELDS, *LABEL_COLUMNS])
    for c in LABEL_COLUMNS:
        packages[c] = ""
    empty = RemoteBatch(packages, pd.DataFrame(columns=["CHANGE_SEQ", "XH", *APPLICANT_FIELDS]), pd.DataFrame(columns=["CHANGE_SEQ", "XH", *MATERIAL_FIELDS]),
                        pd.DataFrame(columns=["WJDZ", "WJNR", "WJDX"]))
    return empty


def with_file_digests(materials: pd.DataFrame, files: pd.DataFrame) -> pd.DataFrame:
    """Materials with FILE_SHA256 / FILE_SIZE as the gateway computes them from the file store (null: no such file)."""
    digests = pd.DataFrame({"WJDZ": files["WJDZ"], "FILE_SHA256": [hashlib.sha256(b).hexdigest() for b in files["WJNR"]], "FILE_SIZE": files["WJDX"]})
    return materials.merge(digests, on="WJDZ", how="left")


# --- checklist forms -------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    """`python -m simulators.remote_module fill --url URL --packages N [--fresh]` or `python -m simulators.remote_module samples DIR`."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    fill = sub.add_parser("fill", help="write packages into an exchange database")
    fill.add_argument("--url", required=True)
    fill.add_argument("--packages", type=int, required=True)
    fill.add_argument("--seed", type=int, default=2021)
    fill.add_argument("--days", type=int, default=30)
    fill.add_argument("--defect-rate", type=float, default=0.1)
    fill.add_argument("--fresh", action="store_true")
    samples = sub.add_parser("samples", help="write the sample checklist forms")
    samples.add_argument("out", nargs="?", default="forms/samples/remote")
    args = parser.parse_args(argv)
    if args.command == "samples":
        for path in write_checklist_samples(Path(args.out)):
            print(path)
        return
    db = RemoteDB(args.url)
    if args.fresh:
        db.drop()
    db.create()
    end = datetime.now().replace(microsecond=0)
    first = db.count()
    batch = generate(args.packages, seed=args.seed + first, start=end - timedelta(days=args.days), end=end, defect_rate=args.defect_rate, first_index=first)
    print(json.dumps({"written": db.write(batch), "total": db.count()}))
    db.dispose()


if __name__ == "__main__":
    main()

