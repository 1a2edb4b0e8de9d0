"""reconcile's lookups done once per distinct value (issue 18) equal the per-row ones they replaced."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pytest

from jobs.common import reference
from transforms.cohandling.reconcile import DEADLINES, among, deadline_days, places

DIVISIONS = reference.divisions()


def per_row(record_xzqh: pd.Series):
    """The lookup as reconcile did it before issue 18: one Python call per row and column."""
    xzqh = record_xzqh.map(lambda v: unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else None)
    county = xzqh.map(lambda c: DIVISIONS.get(c))
    city_code = county.map(lambda d: d.parent_code if d is not None else "")
    return (xzqh, county.map(lambda d: d.name if d is not None else "未知县区"), city_code,
            city_code.map(lambda c: DIVISIONS[c].name if c in DIVISIONS else "未知市"))


def generated(seed: int, n: int = 5000) -> list:
    """County codes as people send them: plain, full-width, padded, city or unknown codes, empty, missing."""
    rng = np.random.default_rng(seed)
    codes = [d.code for d in reference.counties()][:40] + ["370100", "370000", "999999", "37010", "", " "]
    values = rng.choice(np.array(codes, dtype=object), n)
    full = rng.random(n) < 0.1
    values[full] = [v.translate(str.maketrans("0123456789", "０１２３４５６７８９")) for v in values[full]]
    padded = rng.random(n) < 0.1
    values[padded] = [f" {v}\u3000" for v in values[padded]]
    values[rng.random(n) < 0.05] = None
    return list(values)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("dtype", ["str", object])
def test_places_equal_the_per_row_lookup_on_generated_codes(seed, dtype):
    column = pd.Series(generated(seed), dtype=dtype, index=np.arange(5000) * 3 + 7)  # an index that is not 0..n-1
    for before, now in zip(per_row(column), places(column, DIVISIONS), strict=True):
        pd.testing.assert_series_equal(now, before)
    assert places(column, DIVISIONS)[1].isin(["未知县区"]).any() and places(column, DIVISIONS)[3].isin(["济南市"]).any()  # both kinds occur


@pytest.mark.parametrize("column", [
    pd.Series([], dtype="str"), pd.Series([], dtype=object), pd.Series([], dtype="int64"), pd.Series([None, None]), pd.Series([None, np.nan, 370102, "370102"], dtype=object),
], ids=["empty-str", "empty-object", "empty-int", "all-missing", "not-text"])
def test_places_equal_the_per_row_lookup_on_edge_columns(column):
    for before, now in zip(per_row(column), places(column, DIVISIONS), strict=True):
        pd.testing.assert_series_equal(now, before)


@pytest.mark.parametrize("dtype", ["str", object])
def test_deadline_days_and_among_equal_what_they_replaced(dtype):
    rng = np.random.default_rng(7)
    utility = pd.Series(rng.choice(np.array(["electricity", "water", "gas", "heat", "fire", "", None], dtype=object), 3000), dtype=dtype)
    deadlines = DEADLINES | {"water": 10, "fire": 3}
    for given in (DEADLINES, deadlines, {"gas": 7}, {"gas": None, "heat": 6.0}):
        expected = utility.map(given).fillna(5).astype(int).to_numpy()
        assert (deadline_days(utility, given) == expected).all() and deadline_days(utility, given).dtype == expected.dtype
    values = utility.astype(object).to_numpy()
    for choices in (["water", "gas"], ["", "fire"], ["nothing"], []):
        assert (among(values, choices) == np.isin(values, choices)).all()
    assert among(values, ["water"]).any() and not among(values, ["water"]).all()
