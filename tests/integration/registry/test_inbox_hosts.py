"""One inbox folder, several loaders (jobs/common/inbox.py), on SQLite and on real PostgreSQL: the
loaders coordinate through the ledger's lock `inbox:<surface>`, not the file system, so every form
is loaded once and filed once however many "hosts" — here processes and a thread, each with a
Ledger of its own — look at the same moment; a form that leaves the inbox under a loader (another
host filed it, its sender took it back) is skipped or left where it is, and accounted for."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest

from connectors.ledger import Ledger
from jobs.common.inbox import load_inbox
from jobs.registry.form_intake import load_form

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = sorted(p for p in (ROOT / "forms" / "samples").iterdir() if p.is_file())
NOW = datetime(2026, 6, 1, 9, 0)

# Another host's loader: its own process, its own Ledger, the same inbox; prints how many forms it loaded.
LOADER = """
import sys
from datetime import datetime
from connectors.ledger import Ledger
from jobs.common.inbox import load_inbox
from jobs.registry.form_intake import load_form
print("ready", flush=True)
sys.stdin.readline()
loaded = load_inbox(Ledger(sys.argv[1]), __import__("pathlib").Path(sys.argv[2]), now=datetime(2026, 6, 1, 9, 0), load=load_form)
print(sum(1 for s in loaded if not s.already_loaded), flush=True)
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("pg_schema_url")()


@pytest.fixture
def inbox(ledger_url, tmp_path):
    Ledger(ledger_url).migrate()
    folder = tmp_path / "shared" / "registry"
    folder.mkdir(parents=True)
    forms = [p for p in SAMPLES if any(city in p.name for city in ("济南", "青岛", "淄博", "烟台"))]
    for form in forms:
        shutil.copy(form, folder / form.name)
    return folder, forms


def _loaded_forms(ledger: Ledger) -> list[str]:
    import json

    return sorted(json.loads(a["detail"])["file"] for a in ledger.audit_trail() if a["action"] == "form_loaded")


def test_loaders_on_several_hosts_load_every_form_once(ledger_url, inbox):
    folder, forms = inbox
    hosts = [subprocess.Popen([sys.executable, "-c", LOADER, ledger_url, str(folder)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for host in hosts:
        assert host.stdout.readline().strip() == "ready", host.stderr.read()
    here = Ledger(ledger_url)
    mine: list = []
    thread = threading.Thread(target=lambda: mine.extend(load_inbox(here, folder, now=NOW, load=load_form)))
    for host in hosts:  # go
        host.stdin.write("\n")
        host.stdin.flush()
    thread.start()
    counts = []
    for host in hosts:
        out, err = host.communicate(timeout=300)
        assert host.returncode == 0, err[-3000:]
        counts.append(int(out.strip().splitlines()[-1]))
    thread.join(300)
    counts.append(sum(1 for s in mine if not s.already_loaded))

    assert sum(counts) == len(forms)  # between them, every form once
    assert _loaded_forms(here) == sorted(p.name for p in forms)
    filed = sorted(p.name for p in (folder / "processed" / NOW.strftime("%Y-%m-%d")).iterdir() if not p.name.endswith(".issues.csv"))
    assert filed == sorted(p.name for p in forms)  # filed once each, none twice (no `.1` copies)
    assert not any(p.is_file() and not p.name.startswith(".") for p in folder.iterdir()) and not (folder / "rejected").exists()
    here.dispose()


def test_a_form_that_leaves_the_inbox_under_the_loader_is_skipped_or_left_and_accounted_for(ledger_url, inbox, tmp_path):
    folder, forms = inbox
    ledger = Ledger(ledger_url)
    elsewhere = tmp_path / "other-host-filed"
    elsewhere.mkdir()
    before_load, after_load = forms[0].name, forms[1].name

    def load(led, path, *, now=None):  # another host's loader files these two at the worst moments
        if path.name == before_load:
            shutil.move(str(path), elsewhere / path.name)
        summary = load_form(led, path, now=now)
        if path.name == after_load:
            shutil.move(str(path), elsewhere / path.name)
        return summary

    loaded = load_inbox(ledger, folder, now=NOW, load=load, surface="registry_form")
    assert sorted(s.file_name for s in loaded) == sorted(p.name for p in forms[1:])  # the one gone before loading is not loaded here
    assert _loaded_forms(ledger) == sorted(p.name for p in forms[1:])
    gone = {a["object_id"]: a["detail"] for a in ledger.audit_trail() if a["action"] == "form_gone"}
    assert set(gone) == {before_load, after_load} and "before it was loaded" in gone[before_load] and "after it was loaded" in gone[after_load]
    assert len(ledger.dead_letters("registry_form")) == 0  # a form someone else filed is not a bad form
    done = folder / "processed" / NOW.strftime("%Y-%m-%d")
    assert sorted(p.name for p in done.iterdir() if not p.name.endswith(".issues.csv")) == sorted(p.name for p in forms[2:])
    ledger.dispose()


def test_filing_never_overwrites_a_form_of_the_same_name(ledger_url, inbox):
    folder, forms = inbox
    ledger = Ledger(ledger_url)
    load_inbox(ledger, folder, now=NOW, load=load_form)
    shutil.copy(forms[0], folder / forms[0].name)  # sent again under the same name: recognised, and filed beside the first
    load_inbox(ledger, folder, now=NOW, load=load_form)
    done = folder / "processed" / NOW.strftime("%Y-%m-%d")
    stem, suffix = os.path.splitext(forms[0].name)
    assert (done / forms[0].name).exists() and (done / f"{stem}.1{suffix}").exists()
    ledger.dispose()
