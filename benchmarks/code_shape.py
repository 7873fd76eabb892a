"""How the library reads, in numbers: lines and validation lines per ``nn/`` file, longest functions.

    python benchmarks/code_shape.py [--top 10] [--root src/attention_lab]

Counted with ``ast`` (no imports of the package, so it runs on any checkout):

- *code lines*: non-blank lines that are not only a comment;
- *validation lines*: code lines inside a ``raise`` statement, inside an ``if`` whose body only
  raises (its test included), inside a bare call to a ``check_*``/``_check*`` function, and every
  line of a function named ``check_*``/``_check*`` or defined in a ``_checks.py``;
- *function length*: ``def`` line to last line, docstring included (what a reader scrolls past).
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path


def _code_lines(source: str) -> set[int]:
    return {
        n
        for n, line in enumerate(source.splitlines(), start=1)
        if line.strip() and not line.strip().startswith("#")
    }


def _span(node: ast.AST) -> set[int]:
    return set(range(node.lineno, node.end_lineno + 1))


def _is_check_call(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    func = node.value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name.startswith(("check_", "_check"))


def validation_lines(path: Path) -> set[int]:
    """Line numbers of ``path`` that validate input (see the module docstring)."""
    source = path.read_text()
    tree = ast.parse(source)
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) or _is_check_call(node):
            lines |= _span(node)
        elif isinstance(node, ast.If) and all(isinstance(s, ast.Raise) for s in node.body):
            lines |= _span(node) if not node.orelse else _span(node.test) | _span(node.body[-1])
        elif isinstance(node, ast.FunctionDef) and (
            path.name == "_checks.py" or node.name.startswith(("check_", "_check"))
        ):
            lines |= _span(node)
    return lines & _code_lines(source)


def functions(root: Path) -> list[tuple[int, str]]:
    """``(length, "file:line name")`` of every function and method under ``root``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                where = f"{path.relative_to(root.parent)}:{node.lineno}"
                found.append((length, f"{where} {node.name}"))
    return sorted(found, key=lambda item: (-item[0], item[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("src/attention_lab"))
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()

    print(f"{'nn/ file':<22}{'lines':>7}{'code':>7}{'checks':>8}{'share':>8}")
    totals = [0, 0, 0]
    for path in sorted((args.root / "nn").glob("*.py")):
        source = path.read_text()
        counts = [len(source.splitlines()), len(_code_lines(source)), len(validation_lines(path))]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        share = counts[2] / counts[1] if counts[1] else 0.0
        print(f"{path.name:<22}{counts[0]:>7}{counts[1]:>7}{counts[2]:>8}{share:>8.0%}")
    print(f"{'total':<22}{totals[0]:>7}{totals[1]:>7}{totals[2]:>8}{totals[2] / totals[1]:>8.0%}")
    print(f"\nthe {args.top} longest functions under {args.root}:")
    for length, name in functions(args.root)[: args.top]:
        print(f"{length:>5}  {name}")
    print(f"\nthe {args.top} longest functions under {args.root / 'nn'}:")
    for length, name in functions(args.root / "nn")[: args.top]:
        print(f"{length:>5}  {name}")


if __name__ == "__main__":
    main()
