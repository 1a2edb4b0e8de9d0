"""Result files from account-mode institutions on a real sshd: every malformed kind is refused
with its reason, the rest is processed, and nothing is processed twice."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from jobs.cohandling.collect_results import collect_results
from jobs.cohandling.deliver_orders import deliver_run
from tests.integration import openssh
from tests.integration.institutions import write_inbox
from tests.integration.pipeline import AS_OF, routed_ledger


def _receipts_verify(folder, receipts: list[str], public_key) -> None:
    """Each receipt as the institution checks it: the gateway's tool and stock OpenSSL say it is signed; one byte changed, not."""
    import hashlib
    import shutil
    import subprocess

    import pytest

    from tools.cli import main

    for name in receipts:
        with pytest.raises(SystemExit) as exit_:
            main(["verify-receipt", str(folder / name), "--pubkey", str(public_key)])
        assert exit_.value.code == 0
        if shutil.which("openssl"):
            ossl = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public_key), "-rawin", "-in", str(folder / name),
                                   "-sigfile", str(folder / f"{name}.sig")], capture_output=True, text=True, timeout=60)
            assert ossl.returncode == 0 and "Signature Verified Successfully" in ossl.stdout
    partly = next(n for n in receipts if n.startswith("result_ok."))
    text = (folder / partly).read_text(encoding="utf-8-sig")
    archived = next((folder.parents[2] / ".results" / folder.parents[1].name).rglob("result_ok.csv")).read_bytes()
    assert hashlib.sha256(archived).hexdigest() in text and "已采用" in text and "RESULT_UNKNOWN_WORK_ORDER" in text  # hash, counts, codes
    altered = folder.parent / "altered.receipt.csv"
    data = (folder / partly).read_bytes()
    altered.write_bytes(data.replace("已采用".encode(), "未采用".encode(), 1))
    (folder.parent / "altered.receipt.csv.sig").write_bytes((folder / f"{partly}.sig").read_bytes())
    with pytest.raises(SystemExit) as exit_:
        main(["verify-receipt", str(altered), "--pubkey", str(public_key)])
    assert exit_.value.code == 1
    altered.unlink()
    (folder.parent / "altered.receipt.csv.sig").unlink()


def test_every_malformed_result_is_refused_with_its_reason_and_the_rest_processed_once(sshd, tmp_path, signing_key):
    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=300, seed=71)
    ready = pd.DataFrame([w for w in ledger.cohandling.work_orders() if w["channel"] == "account" and w["status"] == "ready"])
    for drop in ready["destination"].value_counts().index[:2]:  # two institutions have accounts; the others' batches wait
        sshd.add_drop(drop)
    drops = openssh.drops_for(sshd)
    deliver_run(ledger, run_id="r1", day=AS_OF, drops=drops)
    delivered = [d for d in ledger.cohandling.deliveries() if d["channel"] == "account" and d["status"] == "delivered"]
    by_drop: dict[str, list[dict]] = {}
    for d in delivered:
        by_drop.setdefault(d["destination"], []).append(d)
    a, b = sorted(by_drop, key=lambda k: -len(by_drop[k]))[:2]
    mine, theirs = by_drop[a], by_drop[b]
    assert len(mine) >= 4
    local_delivery = mine[0]["delivered_at"] + timedelta(hours=8)
    when = (local_delivery + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    key = lambda d: f"{d['rowguid']}:{d['utility']}:{d['version']}"  # noqa: E731

    write_inbox(sshd, a, "result_ok.csv", [
        [key(mine[0]), "", "", "0000", "", when, "王伟"],
        ["", mine[1]["rowguid"], {"water": "水", "gas": "气", "heat": "热"}[mine[1]["utility"]], "0003", "存在欠费未结清", when, "王伟"],
        [key(mine[2]), "", "", "0100", "", when, ""],  # acknowledged only
        [key(mine[0]), "", "", "0000", "", when, "王伟"],  # the same result again
        [key(mine[3]), "", "", "0000", "", when, ""],
        [key(mine[3]), "", "", "0002", "户号不存在", when, ""],  # contradicts the row above
        ["nosuchguid:water:1", "", "", "0000", "", when, ""],
        [key(theirs[0]), "", "", "0000", "", when, ""],  # another institution's work order
        [key(mine[2]), "", "", "0000", "", (local_delivery - timedelta(days=2)).strftime("%Y-%m-%d %H:%M"), ""],  # before delivery
        [key(mine[2]), "", "", "0000", "", "下周一", ""],
        [key(mine[2]), "", "", "0042", "", when, ""],
        ["garbage", "", "", "0000", "", when, ""],
    ], encoding="gb18030")
    write_inbox(sshd, a, "bad_encoding.csv", [], raw=b"GDBH,JGDM,BLSJ\n\x81\xff\xfe,\x80\x80\n")
    write_inbox(sshd, a, "no_code.csv", [], raw=b"GDBH,BLSJ\nx:water:1,2026-11-23\n")
    write_inbox(sshd, a, "$(reboot).csv", [[key(mine[1]), "", "", "0000", "", when, ""]])
    write_inbox(sshd, a, "huge.csv", [], raw=b"GDBH,JGDM,BLSJ\n" + b"x" * (5 * 1024 * 1024 + 10))

    as_of = datetime.now() + timedelta(days=10)
    collected = collect_results(ledger, as_of=as_of, drops=drops)
    assert collected.errors == []
    assert (collected.files, collected.files_refused) == (1, 4)
    problems = ledger.cohandling.result_exceptions()
    by_file = {}
    for p in problems.to_dict("records"):
        file_level = pd.isna(p["row_number"])
        by_file.setdefault(p["value"] if file_level else "result_ok.csv", []).append((None if file_level else int(p["row_number"]), p["reason_code"]))
    assert sorted(by_file["result_ok.csv"]) == [
        (5, "RESULT_DUPLICATE"), (7, "RESULT_CONFLICT"), (8, "RESULT_UNKNOWN_WORK_ORDER"), (9, "RESULT_WRONG_SOURCE"),
        (10, "RESULT_BEFORE_DELIVERY"), (11, "RESULT_BAD_DATE"), (12, "RESULT_UNKNOWN_CODE"), (13, "RESULT_BAD_KEY"),
    ]
    assert by_file["bad_encoding.csv"] == [(None, "FILE_ENCODING")]
    assert by_file["no_code.csv"] == [(None, "FILE_COLUMNS_MISSING")]
    assert by_file["$(reboot).csv"] == [(None, "FILE_NAME_UNSAFE")]
    assert by_file["huge.csv"] == [(None, "FILE_TOO_LARGE")]
    assert all(p["reason"] for p in problems.to_dict("records"))

    outcomes = {(o["rowguid"], o["utility"]): o for o in ledger.cohandling.outcomes().to_dict("records")}
    assert outcomes[(mine[0]["rowguid"], mine[0]["utility"])]["result"] == "done"
    assert outcomes[(mine[1]["rowguid"], mine[1]["utility"])]["result"] == "rejected"
    assert outcomes[(mine[1]["rowguid"], mine[1]["utility"])]["reason"] == "存在欠费未结清"
    assert pd.isna(outcomes[(mine[2]["rowguid"], mine[2]["utility"])]["result"])  # acknowledged, still open
    assert pd.notna(outcomes[(mine[2]["rowguid"], mine[2]["utility"])]["acknowledged_at"])
    assert outcomes[(mine[3]["rowguid"], mine[3]["utility"])]["result"] == "done"  # the first final result stands
    assert [p.name for p in (sshd.root / a / "inbox").iterdir()] == ["receipts"]  # every file moved out of the institution's inbox
    folder = sshd.root / a / "inbox" / "receipts"
    receipts = sorted(p.name for p in folder.iterdir() if p.name.endswith(".receipt.csv"))
    assert len(receipts) == 5  # a receipt for each file read: result_ok.csv (partly refused) and the four refused whole
    assert sorted(p.name for p in folder.iterdir()) == sorted(receipts + [f"{r}.sig" for r in receipts])  # each signed beside it
    _receipts_verify(folder, receipts, signing_key)
    sms = ledger.cohandling.sms()
    assert len(sms) == 3 and all(s["phone"] and "【不动产登记】" in s["text"] for s in sms)

    write_inbox(sshd, a, "result_ok.csv", [])  # placeholder replaced below by the same bytes as before
    (sshd.root / a / "inbox" / "result_ok.csv").write_bytes(next((sshd.root / ".results" / a).rglob("result_ok.csv")).read_bytes())
    again = collect_results(ledger, as_of=as_of, drops=drops)
    assert (again.files, again.results, again.exceptions) == (0, 0, 0)  # the same file is not processed twice
    assert len(ledger.cohandling.result_exceptions()) == len(problems)
    drops.close()
