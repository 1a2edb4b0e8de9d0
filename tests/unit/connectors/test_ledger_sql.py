"""Every statement the ledger runs is a file under sql/ledger/<line>/ (read from the sources, not run).

The rule (connectors/ledger/__init__.py): `execute` / `exec_driver_sql` take a statement loaded by
connectors/ledger/statements.py (`statement`, `nested`, or a DDL line of `script`), or write rows into
a table (`<table>.insert()` with the rows); `Ledger._insert`, the Arrow bulk path, is the one exception.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LEDGER = ROOT / "connectors" / "ledger"
SQL = ROOT / "sql" / "ledger"
LOADERS = {"statement", "nested"}
BULK_PATH = {"_insert"}


def _sources() -> list[Path]:
    return sorted(p for p in LEDGER.glob("*.py") if p.name != "statements.py")


def _loaded_names(function: ast.AST) -> set[str]:
    """Names bound in `function` to a loaded statement (assigned from statement()/nested(), or looping over script())."""
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and _is_loader_call(node.value):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        if isinstance(node, ast.For) and isinstance(node.iter, ast.Call) and isinstance(node.iter.func, ast.Name) and node.iter.func.id == "script":
            if isinstance(node.target, ast.Name):
                names.add(node.target.id)
    return names


def _is_loader_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in LOADERS


def _is_row_write(call: ast.Call) -> bool:
    """`<table>.insert()`, nothing chained, with the rows as the second argument."""
    arg = call.args[0]
    return (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "insert" and not arg.args
            and not arg.keywords and isinstance(arg.func.value, ast.Name) and len(call.args) == 2)


def inline_statements(source: str, name: str = "<source>") -> list[str]:
    """`file:line code` of every execute whose statement is not loaded from a file."""
    tree = ast.parse(source)
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) or function.name in BULK_PATH:
            continue
        loaded = _loaded_names(function)
        for node in ast.walk(function):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("execute", "exec_driver_sql")):
                continue
            if not node.args:
                found.append(f"{name}:{node.lineno} (no statement)")
                continue
            arg = node.args[0]
            if _is_loader_call(arg) or (isinstance(arg, ast.Name) and arg.id in loaded) or _is_row_write(node):
                continue
            found.append(f"{name}:{node.lineno} {ast.unparse(node)[:120]}")
    return found


def test_every_ledger_statement_is_a_file():
    found = [hit for path in _sources() for hit in inline_statements(path.read_text(encoding="utf-8"), path.name)]
    assert not found, "inline statements in connectors/ledger:\n" + "\n".join(found)


@pytest.mark.parametrize("source", [
    'def f(conn):\n    conn.execute(sa.select(t).where(t.c.a == 1))\n',
    'def f(conn):\n    conn.execute(sa.text("DELETE FROM t"))\n',
    'def f(conn):\n    conn.execute(t.update().values(a=1))\n',
    'def f(conn):\n    conn.execute(t.insert().returning(t.c.id), {"a": 1})\n',
    'def f(conn):\n    q = sa.text(sqlfiles.load("ledger/x").replace("/*f*/", w))\n    conn.execute(q)\n',
    'def f(conn, name):\n    conn.exec_driver_sql(f"DROP TABLE {name}")\n',
])
def test_inline_statements_are_found(source):
    assert inline_statements(source)


@pytest.mark.parametrize("source", [
    'def f(conn):\n    conn.execute(statement("select_x"), {"a": 1})\n',
    'def f(conn):\n    q = statement("select_x", expanding=("k",))\n    conn.execute(q, {"k": [1]})\n',
    'def f(conn):\n    for ddl in script("create_stage", "sqlite"):\n        conn.exec_driver_sql(ddl)\n',
    'def f(conn):\n    conn.execute(t.insert(), [{"a": 1}])\n',
])
def test_loaded_statements_and_row_writes_pass(source):
    assert not inline_statements(source)


def test_the_ledger_loads_statements_only_through_statements_py():
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        assert "sqlfiles" not in text and "sa.text(" not in text, f"{path.name} reads SQL around connectors/ledger/statements.py"


def test_statement_files_are_in_a_line_with_a_purpose_and_unique_names():
    from connectors.ledger.statements import LINES

    names: dict[str, str] = {}
    assert not list(SQL.glob("*.sql")), "every ledger statement lives in a line folder"
    for path in sorted(SQL.rglob("*.sql")):
        line = path.parent.name
        assert line in LINES, path
        assert path.read_text(encoding="utf-8").startswith("-- purpose:"), path
        name = path.name.split(".")[0]
        assert names.setdefault(name, line) == line, f"{name} is in {names[name]} and {line}"


def test_every_statement_named_in_the_code_exists():
    from connectors.ledger.statements import path_of

    for path in _sources():
        for name in re.findall(r'(?:statement|script)\("(\w+)"', path.read_text(encoding="utf-8")):
            assert path_of(name).startswith("ledger/"), name


def test_no_caller_outside_the_ledger_runs_sql_on_its_engine():
    offenders = []
    for folder in ("dags", "jobs", "tools", "transforms", "connectors"):
        for path in (ROOT / folder).rglob("*.py"):
            if LEDGER in path.parents:
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"\bledger\.engine\b", text):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"these use the ledger's engine directly (add a Ledger method): {offenders}"
