"""The grader's child process: isolate, load one submission, run the cases, write tensors back.

STANDALONE: this file is copied into a fresh sandbox directory and run with ``python -I -S`` by
``attention_lab.assessment.grader.batch``. It imports only the standard library, torch and
safetensors, never attention_lab, and it never sees the reference solutions: the parent keeps
them and judges the tensors this process writes (safetensors cannot carry code).

Order of events (the submission's code runs only at step 5):

1. namespace isolation (when the parent asks for it): new mount, network, IPC and PID
   namespaces (plus a user namespace when not root); a tmpfs root that holds only the system
   directories, the Python installation, the site-packages that hold torch/numpy/safetensors and
   the sandbox; ``chroot`` into it; drop to the sandbox's own user id when running as root;
2. resource limits (address space, processes, file size, CPU time, open files);
3. ``sys.path`` pruned to the standard library and those site-packages;
4. import torch, safetensors and the exercise runner;
5. import the submission (catching everything, ``SystemExit`` included; bounded in CPU time and
   in wall time), then for each case call ``runner.call_target`` under a per-case timer and
   write ``out/<k>.safetensors`` or ``out/<k>.json`` (an error string). The submission is
   decoded as ``python submission.py`` would decode it (PEP 263, strict).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import time
import traceback

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(
        _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
        f"mount {source} -> {target}",
    )


def _bind(source: str, target: str, *, writable: bool = False) -> None:
    if os.path.isdir(source):
        os.makedirs(target, mode=0o755, exist_ok=True)
    elif not os.path.exists(target):
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        open(target, "a").close()
    _mount(source, target, None, MS_BIND | MS_REC)
    flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (0 if writable else MS_RDONLY)
    if source.startswith("/dev/"):
        flags &= ~MS_NOSUID
    try:
        _mount(None, target, None, flags)
    except OSError:
        if os.geteuid() == 0 and not _IN_USERNS:
            raise  # in a user namespace locked flags may refuse a remount; files stay read-only


_IN_USERNS = False


def _enter_namespaces(jail: dict) -> None:
    """Steps 1: unshare, fork into a PID namespace, build the jail, chroot, drop privileges."""
    global _IN_USERNS
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWPID
    uid, gid = os.getuid(), os.getgid()
    if os.geteuid() != 0:
        _IN_USERNS = True
        _check(_libc.unshare(flags | CLONE_NEWUSER), "unshare")
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"0 {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"0 {gid} 1")
    else:
        _check(_libc.unshare(flags), "unshare")
    # The first child becomes PID 1 of the new PID namespace: when it dies, every process the
    # submission started dies with it. This process only waits and passes its status on.
    pid = os.fork()
    if pid:
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = jail["root"]
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
    # the private /tmp first: a Python installation that lives under /tmp is bound inside it below
    os.makedirs(root + "/tmp", exist_ok=True)
    _mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=32m,mode=1777")
    for link in ("bin", "lib", "lib32", "lib64", "sbin"):
        host = "/" + link
        if os.path.islink(host):
            os.symlink(os.readlink(host), os.path.join(root, link))
        elif os.path.isdir(host):
            _bind(host, root + host)
    for path in sorted(jail["read_only"], key=len):
        if os.path.exists(path):
            _bind(path, root + path)
    for path in jail["hidden"]:  # e.g. an installed attention_lab inside site-packages
        if os.path.isdir(root + path):
            _mount("tmpfs", root + path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k")
        elif os.path.isfile(root + path):
            _bind("/dev/null", root + path)
    for dev in ("null", "zero", "full", "random", "urandom"):
        _bind("/dev/" + dev, f"{root}/dev/{dev}", writable=True)
    os.makedirs(root + "/proc", exist_ok=True)
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _bind(jail["sandbox"], root + "/sandbox", writable=True)
    os.chroot(root)
    os.chdir("/sandbox")
    if os.geteuid() == 0 and not _IN_USERNS:
        os.setgroups([])
        os.setgid(jail["gid"])
        os.setuid(jail["uid"])


def _limit(limits: dict) -> None:
    import resource

    for name, value in limits.items():
        which = getattr(resource, "RLIMIT_" + name.upper())
        resource.setrlimit(which, (value, value))


_MISSING = object()


class _CaseTimeout(BaseException):
    """Raised by the per-case timer; a BaseException so `except Exception` cannot swallow it."""


def _on_alarm(signum, frame):
    raise _CaseTimeout()


def _arm(wall: float, cpu: float) -> None:
    """Arm (or with zeros, disarm) the wall-clock and CPU-time timers."""
    signal.setitimer(signal.ITIMER_REAL, wall)
    signal.setitimer(signal.ITIMER_PROF, cpu)


def _describe(error: BaseException) -> str:
    if isinstance(error, _CaseTimeout):
        return "TimeoutError: the call did not return within its time limit"
    if isinstance(error, SystemExit):
        return f"SystemExit: the code called sys.exit({error.code!r})"
    text = str(error)
    return f"{type(error).__name__}: {text}"[:2000]


def _write_json(path: str, data: dict) -> None:
    with open(path + ".part", "w") as f:
        json.dump(data, f)
    os.replace(path + ".part", path)


def main() -> None:
    with open(sys.argv[1]) as f:
        plan = json.load(f)
    if plan["isolation"] == "namespace":
        _enter_namespaces(plan["jail"])
    else:
        os.chdir(plan["jail"]["sandbox"])
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    _limit(plan["limits"])
    sys.path[:] = plan["sys_path"]
    os.makedirs("out", exist_ok=True)
    _write_json("out/started.json", {"isolation": plan["isolation"], "time": time.time()})
    if plan.get("probe"):
        import safetensors.torch  # noqa: F401
        import torch

        _write_json("out/probe.json", {"ok": True, "cwd": os.getcwd()})
        return

    import importlib.util

    import torch
    from safetensors.torch import save_file

    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("_exercise_runner", "runner.py")
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    signal.signal(signal.SIGALRM, _on_alarm)  # wall-clock timer
    signal.signal(signal.SIGPROF, _on_alarm)  # CPU-time timer

    # 5) the submission: anything may happen from here on; the parent trusts only tensors.
    status = {"ok": True, "error": None, "traceback": None}
    # Loading is bounded in CPU time (a busy loop stops soon) and in wall time (a sleep stops just
    # before the parent's own kill), so a flood of output that blocks on the pipe is not cut short.
    _arm(max(0.01, plan["import_wall_until"] - time.time()), plan["import_cpu"])
    try:
        import tokenize
        import types

        # Decode as `python submission.py` would (PEP 263: UTF-8 unless a coding cookie says
        # otherwise, strictly), not as the import system does (3.11 lets bad bytes in comments).
        with open("submission.py", "rb") as f:
            encoding, _ = tokenize.detect_encoding(f.readline)
            f.seek(0)
            raw = f.read()
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as error:
            raise SyntaxError(
                f"the file is not valid {encoding} and declares no other encoding ({error})"
            ) from None
        module = types.ModuleType("submission")
        module.__file__ = os.path.abspath("submission.py")
        sys.modules["submission"] = module
        exec(compile(text, "submission.py", "exec"), module.__dict__)
    except BaseException as error:  # SystemExit, KeyboardInterrupt, anything raised at import
        _arm(0, 0)
        timed_out = isinstance(error, _CaseTimeout)
        status = {
            "ok": False,
            "error": (
                "TimeoutError: loading the file (its top-level code) did not finish within its "
                "time limit"
                if timed_out
                else _describe(error)
            ),
            "traceback": traceback.format_exc(limit=-8)[-4000:],
            "timed_out": timed_out,
        }
    _arm(0, 0)
    _write_json("out/import.json", status)
    if not status["ok"]:
        return

    for k, case in enumerate(plan["cases"]):
        from safetensors.torch import load_file

        inputs = load_file(case["inputs"])
        try:
            _arm(plan["case_timeout"], plan["case_timeout"])
            try:
                target = module.__dict__.get(case["target"], _MISSING)
                if target is _MISSING:
                    _write_json(f"out/{k}.json", {"error": None, "missing": True})
                    continue
                outputs = runner.call_target(target, case["call"], inputs)
            finally:
                _arm(0, 0)
            plain = {}
            for name, value in dict(outputs).items():
                if not isinstance(value, torch.Tensor):
                    raise TypeError(
                        f"output {name!r} is a {type(value).__name__}, expected a torch.Tensor"
                    )
                # Plain, contiguous, detached copies: tensor subclasses lose their behaviour here.
                plain[str(name)] = (
                    value.as_subclass(torch.Tensor).detach().cpu().clone().contiguous()
                )
            save_file(plain, f"out/{k}.safetensors")
        except BaseException as error:
            _arm(0, 0)
            _write_json(f"out/{k}.json", {"error": _describe(error)})


if __name__ == "__main__":
    main()
