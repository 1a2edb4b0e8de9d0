"""`python -m tools.cli audit …` — the tamper-evident audit log (docs/audit.md, jobs/common/audit_seal.py):

    python -m tools.cli audit verify --ledger URL [--seals DIR --pubkey FILE] [--json]
    python -m tools.cli audit seal --ledger URL --key FILE --out DIR [--json]
    python -m tools.cli audit keygen --key FILE

`verify` reads the ledger only. Exit status: 0 the chain holds from its first entry (and every seal in
--seals is signed by --pubkey and its entry is still in the chain); 1 it does not — the first entry
altered, removed or reordered is named (seq, audit_id, action, time), and every seal that fails; 2 the
command is refused (one line: a ledger not there or not migrated, a key or folder that cannot be read).
`seal` exits 1, writing nothing, when the chain does not hold. `keygen` writes a new Ed25519 pair: FILE
(private, mode 0600) and FILE.pub (give this one to auditors).
"""

from __future__ import annotations

import json
from pathlib import Path


def add_parser(sub) -> dict:
    """The `audit` command; its subcommands' parsers by name."""
    au = sub.add_parser("audit", help="the tamper-evident audit log: verify its SM3 chain and seals, seal its head")
    what = au.add_subparsers(dest="what", required=True)
    av = what.add_parser("verify", help="recompute the chain, name the first entry altered, removed or reordered, check seals (exit 1: broken)")
    av.add_argument("--ledger", required=True, help="SQLAlchemy URL of the gateway ledger (read only)")
    av.add_argument("--seals", type=Path, help="folder of seal files (seal_*.json) to check against the chain")
    av.add_argument("--pubkey", type=Path, help="the seals' public key (PEM, Ed25519)")
    asl = what.add_parser("seal", help="write a signed checkpoint of the chain head into a folder outside the ledger")
    asl.add_argument("--ledger", required=True, help="SQLAlchemy URL of the gateway ledger")
    asl.add_argument("--key", required=True, type=Path, help="the signing key (PEM Ed25519 private key; never in the repository)")
    asl.add_argument("--out", required=True, type=Path, help="the folder the seal goes into")
    ak = what.add_parser("keygen", help="a new Ed25519 seal key pair: FILE (private) and FILE.pub")
    ak.add_argument("--key", required=True, type=Path, help="where the private key goes (must not exist)")
    return dict(what.choices)


def run(parser, args, refuse, open_ledger, show) -> int:
    """Run `audit <what>`; the exit status."""
    from jobs.common import audit_seal

    if args.what == "keygen":
        if args.key.exists():
            refuse(parser, f"--key {args.key}: already exists (a key is never overwritten)")
        private, public = audit_seal.make_key(args.key)
        print(f"私钥 private key {private}  (keep it off the ledger's host backups and out of the repository)\n公钥 public key  {public}")
        return 0
    if args.what == "verify" and (args.seals is None) != (args.pubkey is None):
        refuse(parser, "--seals and --pubkey go together: the seals are checked with the public key")
    key = _read_key(parser, refuse, args.key if args.what == "seal" else args.pubkey, private=args.what == "seal")
    if args.what == "verify" and args.seals is not None and not args.seals.is_dir():
        refuse(parser, f"--seals {args.seals}: no such folder")
    ledger = open_ledger(parser, args.ledger)
    try:
        if args.what == "seal":
            try:
                path = audit_seal.seal(ledger, key, args.out)
            except audit_seal.SealRefused as exc:
                print(f"{parser.prog}: not sealed: {exc}")
                return 1
            show({"seal": str(path), **json.loads(path.read_text(encoding="utf-8"))}, args)
            return 0
        verdict = audit_seal.verify(ledger, seals_dir=args.seals, public_key=key)
    finally:
        ledger.dispose()
    print(json.dumps(verdict.as_dict(), ensure_ascii=False, indent=1) if args.json else verdict_text(verdict))
    return 0 if verdict.ok else 1


def _read_key(parser, refuse, path: Path | None, *, private: bool):
    from jobs.common import audit_seal

    if path is None:
        return None
    option = "--key" if private else "--pubkey"
    try:
        pem = path.read_bytes()
        return audit_seal.read_private_key(pem) if private else audit_seal.read_public_key(pem)
    except (OSError, ValueError, TypeError) as exc:
        refuse(parser, f"{option} {path}: cannot be read as a PEM Ed25519 {'private' if private else 'public'} key: {exc}")


KINDS_ZH = {"altered": "被修改", "removed": "被删除", "reordered": "被调换顺序", "unlinked": "不在链上", "truncated": "链尾被截断"}


def verdict_text(verdict) -> str:
    """The verdict for a terminal: the chain, the first break, then one line per seal."""
    lines = [f"审计链 audit chain  条目 entries {verdict.entries}  链头 head seq {verdict.head_seq}  {verdict.head_hash[:16]}…"]
    b = verdict.broken
    if b is None:
        lines.append("链完整 chain holds (SM3)")
    else:
        lines.append(f"链断裂 BROKEN at seq {b.seq} (audit_id {b.audit_id}, {b.action}, {b.at}): {KINDS_ZH.get(b.kind, b.kind)}({b.kind}) — {b.reason}")
    for s in verdict.seals:
        state = "有效 ok" if s.problem is None else f"无效 FAILED — {s.problem}"
        lines.append(f"封存 seal {s.file}  seq {s.seq}  {s.sealed_at}: {state}")
    lines.append("结论 verdict: " + ("通过 ok" if verdict.ok else "未通过 NOT ok"))
    return "\n".join(lines)
