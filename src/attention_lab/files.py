"""Writing the files a command produces: whole or not at all, readable, never over someone's edits.

- `atomic_file(path)` gives a binary file to write; when the block ends it is renamed over
  ``path`` in one step, so a reader (or a crash) never sees half a file. A new file gets the usual
  permissions, ``0666 & ~umask`` (what ``open(path, "w")`` gives), so colleagues and an LMS upload
  can read it; a replaced file keeps its mode. If anything fails (also Ctrl-C), the temporary file
  is removed and a file already at ``path`` is left as it was. `write_atomic(path, data)` writes
  text or bytes with it, `write_csv_atomic(path, rows)` a table (spreadsheet formulas
  neutralised).
- `write_files(files, force=...)` fills a folder the way a rerun should: new files are written,
  files already identical are left alone, and a file that differs from the fresh copy (a learner's
  notebook, an instructor's edited assignment) is kept unless ``force`` is set.
- `check_output_file(name, path)` and `check_folder(name, folder)` refuse a place a command cannot
  write to before any work starts, with a message that names the argument, what was expected and
  what came.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import secrets
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO


def _payload(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def _open_temporary(path: Path) -> tuple[int, Path]:
    """A new file next to ``path``, created with mode 0666 so that the umask applies to it
    (``tempfile.mkstemp`` would make it 0600)."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {path}")


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file that replaces ``path`` in one step when the block ends; see the module doc."""
    path = Path(path)
    try:
        info = os.stat(path)
        mode = stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else None
    except FileNotFoundError:
        mode = None
    fd, tmp = _open_temporary(path)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:  # also KeyboardInterrupt: never leave a half-written file behind
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` (text is UTF-8) to ``path`` in one step with :func:`atomic_file`."""
    with atomic_file(path) as f:
        f.write(_payload(data))
    return Path(path)


def _csv_cell(value: object) -> object:
    """Neutralise spreadsheet formulas in text cells (OWASP CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv_atomic(path: str | Path, rows: Sequence[Sequence[object]]) -> None:
    """Write rows to `path` in one step (a temporary file renamed over it), readable as any file
    the user writes: mode 0666 & ~umask when new, the old mode when replaced."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    write_atomic(path, buffer.getvalue())


@dataclass
class Written:
    """What `write_files` did with each file."""

    written: list[Path] = field(default_factory=list)  # new, or replaced because force was set
    unchanged: list[Path] = field(default_factory=list)  # already held exactly this content
    kept: list[Path] = field(default_factory=list)  # differ from the fresh copy: left as they are

    def summary(self, replace: str = "run again with --force") -> list[str]:
        """What happened, a line each, ending with how to replace the kept files."""
        lines = [f"wrote {path}" for path in self.written]
        if self.unchanged:
            lines.append(f"{len(self.unchanged)} file(s) already up to date, left as they are")
        if self.kept:
            lines.append(
                f"kept {len(self.kept)} file(s) that differ from a fresh copy "
                "(edited since they were written?):"
            )
            lines += [f"  {path}" for path in self.kept]
            lines.append(f"to replace them with fresh copies, {replace}")
        return lines


def write_files(files: Mapping[Path, str | bytes], *, force: bool = False) -> Written:
    """Write each ``path: data`` of ``files`` unless that would replace different content.

    A file that exists with other content was most likely edited by its reader; it is kept (and
    listed in ``Written.kept``) unless ``force`` is true. Folders are made as needed.
    """
    done = Written()
    for path, data in files.items():
        path = Path(path)
        payload = _payload(data)
        if path.is_file():
            if path.read_bytes() == payload:
                done.unchanged.append(path)
                continue
            if not force:
                done.kept.append(path)
                continue
        path.parent.mkdir(parents=True, exist_ok=True)
        done.written.append(write_atomic(path, payload))
    return done


def check_output_file(
    name: str, path: str | Path, *, suffixes: tuple[str, ...] | None = None
) -> Path:
    """``path`` as a Path if a file can be written there; else ValueError (TypeError for a value
    that is not a path) naming ``name``, what was expected and what came."""
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{name}: expected a path to a file, got {type(path).__name__} {path!r:.60}"
        )
    path = Path(path)
    text = str(path)
    if text in ("", ".") or path.name in ("", ".", ".."):
        raise ValueError(f"{name}: expected a file name, got {text!r}")
    if path.is_dir():
        raise ValueError(f"{name}: expected a file path, got the directory '{text}'")
    parent = path.parent
    if not parent.is_dir():
        raise ValueError(f"{name}: the folder '{parent}' does not exist (create it first)")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"{name}: cannot write in the folder '{parent}'")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise ValueError(f"{name}: expected a file ending in {', '.join(suffixes)}, got '{text}'")
    return path


def check_folder(name: str, folder: Path) -> None:
    """ValueError unless ``folder`` is a folder or can be made one (no file in the way)."""
    for place in (folder, *folder.parents):
        if place.exists():
            if not place.is_dir():
                what = "" if place == folder else f" (needed for '{folder}')"
                raise ValueError(f"{name}: expected a folder, got the file '{place}'{what}")
            return
