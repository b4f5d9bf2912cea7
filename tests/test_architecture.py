"""The engine stays a pure library: no web, database, HTTP client or app-layer imports."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "app" / "engine"
FORBIDDEN = ("flask", "flask_sqlalchemy", "sqlalchemy", "requests", "app.models", "app.services",
             "app.web", "app.api", "app.executors", "app.extensions")


def _is_dynamic_import(func: ast.expr) -> bool:
    """`__import__(...)` or `importlib.import_module(...)`."""
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for item in ast.walk(tree):
        if isinstance(item, ast.Import):
            found.update(alias.name for alias in item.names)
        elif isinstance(item, ast.ImportFrom) and item.module and item.level == 0:
            found.add(item.module)
            found.update(f"{item.module}.{alias.name}" for alias in item.names)
        elif isinstance(item, ast.Call) and _is_dynamic_import(item.func):
            found.update(a.value for a in item.args
                         if isinstance(a, ast.Constant) and isinstance(a.value, str))
    return found


def forbidden_in(path: Path) -> list[str]:
    return sorted(m for m in imported_modules(path)
                  if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))


def test_no_engine_module_imports_a_forbidden_module() -> None:
    files = sorted(ENGINE.rglob("*.py"))
    assert len(files) > 10
    offenders = {str(p.relative_to(ROOT)): forbidden_in(p) for p in files if forbidden_in(p)}
    assert offenders == {}


def test_the_ast_check_catches_each_spelling(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("import flask\nfrom sqlalchemy.orm import Session\n"
                      "from app.services import runners\nimport importlib\n"
                      "importlib.import_module('requests')\n__import__('app.models')\n"
                      "from app.engine import model\n")
    assert forbidden_in(sample) == ["app.models", "app.services", "app.services.runners",
                                    "flask", "requests", "sqlalchemy.orm",
                                    "sqlalchemy.orm.Session"]


def test_import_linter_contracts_hold() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    command = str(lint_imports) if lint_imports.exists() else shutil.which("lint-imports")
    assert command, "lint-imports is not installed in the virtualenv"
    result = subprocess.run(
        [command], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The engine is a pure library KEPT" in result.stdout
