"""Shared helpers for the packaging tests (Python 3 standard library only).

Environment, set by tests/packaging/CMakeLists.txt:
  MAILPROBE_SOURCE_DIR, MAILPROBE_BUILD_DIR, MAILPROBE_BIN_DIR (built plugins),
  MAILPROBE_VERSION, MAILPROBE_PKG_DIR (where packaging.cpack puts the packages),
  MAILPROBE_STACK_DIR (the test mail stack, for tests with the fixture "mailstack").
A test that cannot run because a Debian package it needs cannot be installed exits 77,
which CTest reports as skipped (SKIP_RETURN_CODE).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SKIP = 77
PLUGINS = ("check_mail_send", "check_mail_roundtrip", "check_mail_relay", "check_mailbox_receive")


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        fail(f"environment variable {name} is not set; run this test through ctest")
    return value


def source_dir() -> Path:
    return Path(env("MAILPROBE_SOURCE_DIR"))


def bin_dir() -> Path:
    return Path(env("MAILPROBE_BIN_DIR"))


def version() -> str:
    return env("MAILPROBE_VERSION")


def log(msg: str) -> None:
    print(msg, flush=True)


def fail(msg: str) -> None:
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def skip(msg: str) -> None:
    print(f"SKIP: {msg}", flush=True)
    sys.exit(SKIP)


def check(condition: bool, msg: str) -> None:
    if not condition:
        fail(msg)


def run(cmd, *, check_rc: bool = True, env_extra: dict | None = None, timeout: float = 300,
        quiet: bool = False, **kw) -> subprocess.CompletedProcess:
    cmd = [str(c) for c in cmd]
    if not quiet:
        log("$ " + " ".join(cmd))
    e = dict(os.environ)
    if env_extra:
        e.update(env_extra)
    p = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=timeout, **kw)
    if check_rc and p.returncode != 0:
        fail(f"{cmd[0]} exited {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def ensure_tool(command: str, package: str) -> str:
    """The path of COMMAND; installs the Debian PACKAGE when it is missing (as root, like
    scripts/install-deps.sh), skips the test when that is impossible."""
    def find():
        if os.path.isabs(command):
            return command if os.access(command, os.X_OK) else None
        return shutil.which(command)

    path = find()
    if path:
        return path
    p = apt_install(package)
    path = find()
    if not path:
        detail = f":\n{p.stdout}{p.stderr}" if p else " (needs root and apt-get)"
        skip(f"{command} is missing and the Debian package {package} cannot be installed"
             f"{detail}; see scripts/install-deps.sh")
    return path


def apt_install(package: str) -> subprocess.CompletedProcess | None:
    """Installs a Debian package the way scripts/install-deps.sh does (no daemon starts);
    None when that is impossible here (not root, no apt-get)."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    log(f"installing the Debian package {package}")
    created_policy = False
    if not os.path.exists("/usr/sbin/policy-rc.d"):
        Path("/usr/sbin/policy-rc.d").write_text("#!/bin/sh\nexit 101\n")
        os.chmod("/usr/sbin/policy-rc.d", 0o755)
        created_policy = True
    try:
        return subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                               "-o", "DPkg::Lock::Timeout=300", package],
                              capture_output=True, text=True, timeout=900,
                              env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    finally:
        if created_policy:
            os.unlink("/usr/sbin/policy-rc.d")


def ensure_python_module(module: str, package: str):
    try:
        return __import__(module)
    except ImportError:
        pass
    p = apt_install(package)
    try:
        return __import__(module)
    except ImportError:
        detail = f":\n{p.stdout}{p.stderr}" if p else " (needs root and apt-get)"
        skip(f"cannot install the Debian package {package} for the Python module {module}"
             f"{detail}")


class Stack:
    """The test mail stack of tests/stack/mailstack.sh (started by the mailstack fixture)."""

    def __init__(self) -> None:
        self.dir = Path(env("MAILPROBE_STACK_DIR"))
        env_file = self.dir / "stack.env"
        if not env_file.is_file():
            fail(f"{env_file} not found: the mail stack is not running (the CTest fixture "
                 f"'mailstack' starts it; run the test through ctest)")
        self.env: dict[str, str] = {}
        for line in env_file.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                self.env[k] = v.strip('"')
        self.host = self.env["MS_HOST"]
        self.domain = self.env["MS_DOMAIN"]
        self.smtp_port = int(self.env["MS_SMTP_PORT"])
        self.imap_port = int(self.env["MS_IMAP_PORT"])
        self.relay_submission_port = int(self.env["MS_RELAY_SUBMISSION_PORT"])
        self.ca = self.env["MS_CA"]
        self.script = source_dir() / "tests" / "stack" / "mailstack.sh"

    def pass_file(self, user: str) -> str:
        return self.env[f"MS_PASS_FILE_{user.upper()}"]

    def password(self, user: str) -> str:
        return Path(self.pass_file(user)).read_text().splitlines()[0]

    def address(self, user: str) -> str:
        return f"{user}@{self.domain}"

    def imap_url(self, user: str) -> str:
        return f"imap://{user}@{self.domain}@{self.host}:{self.imap_port}/INBOX"

    def empty(self, user: str) -> None:
        run(["bash", self.script, "empty", self.dir, user], quiet=True)


@contextlib.contextmanager
def temp_dir(prefix: str):
    d = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        if os.environ.get("MAILPROBE_KEEP_TMP") == "1":
            log(f"(kept {d})")
        else:
            shutil.rmtree(d, ignore_errors=True)


@contextlib.contextmanager
def moved_aside(path: Path):
    """PATH (a state directory a plugin run as root left behind, without the package) is
    moved aside for the block and put back afterwards, so that the block sees a system
    without it and nothing of it is lost."""
    backup = path.with_name(f"{path.name}.packaging-test-{os.getpid()}")
    had = path.exists()
    if had:
        log(f"moving {path} aside to {backup} for this test")
        path.rename(backup)
    try:
        yield
    finally:
        if had:
            shutil.rmtree(path, ignore_errors=True)
            backup.rename(path)
            log(f"{path} restored")


def _terminated(signum, _frame):
    raise SystemExit(f"terminated by signal {signum}")


def _pgid_file(name: str) -> Path:
    d = Path(os.environ.get("MAILPROBE_BUILD_DIR", tempfile.gettempdir())) / "packaging-test"
    d.mkdir(parents=True, exist_ok=True)
    return d / f"{name}.pgid"


def _kill_leftover(name: str, marker: str) -> None:
    """A daemon group left by an earlier run of this test that was killed (CTest timeout):
    only if its leader's command line still contains MARKER."""
    f = _pgid_file(name)
    if not f.exists():
        return
    try:
        pgid = int(f.read_text().split()[0])
    except ValueError:
        pgid = 0
    ours = False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # field 5 of /proc/PID/stat: the process group
                continue
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        ours = ours or marker in cmdline
    if pgid and ours:
        log(f"killing {name} left by an earlier run (process group {pgid})")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    f.unlink(missing_ok=True)


@contextlib.contextmanager
def daemon(cmd, log_path: Path, name: str, env_extra: dict | None = None, marker: str = "",
           stop_timeout: float = 15, term_leader_only: bool = False):
    """Runs a daemon in the foreground in its own process group; on leaving the block the
    whole group gets SIGTERM, then SIGKILL after STOP_TIMEOUT seconds, even when the test
    failed or was terminated. TERM_LEADER_ONLY: SIGTERM goes to the daemon alone, which stops
    its own children (Icinga 2's umbrella process and its worker). MARKER (a string in its command line) identifies a leftover of an earlier
    run that was killed, which is stopped first."""
    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGINT, _terminated)
    e = dict(os.environ)
    if env_extra:
        e.update(env_extra)
    cmd = [str(c) for c in cmd]
    if marker:
        _kill_leftover(name, marker)
    log(f"starting {name}: " + " ".join(cmd))
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=e)
    pgid = proc.pid  # start_new_session: the daemon leads its own group
    _pgid_file(name).write_text(f"{pgid}\n")
    try:
        yield proc
    finally:
        stop_group(pgid, proc, name, stop_timeout, term_leader_only)
        _pgid_file(name).unlink(missing_ok=True)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def stop_group(pgid: int, proc: subprocess.Popen, name: str, timeout: float = 15,
               leader_only: bool = False) -> None:
    t0 = time.monotonic()
    with contextlib.suppress(ProcessLookupError):
        if leader_only:
            os.kill(pgid, signal.SIGTERM)
        else:
            os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.poll()
        if not group_alive(pgid):
            break
        time.sleep(0.1)
    else:
        log(f"{name} did not stop in {timeout:.0f} s: SIGKILL to process group {pgid}")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        time.sleep(0.5)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    log(f"stopped {name} (process group {pgid}) in {time.monotonic() - t0:.1f} s")


def wait_for(predicate, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def parse_perfdata(text: str) -> dict[str, dict]:
    """label -> {value, unit, warn, crit, min, max} of a plugin perfdata string."""
    out: dict[str, dict] = {}
    for item in text.split():
        label, _, rest = item.partition("=")
        label = label.strip("'")
        fields = rest.split(";")
        raw = fields[0]
        num = raw.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ%")
        out[label] = {
            "value": float(num) if num not in ("", "U") else None,
            "unit": raw[len(num):],
            "warn": fields[1] if len(fields) > 1 else "",
            "crit": fields[2] if len(fields) > 2 else "",
            "min": fields[3] if len(fields) > 3 else "",
            "max": fields[4] if len(fields) > 4 else "",
        }
    return out


def packages() -> tuple[Path, Path | None]:
    """The .deb and .rpm that packaging.cpack built (fixture 'packages')."""
    d = Path(env("MAILPROBE_PKG_DIR"))
    debs = sorted(glob.glob(str(d / "*.deb")))
    rpms = sorted(glob.glob(str(d / "*.rpm")))
    if not debs:
        fail(f"no .deb in {d}: packaging.cpack did not run or failed")
    return Path(debs[-1]), (Path(rpms[-1]) if rpms else None)
