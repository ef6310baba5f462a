"""The office's shape: SQL only in its store, and no class past a few hundred lines."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import teleservices.mail_office as mail_office

PACKAGE = Path(mail_office.__file__).parent
STORE = PACKAGE / "store"
# The depositing system's own small store (a different participant, with its own file).
OWN_STORES = {PACKAGE / "depositor.py"}
MIGRATIONS = PACKAGE / "migrations"  # the stores' schema revisions
MAX_CLASS_LINES = 300
SQL = re.compile(r"\b(SELECT\s+.+\s+FROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|BEGIN\b)", re.DOTALL)


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_every_sql_statement_is_in_the_store() -> None:
    outside = [
        f"{path.relative_to(PACKAGE)}: {text[:60]!r}"
        for path in _modules()
        if STORE not in path.parents and MIGRATIONS not in path.parents and path not in OWN_STORES
        for text in _strings(path)
        if SQL.search(text)
    ]
    assert outside == []
    assert any(SQL.search(text) for path in STORE.glob("*.py") for text in _strings(path))


def test_no_class_is_past_a_few_hundred_lines() -> None:
    long = [
        f"{path.relative_to(PACKAGE)}:{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in _modules()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES
    ]
    assert long == []
