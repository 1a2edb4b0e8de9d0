"""connectors/answer_check.py: a receiver's answer verifies only for the request it was signed for."""

from __future__ import annotations

import pytest

from connectors.answer_check import answer_headers, check_answer

KEY = "county-answer-key"
ASKED = {"nonce": "n1", "status": 200, "method": "GET", "path": "/county/370102/v1/results", "after": "57", "body": b'{"results": []}'}
NOW = 1_790_000_000.0


def signed(**changes):
    return answer_headers(KEY, **{**ASKED, **changes}, timestamp=NOW)


def test_the_answer_to_this_request_verifies():
    assert check_answer(KEY, signed(), **ASKED, now=NOW + 5) is None


@pytest.mark.parametrize("changed", [{"nonce": "n2"}, {"after": "58"}, {"after": ""}, {"status": 404}, {"method": "POST"},
                                     {"path": "/county/370103/v1/results"}, {"body": b'{"results": [] }'}])
def test_an_answer_for_another_request_cursor_receiver_or_body_is_refused(changed):
    assert "does not match" in check_answer(KEY, signed(), **{**ASKED, **changed}, now=NOW)


def test_unsigned_malformed_stale_and_wrong_key_are_refused_with_reasons():
    assert "not signed" in check_answer(KEY, {}, **ASKED, now=NOW)
    assert "malformed" in check_answer(KEY, {**signed(), "X-Receiver-Signature": "zz"}, **ASKED, now=NOW)
    assert "stale or replayed" in check_answer(KEY, signed(), **ASKED, now=NOW + 301)
    assert check_answer(KEY, signed(), **ASKED, now=NOW + 300) is None
    assert "does not match" in check_answer("another-receivers-key", signed(), **ASKED, now=NOW)
