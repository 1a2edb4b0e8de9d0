"""The house rules of the layout (issue 14), read from the sources: pure transforms, small modules,
one name per file, no import cycles, no raw SQL outside the ledger's files."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("connectors", "dags", "expectations", "jobs", "simulators", "tools", "transforms")
MAX_LINES = 520  # "no product module over ~500 lines"


def _product_files() -> list[Path]:
    tracked = subprocess.run(["git", "ls-files", "-z", "--", *(f"{p}/*.py" for p in PRODUCT)], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / name for name in tracked.stdout.split("\0") if name]


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def test_importing_every_transform_loads_no_io_library_and_no_other_layer():
    """transforms/ is the pure core: importing all of it pulls in none of airflow, sqlalchemy,
    paramiko, httpx, nor the project's connectors, jobs or tools (checked in a fresh interpreter)."""
    modules = sorted(_module(p) for p in _product_files() if p.relative_to(ROOT).parts[0] == "transforms")
    assert len(modules) > 20
    probe = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('airflow', 'sqlalchemy', 'paramiko', 'httpx', 'connectors', 'jobs', 'tools', 'simulators'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert out.stdout.strip() == ""


def test_no_product_module_is_over_about_500_lines():
    long = {str(p.relative_to(ROOT)): n for p in _product_files() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_two_product_files_share_a_name():
    seen: dict[str, list[str]] = defaultdict(list)
    for p in _product_files():
        if p.name != "__init__.py":
            seen[p.name].append(str(p.relative_to(ROOT)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """Project modules `path` imports (at any depth of the file: lazy imports count)."""
    out = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                out.add(name)
    return out


def test_there_is_no_import_cycle_between_product_modules():
    files = {_module(p): p for p in _product_files()}
    graph = {m: _imports(p, m, set(files)) for m, p in files.items()}
    # A package's __init__ importing its own submodules is how Python packages work, not a cycle to avoid.
    graph = {m: {d for d in deps if not (d.startswith(m + ".") and files[m].name == "__init__.py")} for m, deps in graph.items()}
    cycles, state = [], {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = "open"
        for d in sorted(graph[m]):
            if state.get(d) == "open":
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d, stack + [d])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


@pytest.mark.parametrize("layer", ["jobs", "tools", "dags"])
def test_only_the_ledger_runs_sql_on_the_ledger(layer):
    """Jobs, tools and DAGs ask the ledger by method; none of them reaches for `ledger.engine`."""
    offenders = [str(p.relative_to(ROOT)) for p in _product_files() if p.relative_to(ROOT).parts[0] == layer and ".engine" in p.read_text(encoding="utf-8")]
    assert offenders == []
