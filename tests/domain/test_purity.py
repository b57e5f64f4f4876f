"""``app/domain`` is pure: no web framework, no ORM, no HTTP, no clock.

Parsed with :mod:`ast`, so a forbidden import is caught even in a branch that never runs.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "app" / "domain"
FORBIDDEN_MODULES = {"flask", "sqlalchemy", "flask_sqlalchemy", "requests", "httpx", "app.extensions", "app.models"}
# (object, method) pairs that read the clock.
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"), ("time", "time"), ("time", "monotonic")}
MODULES = sorted(DOMAIN.rglob("*.py"))


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _forbidden(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES)


def _clock_calls(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else None
            if (owner_name, node.func.attr) in CLOCK_CALLS:
                found.append(f"{owner_name}.{node.func.attr}() at line {node.lineno}")
    return found


def test_domain_has_modules():
    assert {p.name for p in MODULES} >= {"__init__.py", "availability.py", "booking_state.py"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_framework_orm_or_http_imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    assert sorted(n for n in _imports(tree) if _forbidden(n)) == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_clock_reads(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    assert _clock_calls(tree) == []


def test_the_checks_catch_what_they_look_for():
    bad = ast.parse(
        "import flask\nfrom sqlalchemy.orm import Session\nimport requests as r\n"
        "from datetime import datetime, date\nimport time\n"
        "def f():\n    import flask_sqlalchemy\n    return datetime.now(), date.today(), time.time()\n"
    )
    assert sorted(n for n in _imports(bad) if _forbidden(n)) == [
        "flask", "flask_sqlalchemy", "requests", "sqlalchemy.orm", "sqlalchemy.orm.Session"
    ]
    assert _clock_calls(bad) == ["datetime.now() at line 8", "date.today() at line 8", "time.time() at line 8"]
