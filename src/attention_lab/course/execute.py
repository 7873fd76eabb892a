"""Execute lesson notebooks with a cache: an unchanged lesson is not run again.

The cache key of a lesson is the SHA-256 of its code (the notebook as it will be executed), the
library's source (a lesson's outputs change when the library does), the Python version and the
cell timeout. Executed notebooks are stored as ``<cache>/<name>.ipynb`` next to
``<cache>/<name>.json`` (the key and the run time).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

import attention_lab

# Run in every kernel before the lesson: matplotlib figures are shown with alt text computed from
# their data and their numbers in a table (attention_lab.viz.describe), not as a bare PNG.
ACCESSIBLE_FIGURES = "__import__('attention_lab.viz.describe').viz.describe.use_in_notebook()"
# Parts of the package that do not change what a lesson computes.
_NOT_LIBRARY = ("course", "cli", "__pycache__")


class ExecutionError(RuntimeError):
    """A lesson raised an error (or timed out) while the course was being built."""


@dataclass(frozen=True)
class Executed:
    """One lesson after execution."""

    name: str
    notebook: nbformat.NotebookNode
    seconds: float  # time of the run that produced these outputs
    cached: bool  # True when the outputs came from the cache


def library_fingerprint() -> str:
    """SHA-256 of the library's source files (everything but the course and the CLI)."""
    root = Path(attention_lab.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or relative.parts[0] in _NOT_LIBRARY or path.suffix == ".pyc":
            continue
        digest.update(str(relative).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(notebook: nbformat.NotebookNode, *, library: str, timeout: int) -> str:
    """The key under which the executed ``notebook`` is cached."""
    code = [c.source for c in notebook.cells if c.cell_type == "code"]
    payload = json.dumps(
        {"code": code, "library": library, "python": sys.version, "timeout": timeout}
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _kernel_manager(spec_dir: Path, env: dict[str, str]):
    """A kernel manager whose kernel is this Python (never another `python3` kernelspec)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    kernel = spec_dir / "attention-lab"
    kernel.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [
            sys.executable,
            *("-m", "ipykernel_launcher", "-f", "{connection_file}"),
            f"--IPKernelApp.exec_lines={ACCESSIBLE_FIGURES}",
        ],
        "display_name": "attention-lab",
        "language": "python",
        "env": env,
    }
    (kernel / "kernel.json").write_text(json.dumps(spec, indent=1))
    specs = KernelSpecManager(kernel_dirs=[str(spec_dir)], ensure_native_kernel=False)
    return KernelManager(kernel_name="attention-lab", kernel_spec_manager=specs)


def execute_one(
    name: str,
    notebook: nbformat.NotebookNode,
    *,
    cache_dir: Path,
    workdir: Path,
    env: dict[str, str],
    timeout: int,
    library: str,
) -> Executed:
    """Execute ``notebook`` in ``workdir`` unless the cache holds it; store the result."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    key = cache_key(notebook, library=library, timeout=timeout)
    stored, meta = cache_dir / f"{name}.ipynb", cache_dir / f"{name}.json"
    if stored.exists() and meta.exists():
        info = json.loads(meta.read_text())
        if info.get("key") == key:
            return Executed(name, nbformat.read(stored, as_version=4), info["seconds"], True)
    nb = nbformat.from_dict(json.loads(json.dumps(notebook)))  # a private copy
    client = NotebookClient(
        nb,
        km=_kernel_manager(cache_dir / "kernels" / name, env),
        timeout=timeout,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    start = time.perf_counter()
    cache_dir.mkdir(parents=True, exist_ok=True)
    # The kernel's own log (not the cells' output, which is in the notebook) goes to a file.
    with open(cache_dir / f"{name}.kernel.log", "w") as log:
        try:
            client.execute(cwd=str(workdir), cleanup_kc=True, stderr=log, stdout=log)
        except (CellExecutionError, CellTimeoutError) as error:
            raise ExecutionError(
                f"lesson {name} failed while the course was built:\n{error}"
            ) from None
    seconds = time.perf_counter() - start
    unrendered = figures_shown_as_text(nb)
    if unrendered:
        index, text = unrendered[0]
        raise ExecutionError(
            f"lesson {name}: cell {index} shows a figure as text ({text!r}) instead of an image; "
            f"{len(unrendered)} cell(s) in all. Expected inline figures: import "
            "matplotlib.pyplot in the lesson's first code cell (that turns them on in Jupyter)"
        )
    nbformat.write(nb, stored)
    meta.write_text(json.dumps({"key": key, "seconds": round(seconds, 2)}))
    return Executed(name, nb, seconds, False)


def figures_shown_as_text(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """``(cell index, text)`` for each output that is a matplotlib figure's text repr alone."""
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = data.get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            if text.startswith("<Figure size") and not any(k.startswith("image/") for k in data):
                found.append((index, text.strip()))
    return found


def execute_all(
    notebooks: Sequence[tuple[str, nbformat.NotebookNode]],
    *,
    cache_dir: Path,
    workdir: Path,
    extra_env: dict[str, str],
    timeout: int = 600,
    jobs: int = 1,
    on_done: Callable[[Executed], None] | None = None,
) -> list[Executed]:
    """Execute every notebook (``jobs`` at a time), reusing cached outputs; keep their order.

    Raises :class:`ExecutionError` naming the first lesson that failed.
    """
    if jobs < 1:
        raise ValueError(f"jobs: expected a number of parallel lessons >= 1, got {jobs}")
    library = library_fingerprint()
    env = {**os.environ, **extra_env}
    # Lessons run side by side share the cores: one BLAS/OpenMP thread each unless told otherwise.
    if jobs > 1:
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // jobs)))
    workdir.mkdir(parents=True, exist_ok=True)

    def run(item: tuple[str, nbformat.NotebookNode]) -> Executed:
        done = execute_one(
            item[0],
            item[1],
            cache_dir=cache_dir,
            workdir=workdir,
            env=env,
            timeout=timeout,
            library=library,
        )
        if on_done is not None:
            on_done(done)
        return done

    if jobs == 1 or len(notebooks) <= 1:
        return [run(item) for item in notebooks]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(run, notebooks))
