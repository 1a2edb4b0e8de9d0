from __future__ import annotations

import pandas as pd

from transforms.common.mask import mask_address, mask_id, mask_phone, neutralise_formula


def test_ids_and_phones_are_masked_per_owner():
    assert mask_id(pd.Series(["37010219900101123X，110105194912310021"])).item() == "370102********123X，110105********0021"
    assert mask_phone(pd.Series(["13812345678/0531-88557856"])).item() == "138****5678/053******7856"
    assert mask_id(pd.Series(["E1234"])).item() == "*****"


def test_formula_cells_are_neutralised():
    assert neutralise_formula(pd.Series(["=HYPERLINK()", "+1", "-2", "@x", "ok", ""])).tolist() == ["'=HYPERLINK()", "'+1", "'-2", "'@x", "ok", ""]


def test_addresses_keep_the_place_and_road_and_hide_the_home():
    addresses = pd.Series([
        "山东省济南市历下区经十路123号阳光花园12号楼3单元1201室",  # the simulator's shape
        "青岛市市南区香港中路８号",  # full-width digits are digits
        "淄博市张店区阳光花园三号楼二单元",  # building and unit in Chinese figures
        "烟台市芝罘区幸福街道",  # nothing finer than the subdistrict: nothing to hide
        "济宁市任城区某某小区东区甲栋",  # no digit: cut at the figure with its unit
        "幸福小区",  # neither a number nor a place: all hidden
        "12号楼",
        "",
        None,
    ])
    masked = mask_address(addresses)
    assert masked.isna().tolist() == [False] * 8 + [True]  # a missing address stays missing
    assert masked.tolist()[:8] == [
        "山东省济南市历下区经十路***",
        "青岛市市南区香港中路***",
        "淄博市张店区阳光花园***",
        "烟台市芝罘区幸福街道",
        "济宁市任城区某某小区东区***",
        "***",
        "***",
        "",
    ]


def test_a_masked_address_never_shows_a_door_building_or_room_number():
    import re

    addresses = pd.Series([f"济南市历下区经十路{door}号{building}号楼{unit}单元{room}室" for door, building, unit, room in
                           [(1, 2, 3, 401), (399, 39, 5, 3204), (7, 1, 1, 101)]])
    for masked in mask_address(addresses):
        assert not re.search(r"\d", masked) and masked.endswith("***") and masked.startswith("济南市历下区经十路")
    long_name = "济南市" + "某" * 40 + "路5号"
    assert mask_address(pd.Series([long_name])).item() == long_name[:24] + "***"  # at most 24 characters kept
