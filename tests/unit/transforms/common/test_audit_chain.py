"""The audit chain's arithmetic (transforms/common/audit_chain.py): SM3, the canonical form, the link, and which
entry `check_chain` names after an entry is altered, removed or reordered."""

from __future__ import annotations

from datetime import datetime

import pytest

from transforms.common.audit_chain import GENESIS, canonical, check_chain, check_seal, link, seal_payload, sm3


def test_sm3_is_the_standard_one():
    # GB/T 32905-2016, example 1
    assert sm3(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_the_canonical_form_is_sorted_compact_json_with_explicit_nulls_and_utc_microseconds():
    entry = {"seq": 7, "at": datetime(2026, 12, 4, 1, 2, 3, 45), "run_id": None, "actor": "console:张", "action": "console_view",
             "object_type": "work_order", "object_id": 12, "detail": '{"b": 1, "a": "无"}', "audit_id": 99, "extra": "ignored"}
    assert canonical(entry) == ('{"action":"console_view","actor":"console:张","at":"2026-12-04T01:02:03.000045Z",'
                                '"detail":"{\\"b\\": 1, \\"a\\": \\"无\\"}","object_id":"12","object_type":"work_order",'
                                '"run_id":null,"seq":7}').encode()
    # the same instant written as text or aware UTC gives the same bytes
    from datetime import UTC

    assert canonical(entry | {"at": "2026-12-04 01:02:03.000045"}) == canonical(entry)
    assert canonical(entry | {"at": datetime(2026, 12, 4, 1, 2, 3, 45, tzinfo=UTC)}) == canonical(entry)


def test_a_link_is_sm3_over_the_previous_hash_bytes_and_the_canonical_form():
    entry = {"seq": 1, "at": datetime(2026, 1, 1), "actor": "a", "action": "b"}
    assert link(GENESIS, entry) == sm3(bytes(32) + canonical(entry))
    assert link(GENESIS, entry) != link(GENESIS, entry | {"seq": 2})


def chain(n: int) -> list[dict]:
    rows, prev = [], GENESIS
    for i in range(1, n + 1):
        row = {"audit_id": 10 * i, "seq": i, "at": datetime(2026, 12, 4, 8, 0, i), "run_id": "r", "actor": "route",
               "action": f"act{i}", "object_type": None, "object_id": None, "detail": f'{{"n": {i}}}', "prev": prev}
        row["hash"] = prev = link(prev, row)
        rows.append(row)
    return rows


def test_an_intact_chain_holds_with_its_head():
    rows = chain(5)
    check = check_chain(iter(rows), head=(5, rows[-1]["hash"]))
    assert check.ok and check.head_seq == 5 and check.entries == 5 and check.hashes[3] == rows[2]["hash"]
    assert check_chain(rows, keep={2}).hashes == {2: rows[1]["hash"]}
    assert check_chain([], head=(0, GENESIS)).ok


def test_an_altered_entry_is_named():
    rows = chain(5)
    rows[2]["detail"] = '{"n": 300}'
    broken = check_chain(rows).broken
    assert (broken.kind, broken.seq, broken.audit_id, broken.action) == ("altered", 3, 30, "act3")


def test_a_removed_entry_names_the_gap():
    rows = chain(5)
    del rows[1]
    broken = check_chain(rows).broken
    assert (broken.kind, broken.seq) == ("removed", 3) and "seq 2 missing" in broken.reason


def test_a_removed_entry_with_the_rest_renumbered_is_still_found():
    rows = chain(5)
    del rows[1]
    for row in rows[1:]:
        row["seq"] -= 1
    broken = check_chain(rows).broken
    assert (broken.kind, broken.seq, broken.action) == ("removed", 2, "act3")


def test_two_entries_swapped_are_named_as_reordered():
    rows = chain(5)
    rows[1]["seq"], rows[3]["seq"] = rows[3]["seq"], rows[1]["seq"]
    rows.sort(key=lambda r: r["seq"])
    locate = {r["hash"]: r["seq"] for r in rows}.get
    broken = check_chain(iter(rows), locate=locate).broken
    assert (broken.kind, broken.seq, broken.action) == ("reordered", 2, "act4") and "follows seq 3" in broken.reason
    assert check_chain(rows).broken.kind == "removed"  # without a way to look the hash up, it follows an entry not there


def test_ids_swapped_alone_are_named_as_reordered():
    rows = chain(5)
    rows[1]["audit_id"], rows[3]["audit_id"] = rows[3]["audit_id"], rows[1]["audit_id"]
    broken = check_chain(rows).broken
    assert (broken.kind, broken.seq) == ("reordered", 3) and "audit_id 30 does not rise after audit_id 40" in broken.reason


def test_a_tail_cut_off_is_found_through_the_head():
    rows = chain(5)
    broken = check_chain(rows[:3], head=(5, rows[-1]["hash"])).broken
    assert (broken.kind, broken.seq) == ("truncated", 4)
    broken = check_chain(rows[:3] + [rows[3] | {"hash": rows[2]["hash"]}], head=(4, rows[3]["hash"])).broken
    assert broken.kind == "altered" and broken.seq == 4  # its stored hash is not SM3 over it either way
    # entries appended after the head was read only follow it
    assert check_chain(rows, head=(3, rows[2]["hash"])).ok


@pytest.mark.parametrize(("field", "kind", "seq"), [("seq", "removed", 3), ("prev", "unlinked", 2), ("hash", "unlinked", 2)])
def test_an_entry_without_its_chain_fields_breaks_it(field, kind, seq):
    rows = chain(3)
    rows[1][field] = None
    rows.sort(key=lambda r: (r["seq"] is None, r["seq"] or 0))  # as select_audit_chain orders: no place, last
    broken = check_chain(rows).broken
    assert (broken.kind, broken.seq) == (kind, seq)


def test_a_seal_holds_while_its_entry_is_in_the_chain():
    rows = chain(5)
    check = check_chain(rows, keep={4, 6})
    assert check_seal({"seq": 4, "hash": rows[3]["hash"]}, check.hashes, last_seq=check.head_seq) is None
    assert "truncated" in check_seal({"seq": 6, "hash": "ab" * 32}, check.hashes, last_seq=check.head_seq)
    assert "rewritten" in check_seal({"seq": 4, "hash": rows[2]["hash"]}, check.hashes, last_seq=check.head_seq)


def test_the_seal_payload_covers_the_fields_that_are_signed_only():
    seal = {"seq": 4, "hash": "ab" * 32, "sealed_at": "2026-12-04T08:00:00.000000Z", "key_id": "k", "algorithm": "Ed25519"}
    assert seal_payload(seal | {"ledger": "x", "signature": "y"}) == seal_payload(seal)
    assert seal_payload(seal | {"seq": 5}) != seal_payload(seal)
