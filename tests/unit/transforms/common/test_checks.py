from __future__ import annotations

import numpy as np
import pytest

from transforms.common.checkdigits import USCC_CHARSET, id_check_char, id_check_chars, uscc_check_chars, uscc_values


@pytest.mark.parametrize("number", ["360426199101010071", "44011320141005001X", "11010519491231002X"])
def test_resident_id_examples_from_domain_pass(number):
    assert id_check_char(number[:17]) == number[17]


@pytest.mark.parametrize("number", ["360426199101010072", "440113201410050010", "110105194912310021"])
def test_resident_id_wrong_check_fails(number):
    assert id_check_char(number[:17]) != number[17]


def test_resident_id_check_is_vectorised():
    bodies = np.array([[int(c) for c in "36042619910101007"], [int(c) for c in "44011320141005001"]])
    assert list(id_check_chars(bodies)) == ["1", "X"]


def test_uscc_example_from_domain_passes():
    values = uscc_values(np.array(["91110000600037341L"]))
    assert uscc_check_chars(values[:, :17])[0] == "L"


def test_uscc_rejects_characters_outside_the_charset():
    values = uscc_values(np.array(["91110000600037341I"]))
    assert values[0, 17] == -1
    assert set("IOZSV").isdisjoint(USCC_CHARSET)
