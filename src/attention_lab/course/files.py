"""Writing the files a command produces: whole or not at all, readable, never over someone's edits.

- `write_atomic(path, data)` writes a temporary file next to ``path`` and renames it over ``path``
  in one step, so a reader (or a crash) never sees half a file. A new file gets the usual
  permissions, ``0666 & ~umask`` (what ``open(path, "w")`` gives), so colleagues and an LMS upload
  can read it; a replaced file keeps its mode. If anything fails, the temporary file is removed.
- `write_files(files, force=...)` fills a folder the way a rerun should: new files are written,
  files already identical are left alone, and a file that differs from the fresh copy (a learner's
  notebook, an instructor's edited assignment) is kept unless ``force`` is set.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


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


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` (text is UTF-8) to ``path`` in one step; see the module docstring."""
    path = Path(path)
    try:
        info = os.stat(path)
        mode = stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else None
    except FileNotFoundError:
        mode = None
    fd, tmp = _open_temporary(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(_payload(data))
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


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


def check_folder(name: str, folder: Path) -> None:
    """ValueError unless ``folder`` is a folder or can be made one (no file in the way)."""
    for place in (folder, *folder.parents):
        if place.exists():
            if not place.is_dir():
                what = "" if place == folder else f" (needed for '{folder}')"
                raise ValueError(f"{name}: expected a folder, got the file '{place}'{what}")
            return
