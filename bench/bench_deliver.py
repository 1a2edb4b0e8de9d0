"""Benchmark: publish 1,000 batches (~20,000 work orders; a data file, its .sha256 and its
manifest each) into 200 institutions' drops on one real OpenSSH sshd, against, in the same
run on the same server:

- OpenSSH's own `sftp -b` uploading the same files (one session, mkdir + put): the reference;
- a loop opening one connection per file with Airflow's SFTPHook (measured on a sample of
  BENCH_HOOK_SAMPLE files and scaled to all of them: a full loop would take minutes).

Needs root and Debian's openssh-server (as the integration tests do). Last line: JSON with
files (data files), uploads (all files), records, wall_s, openssh_wall_s, ratio_vs_openssh,
per_file_hook_wall_s, speedup_vs_per_file, decrypt_wall_s and encryption_ratio (the same records' ID numbers, phones
and names decrypted from SM4 tokens as the delivery reads them, and (publish + decrypt) / publish: what field
encryption costs delivery; docs/security.md). Targets: ratio_vs_openssh <= 1.5, speedup_vs_per_file >= 5.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INSTITUTIONS = int(os.environ.get("BENCH_INSTITUTIONS", "200"))
BATCHES = int(os.environ.get("BENCH_BATCHES", "1000"))
RECORDS = int(os.environ.get("BENCH_RECORDS", "20000"))
HOOK_SAMPLE = int(os.environ.get("BENCH_HOOK_SAMPLE", "90"))


def make_jobs():
    """BATCHES batches for INSTITUTIONS drops, RECORDS work orders in all (CSV, like most institutions)."""
    import pyarrow as pa

    from connectors.sftp_drop import DropJob
    from simulators.platform import generate
    from transforms.cohandling.batchfiles import batch_files

    frame = generate(RECORDS, seed=7).drop(columns=["defect", "defect_field", "oddity"])
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.append_column("rowguid", table["ROWGUID"]).append_column("utility", pa.array(["water"] * RECORDS))
    table = table.append_column("version", pa.array([1] * RECORDS, pa.int32())).append_column("correction", pa.array([False] * RECORDS))
    per = RECORDS // BATCHES
    jobs = []
    for b in range(BATCHES):
        drop = f"xbbench{b % INSTITUTIONS:04d}"
        name = f"XB20261122_{b + 1:08d}"
        files = batch_files(table.slice(b * per, per), base_name=name, file_format="csv", run_id="bench", batch_id=b + 1, institution=drop)
        jobs.append(DropJob(drop, name, files))
    return jobs


def main() -> None:
    sys.path.insert(0, str(ROOT / "tests" / "integration"))
    import openssh

    why = openssh.available()
    if why:
        raise SystemExit(f"bench-deliver needs a real sshd: {why}")
    jobs = make_jobs()
    drops = sorted({j.drop for j in jobs})
    server = openssh.OpenSshServer(drops)
    print(f"setting up sshd with {len(drops)} institution accounts ...", file=sys.stderr)
    server.setup()
    try:
        result = measure(server, jobs)
    finally:
        server.cleanup()
    result |= decryption_cost(result["records"], result["wall_s"])
    print(json.dumps(result))


def decryption_cost(records: int, wall_s: float) -> dict:
    """What field encryption adds to delivering `records` work orders (docs/security.md): the gateway reads each one's ID
    numbers, phones and names back from SM4 tokens (connectors/ledger/personal.py `unseal`, as batch_orders does) before
    rendering; the publish measured above used clear values. Same records, same columns, a throwaway key."""
    import pyarrow as pa

    from connectors.ledger.personal import PERSONAL, seal_data, unseal_data
    from simulators.platform import generate
    from transforms.common.fieldcrypt import Keyring, new_key

    keyring = Keyring([new_key("bench")], "bench")
    frame = generate(records, seed=5)
    columns = [c.upper() for c in PERSONAL["received_record"]]
    sealed = seal_data(pa.Table.from_pandas(frame[columns].fillna("").astype(str), preserve_index=False), keyring, "received_record")
    t = time.perf_counter()
    opened = unseal_data(sealed, keyring, "received_record")
    decrypt_s = time.perf_counter() - t
    if opened.column(columns[0]).to_pylist() != frame[columns[0]].fillna("").astype(str).tolist():
        raise SystemExit("decryption did not give the values back")
    return {"decrypt_wall_s": round(decrypt_s, 3), "decrypt_values": records * len(columns),
            "encryption_ratio": round((wall_s + decrypt_s) / wall_s, 3)}


def measure(server, jobs) -> dict:
    from connectors.sftp_drop import SftpDrops

    uploads = sum(len(j.files) for j in jobs)
    records = sum(int(json.loads(j.files[-1].data)["records"]) for j in jobs)
    conn = server.connection()

    # The gateway: one connection, four channels, atomic batches.
    server.clear()
    drops = SftpDrops("127.0.0.1", server.port, server.gateway, key_file=conn["extra"]["key_file"], known_hosts=conn["extra"]["known_hosts"], max_workers=4)
    t = time.perf_counter()
    results = drops.publish_all(jobs)
    wall = time.perf_counter() - t
    drops.close()
    failed = [r.error for r in results if r.error]
    if failed:
        raise SystemExit(f"{len(failed)} batches failed: {failed[:3]}")

    # OpenSSH sftp -b: the same files, one session, as a person with a script would upload them.
    server.clear()
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp)
        lines = []
        for job in jobs:
            folder = local / job.drop / job.batch
            folder.mkdir(parents=True)
            lines.append(f"mkdir /{job.drop}/outbox/{job.batch}")
            for f in job.files:
                (folder / f.name).write_bytes(f.data)
                lines.append(f"put {folder / f.name} /{job.drop}/outbox/{job.batch}/{f.name}")
        t = time.perf_counter()
        done = server.sftp_batch(server.gateway, "\n".join(lines) + "\n", cwd=local)
        openssh_wall = time.perf_counter() - t
        if done.returncode != 0:
            raise SystemExit("sftp -b failed: " + done.stderr[-2000:])

        # SFTPHook, one connection per file, on a sample.
        server.clear()
        os.environ["AIRFLOW_CONN_BENCH_SFTP"] = json.dumps({
            "conn_type": "sftp", "host": "127.0.0.1", "port": server.port, "login": server.gateway,
            "extra": {"key_file": conn["extra"]["key_file"], "host_key": " ".join(server.known_hosts.read_text().split()[1:3])},
        })
        from airflow.providers.sftp.hooks.sftp import SFTPHook

        sample = [(job, f) for job in jobs for f in job.files][:HOOK_SAMPLE]
        t = time.perf_counter()
        for job, f in sample:
            hook = SFTPHook(ssh_conn_id="bench_sftp")
            target = f"/{job.drop}/outbox/{job.batch}"
            if f is job.files[0]:
                hook.create_directory(target)
            hook.store_file(f"{target}/{f.name}", str(local / job.drop / job.batch / f.name))
            hook.close_conn()
        hook_wall = (time.perf_counter() - t) / len(sample) * uploads
    shutil.rmtree(server.root / ".staging", ignore_errors=True)
    return {
        "files": len(jobs), "uploads": uploads, "records": records, "institutions": len({j.drop for j in jobs}),
        "wall_s": round(wall, 3), "openssh_wall_s": round(openssh_wall, 3), "ratio_vs_openssh": round(wall / openssh_wall, 3),
        "per_file_hook_wall_s": round(hook_wall, 3), "per_file_hook_sample": len(sample), "speedup_vs_per_file": round(hook_wall / wall, 2),
    }


if __name__ == "__main__":
    main()
