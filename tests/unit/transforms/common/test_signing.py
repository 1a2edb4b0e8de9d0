"""transforms/common/signing.py: a batch's manifest signed beside it; origin and content checked, one byte is enough to fail."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from transforms.cohandling.batchfiles import BatchFile
from transforms.common.signing import check_batch, check_signed_file, load_public_key, public_pem, with_signature

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # fixed: the signature is deterministic
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))


def batch() -> list[BatchFile]:
    data = BatchFile("XB_1.csv", b"GDBH,XBLX\nr1:water:1,water\n")
    sums = BatchFile("XB_1.sha256", f"{data.sha256}  {data.name}\n".encode())
    manifest = {"files": [{"name": data.name, "records": 1, "size": data.size, "sha256": data.sha256}],
                "checksums": {"name": sums.name, "sha256": sums.sha256}}
    return [data, sums, BatchFile("XB_1.manifest.json", json.dumps(manifest).encode())]


def contents(files) -> dict[str, bytes]:
    return {f.name: f.data for f in files}


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]


def test_the_signature_goes_just_before_the_manifest_and_is_the_same_every_time():
    files = with_signature(batch(), KEY)
    assert [f.name for f in files] == ["XB_1.csv", "XB_1.sha256", "XB_1.manifest.json.sig", "XB_1.manifest.json"]
    assert len(files[2].data) == 64 and files[2].data == with_signature(batch(), KEY)[2].data
    assert check_batch(contents(files), KEY.public_key()) == []
    with pytest.raises(ValueError, match="manifest"):
        with_signature(batch()[:2], KEY)


@pytest.mark.parametrize("name", ["XB_1.manifest.json", "XB_1.csv", "XB_1.sha256", "XB_1.manifest.json.sig"])
@pytest.mark.parametrize("at", [0, 7, -1])
def test_one_byte_altered_anywhere_fails(name, at):
    got = contents(with_signature(batch(), KEY))
    got[name] = flip(got[name], at % len(got[name]))
    problems = check_batch(got, KEY.public_key())
    assert len(problems) == 1
    assert ("signature does not verify" if name.startswith("XB_1.manifest") else "differs from the manifest") in problems[0]


def test_another_key_a_missing_signature_a_missing_or_extra_file_fail():
    got = contents(with_signature(batch(), KEY))
    assert "signature does not verify" in check_batch(got, OTHER.public_key())[0]
    assert "not signed" in check_batch({k: v for k, v in got.items() if not k.endswith(".sig")}, KEY.public_key())[0]
    assert "missing" in check_batch({k: v for k, v in got.items() if k != "XB_1.csv"}, KEY.public_key())[0]
    assert "not listed" in check_batch({**got, "evil.csv": b"x"}, KEY.public_key())[0]
    assert "expected one" in check_batch({"a.csv": b""}, KEY.public_key())[0]


def test_a_signed_file_and_the_public_key_in_pem():
    key = load_public_key(public_pem(KEY.public_key()))
    receipt = "# 文件 file,R1.csv\n".encode("utf-8-sig")
    sig = KEY.sign(receipt)
    assert check_signed_file("R1.receipt.csv", receipt, sig, key) == []
    assert "does not verify" in check_signed_file("R1.receipt.csv", flip(receipt, 5), sig, key)[0]
    assert "not signed" in check_signed_file("R1.receipt.csv", receipt, None, key)[0]
    with pytest.raises(ValueError):
        load_public_key(b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
