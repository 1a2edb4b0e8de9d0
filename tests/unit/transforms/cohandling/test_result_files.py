"""Result files as institutions send them, and as they break: bounds before anything else, one
reason per bad row, a file over the row bound refused whole with one reason, names checked as
bytes, the exceptions of a file capped, the receipt safe to open in Excel."""

from __future__ import annotations

import csv
import io

from transforms.cohandling.result_files import (
    CELL_LIMITS,
    MAX_FILE_EXCEPTIONS,
    MAX_RESULT_ROWS,
    cap_exceptions,
    check_file_name,
    exception,
    parse_result_file,
    receipt_csv,
    receipt_name,
)
from transforms.common.csvtext import decode_lines

HEAD = b"GDBH,JGDM,JGSM,BLSJ\n"


def test_a_file_over_the_row_bound_is_one_refusal_not_a_line_per_row():
    rows, problems, problem = parse_result_file("r.csv", HEAD + b"a\n" * (MAX_RESULT_ROWS + 1), source="sftp:x")
    assert rows is None and problems == [] and problem["reason_code"] == "FILE_TOO_MANY_ROWS"
    rows, problems, problem = parse_result_file("r.csv", HEAD + b"a\n" * MAX_RESULT_ROWS, source="sftp:x")
    assert problem is None and len(problems) == MAX_RESULT_ROWS  # at the bound: read, each row judged


def test_a_damaged_line_costs_its_row_and_the_others_are_read():
    good = "g1:water:1,0000,已办结,2026-11-23 10:00\n".encode()
    data = HEAD + good + b"g2:water:1,0000,\xff\xfe,2026-11-23\n" + "g3:gas:2,0003,欠费\x00未结清\u202e,2026-11-23\n".encode()
    rows, problems, problem = parse_result_file("r.csv", data, source="sftp:x")
    assert problem is None
    assert [(p["row_number"], p["reason_code"]) for p in problems] == [(3, "RESULT_ENCODING")]
    assert list(rows["GDBH"]) == ["g1:water:1", "g3:gas:2"]
    assert list(rows["JGSM"]) == ["已办结", "欠费未结清"]  # NUL and bidi removed


def test_keys_and_cells_are_bounded_before_they_reach_int_or_the_database():
    lines = [f"g:water:{v},0000,x,2026-11-23\n".encode() for v in ("²", "9" * 20)]
    lines.append(f"{'r' * 65}:water:1,0000,x,2026-11-23\n".encode())
    lines.append(f"g:water:1,0000,{'长' * (CELL_LIMITS['JGSM'] + 1)},2026-11-23\n".encode())
    _, problems, _ = parse_result_file("r.csv", HEAD + b"".join(lines), source="sftp:x")
    assert [(p["row_number"], p["reason_code"]) for p in problems] == [
        (2, "RESULT_BAD_KEY"), (3, "RESULT_BAD_KEY"), (4, "RESULT_BAD_KEY"), (5, "RESULT_CELL_TOO_LONG")]


def test_names_are_checked_as_bytes():
    assert check_file_name(b"result_20261123.csv") == ("result_20261123.csv", None)
    for raw in (b"\xff.csv", b"a..b.csv", b"a b.csv", b"r" * 200 + b".csv", b"x.csv\xe2\x80\xae.txt"):
        name, why = check_file_name(raw)
        assert name is None and why
    assert "\\xff" in check_file_name(b"\xff.csv")[1]


def test_exceptions_of_a_file_are_capped_with_one_counting_line():
    problems = [exception("s", "RESULT_BAD_KEY", row=n) for n in range(MAX_FILE_EXCEPTIONS + 50)]
    capped = cap_exceptions(problems, source="s")
    assert len(capped) == MAX_FILE_EXCEPTIONS + 1
    assert capped[-1]["reason_code"] == "RESULT_MORE_EXCEPTIONS" and "50" in capped[-1]["reason"]


def test_the_receipt_names_the_file_and_its_hash_and_neutralises_formulas():
    refused = [exception("s", "RESULT_BAD_KEY", row=3, value="=HYPERLINK(\"http://x\")")]
    data = receipt_csv(shown_name="r.csv", sha256="ab" * 32, size=10, accepted=2, refused=refused, whole_file=False)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][1] == "r.csv" and rows[1][1] == "ab" * 32
    assert rows[-1][:2] == ["3", "RESULT_BAD_KEY"] and rows[-1][3].startswith("'=")
    assert receipt_name("r.csv", "ab" * 32) == "r.abababababab.receipt.csv"


def test_the_receipt_of_a_file_accepted_whole_says_so_and_ids_and_phones_in_refusals_are_masked():
    ok = list(csv.reader(io.StringIO(receipt_csv(shown_name="r.csv", sha256="cd" * 32, size=10, accepted=7, refused=[],
                                                 whole_file=False).decode("utf-8-sig"))))
    assert ok[3][1] == "已采用 7 行，全部采用 / all accepted" and ok[-1] == ["行 row", "规则 rule", "说明 reason", "值 value"]
    refused = [exception("s", "RESULT_BAD_KEY", row=4, value="370102199001011234,13812345678")]
    text = receipt_csv(shown_name="r.csv", sha256="cd" * 32, size=10, accepted=1, refused=refused, whole_file=False).decode("utf-8-sig")
    assert "370102199001011234" not in text and "13812345678" not in text and "370102********1234" in text and "138****5678" in text
    assert "已采用 1 行，未采用 1 行 / partly refused" in text


def test_decoding_picks_the_encoding_most_lines_are_in():
    gb = "县,结果\n历下,办结\n".encode("gb18030")
    assert decode_lines(gb).encoding == "gb18030"
    mixed = "县,结果\n历下,办结\n".encode() + b"\xff\xfe\n"
    decoded = decode_lines(mixed)
    assert (decoded.encoding, sorted(decoded.bad_lines)) == ("utf-8", [3])
    assert decode_lines(bytes(range(128, 256)) * 10) is None
