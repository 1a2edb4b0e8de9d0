from __future__ import annotations

import pandas as pd

from transforms.common.mask import mask_id, mask_phone, neutralise_formula


def test_ids_and_phones_are_masked_per_owner():
    assert mask_id(pd.Series(["37010219900101123X，110105194912310021"])).item() == "370102********123X，110105********0021"
    assert mask_phone(pd.Series(["13812345678/0531-88557856"])).item() == "138****5678/053******7856"
    assert mask_id(pd.Series(["E1234"])).item() == "*****"


def test_formula_cells_are_neutralised():
    assert neutralise_formula(pd.Series(["=HYPERLINK()", "+1", "-2", "@x", "ok", ""])).tolist() == ["'=HYPERLINK()", "'+1", "'-2", "'@x", "ok", ""]
