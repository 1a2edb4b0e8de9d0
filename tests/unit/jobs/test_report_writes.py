"""Report files written by two runs at once (a manual run beside the scheduled one, workers on several
hosts sharing the report folder): each writer has its own temporary file, the last rename wins, whole."""

from __future__ import annotations

import threading

from jobs.cohandling.publish_report import _replacing


def test_two_writers_of_one_report_never_mix_their_files(tmp_path):
    path = tmp_path / "report.xlsx"
    start, errors = threading.Barrier(2), []

    def write(mark: bytes) -> None:
        try:
            with _replacing(path) as tmp:
                start.wait(10)
                for _ in range(200):
                    with open(tmp, "ab") as fh:
                        fh.write(mark * 1000)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(m,)) for m in (b"a", b"b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert path.read_bytes() in (b"a" * 200_000, b"b" * 200_000)  # one writer's whole file, not both mixed
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]  # no temporary file left
