"""`python -m tools.cli verify-batch DIR --pubkey FILE` and `verify-receipt FILE --pubkey FILE`: what an institution
(or an auditor) runs on what it downloaded from its drop to check that it comes from the gateway and is intact
(transforms/common/signing.py; the same checks with stock tools in docs/protocol/sftp-drop.md). Reads only the
files named; prints one line per problem, or one line saying what verified; exit status 0 when it verifies, 1 when
not, 2 when the arguments are wrong (no such folder, not a public key)."""

from __future__ import annotations

from pathlib import Path

MAX_FILE_BYTES = 1 << 30  # a batch file is far smaller; anything larger is not read whole


def add_parser(sub) -> None:
    """The two commands on the CLI's subparsers (tools/cli.py)."""
    vb = sub.add_parser("verify-batch", help="check a batch folder from a drop: the manifest's signature and every file (exit status 1: fails)")
    vb.add_argument("folder", metavar="DIR")
    vr = sub.add_parser("verify-receipt", help="check a receipt from a drop's inbox/receipts/ against its signature (exit status 1: fails)")
    vr.add_argument("file", metavar="FILE")
    for p in (vb, vr):
        p.add_argument("--pubkey", required=True, help="the gateway's public key (PEM), as the gateway's operators gave it")


def run(args, refuse) -> int:
    """Run the command `args` names; `refuse(message)` stops with exit status 2."""
    if args.command == "verify-batch":
        return verify_batch(refuse, args.folder, args.pubkey)
    return verify_receipt(refuse, args.file, args.pubkey)


def _public_key(refuse, path: str):
    from transforms.common.signing import load_public_key

    try:
        return load_public_key(Path(path).read_bytes())
    except OSError as exc:
        refuse(f"--pubkey {path}: {exc.strerror or exc}")
    except ValueError as exc:
        refuse(f"--pubkey {path}: not the gateway's public key: {exc}")


def verify_batch(refuse, folder: str, pubkey: str) -> int:
    from transforms.common.signing import check_batch, fingerprint

    key = _public_key(refuse, pubkey)
    where = Path(folder)
    if not where.is_dir():
        refuse(f"{folder}: not a folder (give the batch's folder, e.g. outbox/XB20261120_000003)")
    contents = {}
    for path in sorted(where.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            contents[path.name] = path.read_bytes() if path.stat().st_size <= MAX_FILE_BYTES else b""
    problems = check_batch(contents, key)
    return _told(problems, f"OK {where.name}: manifest signed by the gateway ({fingerprint(key)}); "
                           f"{len(contents) - 2} files as the manifest lists them")


def verify_receipt(refuse, file: str, pubkey: str) -> int:
    from transforms.common.signing import SIG_SUFFIX, check_signed_file, fingerprint

    key = _public_key(refuse, pubkey)
    path = Path(file)
    if not path.is_file():
        refuse(f"{file}: no such file")
    sig = Path(file + SIG_SUFFIX)
    problems = check_signed_file(path.name, path.read_bytes(), sig.read_bytes() if sig.is_file() else None, key)
    return _told(problems, f"OK {path.name}: signed by the gateway ({fingerprint(key)})")


def _told(problems: list[str], ok: str) -> int:
    for line in problems:
        print(f"FAILED {line}")
    if not problems:
        print(ok)
    return 1 if problems else 0
