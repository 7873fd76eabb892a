"""Run one submission in an isolated child process and collect the tensors it writes.

What the child may touch is decided here; what its tensors are worth is decided in
`attention_lab.assessment.grader.batch` against the reference, which never leaves this process.

Isolation levels (detected at run time, reported in the gradebook and in each feedback file):

- ``namespace``: Linux mount, network, IPC and PID namespaces; the child ``chroot``s into a tmpfs
  holding only the system directories, the Python installation and the site-packages with torch,
  numpy and safetensors (an installed attention_lab inside them is covered by an empty tmpfs), so
  neither the project's source tree nor the reference exists in its filesystem (an editable
  install's finder and .pth files are blanked too); no network (a
  fresh network namespace has only a loopback device, and it is down); a user id of its own when
  the grader runs as root, so the process limit counts only the submission's processes.
- ``basic``: where namespaces are refused (no root and no unprivileged user namespaces, or a
  container that forbids them, as Docker does by default): a pruned ``sys.path``, a fresh
  temporary working directory, a scrubbed environment and the same resource limits; when the
  grader runs as root and other users may run its Python (not one under ``/root``), a user id of
  its own, so files only root may read stay unreadable (the Gradescope autograder relies on
  this). Files readable by everyone stay readable and the network reachable: say so to
  students.

Both levels: the child starts in its own session and process group, which is killed as a whole
at the wall-clock timeout (and, when the grader runs as root, every process left under the
child's user id); inside, timers bound loading the submission (CPU and wall time) and each call; its stdout and
stderr go through a pipe of which the first ``output_cap`` bytes are kept and the rest discarded.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

CHILD = Path(__file__).with_name("child.py")
#: Extra binaries and files the dynamic loader and Python may need inside the jail.
_SYSTEM_PATHS = ("/usr", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d")


@dataclass(frozen=True)
class Limits:
    timeout: float = 30.0  # wall-clock seconds for the whole submission (import + all cases)
    memory_mb: int = 2048  # RLIMIT_AS; importing torch alone maps about 650 MB
    processes: int = 64  # RLIMIT_NPROC (threads count too), enforced under a user id of its own
    file_mb: int = 64  # RLIMIT_FSIZE: largest file the child may write
    output_cap: int = 64 * 1024  # bytes of stdout+stderr kept for the feedback
    case_timeout: float = 10.0  # per call of the learner's code (a timer the child arms)
    import_timeout: float = 20.0  # CPU seconds for loading the submission (a notebook's cells)

    def __post_init__(self) -> None:
        for name in (
            "timeout",
            "memory_mb",
            "processes",
            "file_mb",
            "case_timeout",
            "import_timeout",
        ):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if self.memory_mb < 512:
            raise ValueError(
                f"memory_mb must be at least 512 (torch needs about 650 MB of address space), "
                f"got {self.memory_mb}"
            )


@dataclass
class ChildRun:
    """What happened in one child: how it ended, what it printed, where its files are."""

    isolation: str
    returncode: int | None = None
    timed_out: bool = False
    seconds: float = 0.0
    output: bytes = b""
    output_bytes: int = 0
    sandbox: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ended(self) -> str:
        if self.timed_out:
            return "timeout"
        if self.returncode is None:
            return "not run"
        if self.returncode < 0:
            return f"killed by {signal.Signals(-self.returncode).name}"
        return f"exit code {self.returncode}"


def _site_packages() -> list[str]:
    """The site-packages directories that hold torch, numpy and safetensors (and their deps)."""
    import numpy
    import safetensors
    import torch

    dirs = []
    for module in (torch, numpy, safetensors):
        directory = str(Path(module.__file__).resolve().parent.parent)
        if directory not in dirs:
            dirs.append(directory)
    return dirs


def _stdlib_paths() -> list[str]:
    prefixes = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.base_exec_prefix)}
    return [
        p
        for p in sys.path
        if p
        and any(os.path.realpath(p).startswith(prefix) for prefix in prefixes)
        and "site-packages" not in p
    ]


def _others_may_run_python(site_dirs: list[str]) -> bool:
    """Whether a user other than root can run this Python outside a jail: the interpreter, the
    standard library and ``site_dirs`` must be reachable (every folder above them searchable by
    others), which fails for an installation under ``/root`` (pyenv, for one)."""
    for path in [sys.executable, *_stdlib_paths(), *site_dirs]:
        if not os.path.exists(path):  # e.g. python311.zip, on the path but absent
            continue
        target = Path(os.path.realpath(path))
        for place in [target, *target.parents]:
            try:
                mode = os.stat(place).st_mode
            except OSError:
                return False
            if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
                return False
        if target.is_file() and not os.stat(target).st_mode & stat.S_IXOTH:
            return False
    return True


def _hidden_paths(site_dirs: list[str]) -> list[str]:
    """Where attention_lab could be found inside the jail: covered by an empty tmpfs."""
    import glob

    hidden = []
    for directory in site_dirs:
        candidate = os.path.join(directory, "attention_lab")
        if os.path.isdir(candidate):
            hidden.append(candidate)
        # an editable install's finder and .pth files name the source tree: blank them too
        for pattern in ("__editable__*attention_lab*", "*attention_lab*.pth"):
            hidden += sorted(glob.glob(os.path.join(directory, pattern)))
    return hidden


def _reader(stream, run: ChildRun, cap: int) -> None:
    """Drain the child's output so it never blocks; keep the first `cap` bytes only."""
    kept = bytearray()
    total = 0
    fd = stream.fileno()
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        total += len(chunk)
        if len(kept) < cap:
            kept.extend(chunk[: cap - len(kept)])
    run.output = bytes(kept)
    run.output_bytes = total


def _kill_uid(uid: int) -> None:
    """SIGKILL every process running under `uid` (a user id used by this one child only)."""
    for _ in range(20):
        found = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/status") as f:
                    uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
            except (OSError, StopIteration):
                continue
            if str(uid) in uids:
                found = True
                try:
                    os.kill(int(entry), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if not found:
            return
        time.sleep(0.05)


def _kill_group(pgid: int) -> None:
    for _ in range(20):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.02)


def run_child(
    work_root: Path,
    files: dict[str, bytes],
    plan_extra: dict,
    limits: Limits,
    isolation: str,
) -> ChildRun:
    """Write `files` into a fresh sandbox under `work_root`, run child.py there, wait, clean up.

    Returns a ChildRun whose `sandbox` still holds what the child wrote (the caller reads `out/`
    and then removes it with `remove_sandbox`).
    """
    box = Path(os.path.realpath(work_root)) / f"box-{secrets.token_hex(6)}"
    jail = Path(os.path.realpath(work_root)) / f"jail-{secrets.token_hex(6)}"
    box.mkdir(mode=0o700)
    jail.mkdir(mode=0o755)
    for name, data in {**files, "child.py": CHILD.read_bytes()}.items():
        (box / name).write_bytes(data)
    as_root = os.geteuid() == 0
    site_dirs = _site_packages()
    # A user id of its own (root only): RLIMIT_NPROC then counts this child's processes only,
    # every process it leaves behind can be found and killed by that id, and it can read no file
    # that only root may read (at the basic level too, e.g. an autograder's folder made 0700,
    # where other users can run this Python at all).
    own_uid = isolation == "namespace" or _others_may_run_python(site_dirs)
    uid = 200_000 + secrets.randbelow(1_000_000_000) if as_root and own_uid else None
    limits_map = {
        "as": limits.memory_mb * 2**20,
        "fsize": limits.file_mb * 2**20,
        "cpu": int(limits.timeout) + 2,
        "nofile": 256,
        "core": 0,
    }
    if uid is not None or not as_root:
        limits_map["nproc"] = limits.processes if uid is not None else 4096
    plan = {
        "isolation": isolation,
        "jail": {
            "root": str(jail),
            "sandbox": str(box),
            "read_only": [
                *_SYSTEM_PATHS,
                os.path.realpath(sys.base_prefix),
                *site_dirs,
            ],
            "hidden": _hidden_paths(site_dirs),
            "uid": uid,
            "gid": uid,
        },
        "sys_path": [*_stdlib_paths(), *site_dirs],
        "limits": limits_map,
        "import_cpu": min(limits.import_timeout, limits.timeout),
        # A deadline on the shared wall clock, counted from the start of the process, not from
        # the end of the child's start-up: on a loaded machine a slow start-up then still leaves
        # the last quarter of the time for the calls and for reporting why loading stopped.
        "import_wall_until": time.time() + 0.75 * limits.timeout,
        "case_timeout": limits.case_timeout,
        **plan_extra,
    }
    (box / "plan.json").write_text(json.dumps(plan))
    if uid is not None:
        for path in [box, *box.rglob("*")]:
            os.chown(path, uid, uid)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp" if isolation == "namespace" else str(box),
        "TMPDIR": "/tmp" if isolation == "namespace" else str(box),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    run = ChildRun(isolation=isolation, sandbox=box)
    # Under namespaces the child drops to `uid` itself, after building its jail as root.
    drop = {"user": uid, "group": uid, "extra_groups": []}
    start = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-I", "-S", "-B", str(box / "child.py"), str(box / "plan.json")],
        cwd=box,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        close_fds=True,
        **(drop if uid is not None and isolation != "namespace" else {}),
    )
    try:  # a 1 MiB pipe: a flood of output costs a third of the CPU and wall time
        import fcntl

        fcntl.fcntl(process.stdout.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except OSError:
        pass
    reader = threading.Thread(target=_reader, args=(process.stdout, run, limits.output_cap))
    reader.start()
    try:
        process.wait(timeout=limits.timeout + 5.0)  # + start-up and jail set-up
    except subprocess.TimeoutExpired:
        run.timed_out = True
    _kill_group(process.pid)
    if uid is not None:
        _kill_uid(uid)
    process.wait()
    reader.join(timeout=10)
    run.returncode = process.returncode
    run.seconds = time.monotonic() - start
    try:
        jail.rmdir()
    except OSError:
        run.notes.append("jail directory left behind")
    return run


def remove_sandbox(run: ChildRun) -> None:
    if run.sandbox is not None:
        shutil.rmtree(run.sandbox, ignore_errors=True)


def read_child_file(box: Path, name: str, max_bytes: int) -> bytes | None:
    """Read box/out/name without following links the child may have planted; None if absent.

    Raises ValueError when the entry is not a regular file or is larger than `max_bytes`.
    """
    try:
        box_fd = os.open(box, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        try:
            out_fd = os.open("out", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=box_fd)
        except OSError:
            return None
        try:
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=out_fd)
            except FileNotFoundError:
                return None
            except OSError as error:
                raise ValueError(f"out/{name} cannot be opened safely ({error.strerror})") from None
            with os.fdopen(fd, "rb") as f:
                info = os.fstat(f.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise ValueError(f"out/{name} is not a regular file")
                if info.st_size > max_bytes:
                    raise ValueError(f"out/{name} is {info.st_size} bytes, more than {max_bytes}")
                return f.read(max_bytes + 1)[:max_bytes]
        finally:
            os.close(out_fd)
    finally:
        os.close(box_fd)


@cache
def detect_isolation(work_root: str | None = None) -> tuple[str, str]:
    """Try the namespace jail once (importing torch inside it); fall back to ``basic``.

    Returns (level, reason). Cached per process: the answer does not change during a batch.
    """
    import tempfile

    if not sys.platform.startswith("linux"):
        return "basic", f"namespaces are Linux-only (this is {sys.platform})"
    with tempfile.TemporaryDirectory(prefix="attention-lab-probe-", dir=work_root) as root:
        os.chmod(root, 0o755)
        run = run_child(
            Path(root), {}, {"probe": True, "cases": []}, Limits(timeout=60), "namespace"
        )
        try:
            data = read_child_file(run.sandbox, "probe.json", 4096)
        except ValueError:
            data = None
        remove_sandbox(run)
    if data and json.loads(data).get("cwd") == "/sandbox":
        return "namespace", "mount, network, IPC and PID namespaces with a chroot jail"
    tail = run.output.decode("utf-8", "replace").strip().splitlines()[-1:] or [run.ended]
    return "basic", f"namespace jail unavailable here ({tail[0][:200]})"
