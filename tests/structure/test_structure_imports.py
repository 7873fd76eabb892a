"""The package's import structure: imports at the top of each file, layers that point one way.

A function-local import of our own code usually hides a cycle or a layer pointing the wrong way
(STYLE.md), so every one must be on the allow-list below with the measurement that justifies it.
The layers themselves are checked by import-linter (`lint-imports`, pyproject.toml), run here too
when it is installed.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "attention_lab"

# The command modules import the library inside each command, so that `attention-lab --help`
# loads typer and rich but not torch, matplotlib or the course tools. Measured on a 2-core AMD EPYC
# (torch 2.13.0 CPU, CPU time of the process, median of 5): `--help` 0.80 s; with every module the
# commands use imported at the top, 6.5 s. The experiments registry and the root package's lazy
# names (PEP 562) import by name for the same reason: one experiment, one name at a time.
ALLOWED_LOCAL_IMPORTS = {
    "attention_lab/cli/architecture.py",
    "attention_lab/cli/assessment.py",
    "attention_lab/cli/core.py",
    "attention_lab/cli/gradescope.py",
    "attention_lab/cli/course.py",
    "attention_lab/cli/handcalc.py",
    "attention_lab/cli/performance.py",
    "attention_lab/cli/pretrained.py",
    "attention_lab/cli/slides.py",
    "attention_lab/cli/trace.py",
}
ALLOWED_IMPORT_BY_NAME = {
    "attention_lab/__init__.py",  # PEP 562: `from attention_lab import X` loads X's module only
    "attention_lab/experiments/__init__.py",  # `attention-lab run NAME` loads one experiment
}


def _ours(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] == "attention_lab"
    return any(alias.name.split(".")[0] == "attention_lab" for alias in node.names)


def _imports_by_name(node: ast.AST) -> bool:
    """``importlib.import_module(...)`` or ``__import__(...)``."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id in ("import_module", "__import__")
    )


def find_violations(root: Path) -> tuple[list[str], list[str]]:
    """(function-local imports of our own modules, imports by name) as 'file:line' strings."""
    local, by_name = [], []
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root.parent).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and _ours(node):
                    if name not in ALLOWED_LOCAL_IMPORTS:
                        local.append(f"{name}:{node.lineno}")
        by_name += [
            f"{name}:{node.lineno}"
            for node in ast.walk(tree)
            if _imports_by_name(node) and name not in ALLOWED_IMPORT_BY_NAME
        ]
    return sorted(set(local)), by_name


def test_no_function_local_imports_of_our_own_modules():
    local, by_name = find_violations(PACKAGE)
    assert local == [], "import these at the top of the file (or justify them in the allow-list)"
    assert by_name == [], "import these modules by an import statement, not by name"


def test_the_check_finds_a_hidden_import(tmp_path):
    package = tmp_path / "attention_lab"
    package.mkdir()
    (package / "late.py").write_text(
        "import importlib\n\n"
        "def f():\n"
        "    from attention_lab.nn import attention\n"
        "    from . import sibling\n"
        "    import json\n"
        "    return importlib.import_module('attention_lab.course')\n"
    )
    local, by_name = find_violations(package)
    assert local == ["attention_lab/late.py:4", "attention_lab/late.py:5"]
    assert by_name == ["attention_lab/late.py:7"]


def test_the_allow_list_names_files_that_exist_and_need_it():
    local_imports = {
        path.relative_to(SRC).as_posix()
        for path in PACKAGE.rglob("*.py")
        if any(
            isinstance(node, (ast.Import, ast.ImportFrom)) and _ours(node)
            for function in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
            for node in ast.walk(function)
        )
    }
    assert ALLOWED_LOCAL_IMPORTS <= local_imports, "an allowed file no longer needs its exception"
    for name in ALLOWED_IMPORT_BY_NAME:
        assert (SRC / name).is_file(), name


LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")  # installed by the [dev] extra


@pytest.mark.skipif(not LINT_IMPORTS.is_file(), reason="import-linter is not installed")
def test_the_layers_hold():
    """`lint-imports` as `make test` runs it: the layers of DESIGN.md and no import cycles."""
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=SRC.parent, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in done.stdout
