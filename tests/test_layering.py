"""Data flows down the layers, never up: blueprints -> services -> domain/models; jobs ->
services/integrations; integrations are thin clients that know no service, model or job.

Parsed with :mod:`ast` (every import, including ones inside functions), so a forbidden import is
caught even in a branch that never runs. The purity of ``app/domain`` is checked beside this, in
``tests/domain/test_purity.py``.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"
BLUEPRINTS = ("app.api", "app.auth", "app.dashboard", "app.public", "app.web")

RULES = {
    # package: modules it must not import
    "services": BLUEPRINTS + ("app.jobs",),
    "integrations": BLUEPRINTS + ("app.services", "app.models", "app.jobs", "app.extensions"),
    "jobs": BLUEPRINTS,
    "domain": BLUEPRINTS + ("app.services", "app.models", "app.jobs", "app.integrations", "app.extensions"),
    "models": BLUEPRINTS + ("app.services", "app.jobs", "app.integrations"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, module: str | None = None) -> set[str]:
    """Every module ``path`` (the module named ``module``, default from its place under the
    repository) imports, absolute (relative imports resolved), with ``from X import Y`` also
    counted as ``X.Y`` (Y may be a submodule)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    module = module or _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _violations(names: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden))


CASES = [(package, path) for package in RULES for path in sorted((APP / package).rglob("*.py"))]


@pytest.mark.parametrize(("package", "path"), CASES, ids=[str(p.relative_to(APP)) for _, p in CASES])
def test_layers_import_only_downwards(package, path):
    assert _violations(imports_of(path), RULES[package]) == []


@pytest.mark.parametrize("path", sorted(APP.rglob("*.py")), ids=lambda p: str(p.relative_to(APP)))
def test_nothing_in_the_app_builds_the_app(path):
    """Only the entry points (``wsgi.py``, ``worker.py``, outside ``app/``) call the factory."""
    assert not {"app.create_app"} & imports_of(path)


def test_the_checks_catch_what_they_look_for(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text("from app.services import outbox\nfrom ..models import Booking\ndef f():\n    from app import create_app\n")
    names = imports_of(path, module="app.integrations.probe")
    assert {"app.services.outbox", "app.models.Booking", "app.create_app"} <= names
    assert _violations(names, RULES["integrations"]) == ["app.models", "app.models.Booking", "app.services", "app.services.outbox"]
