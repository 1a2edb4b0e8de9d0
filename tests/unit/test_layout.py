"""The house layout of STYLE.md, and generic top-level names resolving inside this repo."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("package", ["transforms", "connectors", "expectations", "simulators", "jobs", "tools"])
def test_top_level_packages_resolve_inside_the_repository(package):
    module = importlib.import_module(package)
    assert Path(module.__file__).resolve().parent == ROOT / package


def test_every_dag_file_is_one_dag_named_after_its_file():
    for path in (ROOT / "dags").glob("*.py"):
        if path.name.startswith("_"):  # dags/_common.py: what the DAG files share, not a DAG
            assert "dag_id=" not in path.read_text(encoding="utf-8")
            continue
        text = path.read_text(encoding="utf-8")
        assert f'dag_id="{path.stem}"' in text
        assert 'if __name__ == "__main__":' in text and "dag.test()" in text


def test_requirements_are_pinned():
    for name in ("requirements.txt", "requirements-test.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "-")):
                assert "==" in line, f"{name}: {line} is not pinned"


def test_the_domain_is_documented_inside_the_repository():
    """Code and docs cite docs/domain.md (and its sources in docs/sources/), never a file outside the repo."""
    import subprocess

    assert (ROOT / "docs" / "domain.md").is_file() and "docs/domain.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\0")[:-1]
    citing = [name for name in tracked if not name.startswith("docs/") and name != "tests/unit/test_layout.py"
              and "DOMAIN" + ".md" in (ROOT / name).read_text(encoding="utf-8", errors="ignore")]
    assert citing == []
    for section in range(1, 8):
        assert f"## §{section} " in (ROOT / "docs" / "domain.md").read_text(encoding="utf-8")
