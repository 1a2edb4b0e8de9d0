"""The purge's value rewrite (transforms/common/purge.py): blind index + masked form, NULL / '' / purged kept, tokens and
legacy clear values alike, unreadable tokens erased all the same, bytes, and what readers show of a purged value."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.common.fieldcrypt import PURGED, FieldKey, Keyring, blind_index_column, decrypt_column, encrypt_column, kind_of
from transforms.common.mask import mask_id, mask_names, mask_phone
from transforms.common.purge import PURGED_BYTES, is_due, kind_of_column, purge_bytes, purge_values

ID = "37010219900101123X"
PHONE = "13812345678"


@pytest.fixture
def ring() -> Keyring:
    return Keyring([FieldKey("k1", b"\x01" * 16, b"\x02" * 32)], "k1")


def test_ids_phones_and_names_become_index_and_masked_form_whether_token_or_legacy_clear(ring):
    token = encrypt_column([ID], ring, table="received_record", column="zrfzjhm")[0]
    out = purge_values([token, ID, None, "", PURGED + ":x"], ring, table="received_record", column="zrfzjhm")
    index = blind_index_column([ID], ring, kind="id", column="zrfzjhm")[0]
    assert out.values == [f"purged:{index}:370102********123X"] * 2 + [None, "", PURGED + ":x"]
    assert (out.changed, out.unindexed, out.positions) == (2, 0, [0, 1])
    assert all(ID not in v and kind_of(v) == "purged" for v in out.values[:2])

    phone = purge_values([PHONE], ring, table="received_record", column="zrflxdh").values[0]
    assert phone.endswith(":138****5678") and phone.split(":")[2] == blind_index_column([PHONE], ring, kind="phone", column="c")[0].split(":")[1]
    assert purge_values(["欧阳娜娜"], ring, table="remote_applicant", column="sqrxm").values[0].endswith(":欧***")


def test_purging_twice_changes_nothing(ring):
    first = purge_values([ID, PHONE, "张三"], ring, table="rule_failure", column="value")
    second = purge_values(first.values, ring, table="rule_failure", column="value")
    assert second.values == first.values and second.changed == 0


def test_free_values_mask_ids_and_phones_in_them_and_keep_one_character_of_the_rest(ring):
    out = purge_values([f"号码{PHONE}", "张三丰", "x"], ring, table="result_exception", column="value").values
    assert [v.rsplit(":", 1)[1] for v in out] == ["号码138****5678", "张**", "x*"]
    assert kind_of_column("rule_failure", "value") == "text" and kind_of_column("received_record", "zcfzjhm") == "id"


def test_a_token_that_does_not_decrypt_is_erased_without_index(ring):
    other = Keyring([FieldKey("k9", b"\x05" * 16, b"\x06" * 32)], "k9")
    lost = encrypt_column([ID], other, table="received_record", column="zrfzjhm")[0]
    out = purge_values([lost, ID], ring, table="received_record", column="zrfzjhm")
    assert out.values[0] == "purged::" and out.values[1].startswith("purged:k1:")
    assert (out.changed, out.unindexed) == (2, 1)


def test_a_column_of_tokens_is_purged_at_once_and_one_bad_token_among_them_costs_only_itself(ring):
    from transforms.common.fieldcrypt import BULK_FROM

    ids = [f"3701021990{m:02d}{d:02d}123X" for m in range(1, 4) for d in range(1, 11)]
    assert len(ids) > BULK_FROM  # the column-at-a-time path
    tokens = encrypt_column(ids, ring, table="received_record", column="zrfzjhm")
    whole = purge_values(tokens, ring, table="received_record", column="zrfzjhm")
    assert whole.values == [purge_values([t], ring, table="received_record", column="zrfzjhm").values[0] for t in tokens]
    assert (whole.changed, whole.unindexed) == (len(ids), 0)

    other = Keyring([FieldKey("k9", b"\x05" * 16, b"\x06" * 32)], "k9")
    bad = encrypt_column([ids[0]], other, table="received_record", column="zrfzjhm")[0]
    altered = tokens[7][:-2] + ("A" if tokens[7][-2] != "A" else "B") + tokens[7][-1]  # tag changed: does not authenticate
    mixed = purge_values([*tokens[:7], altered, *tokens[8:], bad], ring, table="received_record", column="zrfzjhm")
    assert mixed.values[7] == mixed.values[-1] == "purged::" and mixed.unindexed == 2 and mixed.changed == len(ids) + 1
    assert mixed.values[:7] + mixed.values[8:-1] == whole.values[:7] + whole.values[8:]


def test_readers_show_the_masked_form_and_masking_it_again_keeps_it(ring):
    purged = purge_values([ID, PHONE, "张三"], ring, table="received_record", column="zrfxm", kind=None).values
    shown = decrypt_column(purged, ring, table="received_record", column="zrfxm")
    assert shown == ["3" + "*" * 17, "1" + "*" * 10, "张*"]  # a name column masks every value as a name: first character kept
    ids = decrypt_column(purge_values([ID], ring, table="received_record", column="zrfzjhm").values, ring, table="received_record", column="zrfzjhm")
    phones = decrypt_column(purge_values([PHONE], ring, table="sms_outbox", column="phone").values, ring, table="sms_outbox", column="phone")
    assert mask_id(pd.Series(ids)).tolist() == ids == ["370102********123X"]
    assert mask_phone(pd.Series(phones)).tolist() == phones == ["138****5678"]
    assert mask_names(pd.Series(["张*"])).tolist() == ["张*"]


def test_bytes_become_the_bare_mark_and_none_stays(ring):
    out = purge_bytes([b"\x00" + ID.encode(), None, PURGED_BYTES, memoryview(b"x")])
    assert out.values == [PURGED_BYTES, None, PURGED_BYTES, PURGED_BYTES] and out.changed == 2
    assert [is_due(v) for v in (ID, "", None, PURGED + "k1:x:y")] == [True, False, False, False]
