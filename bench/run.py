#!/usr/bin/python3
"""mailprobe benchmark: our plugins side by side with the peers on one real mail stack.

    /usr/bin/python3 bench/run.py            # full mode (10 runs per plugin, 1k/10k/100k, 100 concurrent)
    /usr/bin/python3 bench/run.py --quick    # 1 run each, small sizes, 10 concurrent (CI smoke run)

Starts its own Postfix + Dovecot stack (tests/stack/mailstack.sh) and always stops it,
installs the peers from Debian packages when missing, runs ours and the peers alternately
(A B A B ...), prints Markdown tables and writes them to a file (see --output). Exits
non-zero when any plugin (ours or a peer) gives a wrong result. Needs root. Stdlib only.
See bench/README.md for what each figure means.
"""

import argparse
import ctypes
import ctypes.util
import datetime
import os
import platform
import re
import selectors
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
STACK_SH = os.path.join(REPO, "tests", "stack", "mailstack.sh")
PEER_DIR = "/usr/lib/nagios/plugins"
PEER_PACKAGES = ["monitoring-plugins-contrib", "monitoring-plugins-standard", "libmail-imapclient-perl"]
OUR_PLUGINS = ["check_mail_send", "check_mail_roundtrip", "check_mailbox_receive"]  # the ones benchmarked
DOMAIN = "mail.test"
DEFAULT_WAIT = 35  # check_mail_roundtrip's default --wait, seconds


class BenchError(Exception):
    """The bench itself cannot go on (setup, stack, missing tools)."""


# --------------------------------------------------------------------------- running a plugin

class Run:
    """One plugin run: wall time, CPU (user+sys of the whole process tree), peak RSS."""

    def __init__(self, argv, rc, out, t0, t1, ru):
        self.argv = argv
        self.rc = rc
        self.out = out
        self.t0 = t0
        self.t1 = t1
        self.wall = t1 - t0
        self.cpu = ru.ru_utime + ru.ru_stime
        self.rss_kb = ru.ru_maxrss  # largest single process of the tree, in KiB
        self.ok = False
        self.why = ""

    def first_line(self):
        return self.out.split("\n", 1)[0]

    def perf(self, label):
        """A performance datum of our plugins (seconds or a count), or None."""
        m = re.search(r"(?:^|\s)" + re.escape(label) + r"=([0-9.]+)", self.out.split("\n", 1)[0])
        return float(m.group(1)) if m else None


_active = set()  # process groups of running children, killed on abort
_active_lock = threading.Lock()


def kill_active():
    with _active_lock:
        pids = list(_active)
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


# ru_maxrss of a process spawned straight from Python starts at Python's own RSS (exec
# records the old address space's high-water mark), so a tiny C wrapper forks the plugin
# and reports exactly the plugin tree's rusage (microsecond CPU, KiB peak RSS) and wall time.
RUSAGE_C = r"""
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
int main(int argc, char **argv) {
    struct timespec a, b;
    struct rusage ru;
    int st;
    if (argc < 3) return 125;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t pid = fork();
    if (pid < 0) return 125;
    if (pid == 0) { execv(argv[2], argv + 2); _exit(127); }
    if (wait4(pid, &st, 0, &ru) < 0) return 125;
    clock_gettime(CLOCK_MONOTONIC, &b);
    FILE *f = fopen(argv[1], "w");
    if (!f) return 125;
    fprintf(f, "%lld %lld %lld %ld\n",
            (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec),
            (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec,
            (long long)ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec, ru.ru_maxrss);
    fclose(f);
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    return 128 + WTERMSIG(st);
}
"""
RUSAGE_HELPER = None  # path of the compiled wrapper, set by build_rusage_helper()


def build_rusage_helper(directory):
    global RUSAGE_HELPER
    src = os.path.join(directory, "rusage.c")
    exe = os.path.join(directory, "rusage")
    with open(src, "w") as f:
        f.write(RUSAGE_C)
    for cc in ("cc", "gcc", "g++"):
        path = shutil.which(cc)
        if not path:
            continue
        lang = ["-x", "c"] if cc == "g++" else []
        r = subprocess.run([path, "-O2", *lang, "-o", exe, src], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if r.returncode == 0:
            RUSAGE_HELPER = exe
            return
    raise BenchError("need a C compiler (cc, gcc or g++) for the 20-line rusage wrapper")


class _Usage:
    def __init__(self, utime, stime, maxrss):
        self.ru_utime, self.ru_stime, self.ru_maxrss = utime, stime, maxrss


def run_cmd(argv, env, timeout=120.0):
    """Runs argv (through the rusage wrapper) in its own session; returns a Run with the
    wall time, CPU and peak RSS of exactly the plugin and its child processes."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile(prefix="mpbench-ru-") as ru_file:
        devnull = os.open(os.devnull, os.O_RDONLY)
        actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                   (os.POSIX_SPAWN_DUP2, out.fileno(), 2)]
        full = [RUSAGE_HELPER, ru_file.name, *argv]
        t0 = time.monotonic()
        try:
            pid = os.posix_spawn(full[0], full, env, file_actions=actions, setsid=True)
        finally:
            os.close(devnull)
        with _active_lock:
            _active.add(pid)
        timer = threading.Timer(timeout, lambda: _kill_group(pid))
        timer.daemon = True
        timer.start()
        try:
            _, status, ru_outer = os.wait4(pid, 0)
        finally:
            t1 = time.monotonic()
            timer.cancel()
            with _active_lock:
                _active.discard(pid)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
        fields = open(ru_file.name).read().split()
    if len(fields) == 4:  # the plugin tree alone
        wall_ns, ut, st, rss = (int(x) for x in fields)
        ru = _Usage(ut / 1e6, st / 1e6, rss)
        t0 = t1 - wall_ns / 1e9
    else:  # the wrapper was killed (timeout): fall back to what we saw from outside
        ru = ru_outer
        text += "\n[bench: killed after %.0f s]" % timeout
    return Run(argv, os.waitstatus_to_exitcode(status), text, t0, t1, ru)


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


class Background(threading.Thread):
    """run_cmd in a thread (for the load test and for releasing held mail mid-run)."""

    def __init__(self, argv, env, timeout=120.0):
        super().__init__(daemon=True)
        self.args_ = (argv, env, timeout)
        self.result = None
        self.error = None

    def run(self):
        try:
            self.result = run_cmd(*self.args_)
        except Exception as e:  # noqa: BLE001 - reported by the caller
            self.error = e


# --------------------------------------------------------------------------- inotify + IMAP proxy

IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
_EVENT = struct.Struct("iIII")


class Watcher(threading.Thread):
    """One event loop thread that (a) watches Maildir new/ directories with inotify and
    (b) relays IMAP/POP3 connections to Dovecot, noting every client command line and, for
    IMAP, every server line that names search hits and Dovecot's own timing of each command.
    Everything is time-stamped with time.monotonic() in this one thread, so "the probe
    landed" and "the server told the plugin which message is the probe" share one clock."""

    SEARCH_HIT = re.compile(rb"^\* SEARCH( \d+)+\s*$")
    TAGGED_OK = re.compile(rb"^(\S+) OK .*\((\d+\.\d+) \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)")

    def __init__(self):
        super().__init__(daemon=True)
        self.sel = selectors.DefaultSelector()
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.libc = libc
        self.ifd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.ifd < 0:
            raise BenchError("inotify_init1 failed: " + os.strerror(ctypes.get_errno()))
        self.sel.register(self.ifd, selectors.EVENT_READ, ("inotify", None))
        self.wds = {}
        self.wake_r, self.wake_w = os.pipe()
        self.sel.register(self.wake_r, selectors.EVENT_READ, ("wake", None))
        self.lock = threading.Lock()
        # (t, kind, key, detail): ("land", user, file name), ("conn", conn id, proxy name),
        # ("cmd", conn id, client line), ("hit", conn id, server line), ("took", conn id, (tag, secs))
        self.events = []
        self.stopping = False
        self.conn_seq = 0

    def add_proxy(self, name, upstream_port, imap):
        """Listens on a free local port and relays to 127.0.0.1:upstream_port; returns the port."""
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", 0))
        ls.listen(256)
        ls.setblocking(False)
        self.sel.register(ls, selectors.EVENT_READ, ("listen", (name, int(upstream_port), imap)))
        os.write(self.wake_w, b"x")
        return ls.getsockname()[1]

    def watch(self, path, label):
        wd = self.libc.inotify_add_watch(self.ifd, path.encode(), IN_CREATE | IN_MOVED_TO)
        if wd < 0:
            raise BenchError(f"inotify_add_watch {path}: " + os.strerror(ctypes.get_errno()))
        self.wds[wd] = label

    def mark(self):
        with self.lock:
            return len(self.events)

    def since(self, idx):
        with self.lock:
            return list(self.events[idx:])

    def stop(self):
        self.stopping = True
        os.write(self.wake_w, b"x")
        self.join(5)

    def _record(self, t, kind, key, detail):
        with self.lock:
            self.events.append((t, kind, key, detail))

    def run(self):
        while not self.stopping:
            for key, _ in self.sel.select():
                t = time.monotonic()
                kind, data = key.data
                if kind == "inotify":
                    self._inotify(t)
                elif kind == "listen":
                    self._accept(key.fileobj, data, t)
                elif kind == "wake":
                    os.read(self.wake_r, 64)
                elif kind in ("c2s", "s2c"):
                    self._pump(key.fileobj, data, kind == "c2s", t)
        for key in list(self.sel.get_map().values()):
            if key.data[0] in ("c2s", "s2c", "listen"):
                key.fileobj.close()

    def _inotify(self, t):
        try:
            buf = os.read(self.ifd, 65536)
        except BlockingIOError:
            return
        off = 0
        while off + _EVENT.size <= len(buf):
            wd, mask, _cookie, length = _EVENT.unpack_from(buf, off)
            name = buf[off + _EVENT.size:off + _EVENT.size + length].rstrip(b"\0").decode(errors="replace")
            off += _EVENT.size + length
            if wd in self.wds and mask & (IN_CREATE | IN_MOVED_TO):
                self._record(t, "land", self.wds[wd], name)

    def _accept(self, lsock, spec, t):
        name, port, imap = spec
        try:
            c, _ = lsock.accept()
        except BlockingIOError:
            return
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            c.close()
            return
        for sock in (c, s):
            sock.setblocking(True)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn_seq += 1
        conn = {"id": self.conn_seq, "c": c, "s": s, "cbuf": b"", "sbuf": b"", "imap": imap}
        self._record(t, "conn", conn["id"], name)
        self.sel.register(c, selectors.EVENT_READ, ("c2s", conn))
        self.sel.register(s, selectors.EVENT_READ, ("s2c", conn))

    def _pump(self, sock, conn, to_server, t):
        try:
            data = sock.recv(262144)
        except OSError:
            data = b""
        if not data:
            for x in (conn["c"], conn["s"]):
                try:
                    self.sel.unregister(x)
                except (KeyError, ValueError):
                    pass
                x.close()
            return
        try:
            (conn["s"] if to_server else conn["c"]).sendall(data)
        except OSError:
            pass
        if to_server:
            *lines, conn["cbuf"] = (conn["cbuf"] + data).split(b"\n")
            for line in lines:
                self._record(t, "cmd", conn["id"], line.rstrip(b"\r")[:80].decode(errors="replace"))
        elif conn["imap"]:
            *lines, conn["sbuf"] = (conn["sbuf"] + data).split(b"\n")
            for line in lines:
                line = line.rstrip(b"\r")
                if self.SEARCH_HIT.match(line):
                    self._record(t, "hit", conn["id"], line.decode(errors="replace"))
                else:
                    m = self.TAGGED_OK.match(line)
                    if m:
                        self._record(t, "took", conn["id"], (m.group(1).decode(), float(m.group(2))))
            if len(conn["sbuf"]) > 65536:
                conn["sbuf"] = conn["sbuf"][-65536:]


def imap_server_times(events):
    """Dovecot's own time per IMAP command class, from a relay's events of one run."""
    cmds = {}
    for _, kind, conn, detail in events:
        if kind == "cmd":
            parts = detail.split(" ", 1)
            if len(parts) == 2:
                cmds[(conn, parts[0])] = parts[1].upper()
    out = {"select": 0.0, "search_all": 0.0, "search_new": 0.0, "other": 0.0}
    for _, kind, conn, detail in events:
        if kind != "took":
            continue
        tag, secs = detail
        cmd = cmds.get((conn, tag), "")
        if cmd.startswith("SELECT") or cmd.startswith("EXAMINE"):
            out["select"] += secs
        elif cmd.startswith("UID SEARCH UID ") or cmd.startswith("SEARCH UID "):
            out["search_new"] += secs
        elif "SEARCH" in cmd.split(" ", 2)[:2]:
            out["search_all"] += secs
        else:
            out["other"] += secs
    return out


# --------------------------------------------------------------------------- statistics and formatting

def med(xs):
    return statistics.median(xs) if xs else None


def ms(v, digits=None):
    if v is None:
        return "n/a"
    v *= 1000.0
    if digits is None:
        digits = 1 if v < 1000 else 0
    return f"{v:.{digits}f}"


def mb(kb):
    return "n/a" if kb is None else f"{kb / 1024.0:.1f}"


def spread(xs, fmt):
    if not xs:
        return "n/a"
    return f"{fmt(med(xs))} ({fmt(min(xs))}–{fmt(max(xs))})"


def cnt(v):
    return f"{v:g}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    if r is None:
        return "n/a"
    return f"{r:.3f}" if r < 10 else f"{r:.1f}"


# --------------------------------------------------------------------------- the bench

class Bench:
    def __init__(self, args):
        self.a = args
        self.quick = args.quick
        self.failures = []
        self.sections = []  # markdown chunks
        self.targets = []  # (target, figure, met)
        self.stack = None
        self.held = False
        self.watcher = None
        self.state_dir = None
        self.costs = {}  # plugin label -> list of Run at -v 0 (for the per-check cost table)

    # ---------------------------------------------------------------- helpers
    def log(self, msg):
        print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    def fail(self, what, run=None, why=""):
        detail = why or (run.first_line() if run else "")
        if run is not None:
            detail += f" (exit {run.rc})"
        self.failures.append(f"{what}: {detail}")
        self.log(f"WRONG RESULT {what}: {detail}")

    def check(self, what, run, expect_rc=0, expect_re=None):
        good = run.rc == expect_rc and (expect_re is None or re.search(expect_re, run.first_line()))
        run.ok = bool(good)
        if not good:
            self.fail(what, run)
        return run.ok

    def env(self):
        e = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "LANG": "C",
             "MAILPROBE_STATE_DIR": self.state_dir, "HOME": self.state_dir}
        return e

    def ours(self, name):
        return os.path.join(self.bin_dir, name)

    def user_dir(self, user):
        return os.path.join(self.stack["MS_MAIL_ROOT"], user, "Maildir")

    def password(self, user):
        with open(self.stack["MS_PASS_FILE_" + user.upper()]) as f:
            return f.readline().strip()

    def pass_file(self, user):
        return self.stack["MS_PASS_FILE_" + user.upper()]

    def message_count(self, user):
        d = self.user_dir(user)
        return len(os.listdir(os.path.join(d, "new"))) + len(os.listdir(os.path.join(d, "cur")))

    def doveadm(self, *args):
        try:
            r = subprocess.run(["doveadm", "-c", self.stack["MS_DOVECOT_CONF"], *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            raise BenchError(f"doveadm {' '.join(args)} timed out") from None
        if r.returncode != 0:
            raise BenchError(f"doveadm {' '.join(args)} failed: {r.stderr.strip()}")

    def empty(self, user):
        self.doveadm("expunge", "-u", f"{user}@{DOMAIN}", "mailbox", "INBOX", "all")

    def wait_landed(self, user, count=1, timeout=15.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.message_count(user) >= count:
                return True
            time.sleep(0.001)
        return False

    def stack_cmd(self, *args, timeout=120):
        env = dict(os.environ, MS_PORT_BASE=str(self.a.port_base))
        r = subprocess.run(["bash", self.stack_sh, *args], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout)
        if r.returncode != 0:
            raise BenchError(f"mailstack.sh {' '.join(args)} failed:\n{r.stdout[-3000:]}")
        return r.stdout

    def hold(self):
        self.held = True
        self.stack_cmd("hold", self.a.stack_dir)

    def release(self):
        self.stack_cmd("release", self.a.stack_dir)
        self.held = False

    # ---------------------------------------------------------------- setup
    def find_bin_dir(self):
        cands = [self.a.bin_dir] if self.a.bin_dir else [
            os.environ.get("MAILPROBE_BIN_DIR", ""), "/tmp/build-bench/plugins",
            os.path.join(REPO, "build", "plugins"), os.path.join(REPO, "build-test", "plugins")]
        for d in cands:
            if d and all(os.access(os.path.join(d, p), os.X_OK) for p in OUR_PLUGINS):
                return os.path.abspath(d)
        raise BenchError("our plugins not found; build them and pass --bin-dir DIR "
                         f"(looked in: {', '.join(c for c in cands if c)})")

    def peers_present(self):
        files = ["check_email_delivery", "check_mail_send", "check_imap_receive", "check_smtp"]
        if not all(os.access(os.path.join(PEER_DIR, f), os.X_OK) for f in files):
            return False
        return subprocess.run(["perl", "-MMail::IMAPClient", "-MNet::SMTP", "-e", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0

    def install_peers(self):
        if self.peers_present():
            return
        if self.a.no_install:
            raise BenchError("peers missing and --no-install given: apt-get install " + " ".join(PEER_PACKAGES))
        self.log("installing the peers: " + " ".join(PEER_PACKAGES))
        cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300",
               *PEER_PACKAGES]
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                raise BenchError("could not install the peers:\n" + r.stdout[-2000:])
        if not self.peers_present():
            raise BenchError("peers still missing after installing " + " ".join(PEER_PACKAGES))

    def start_stack(self):
        self.log(f"starting the mail stack in {self.a.stack_dir} (ports {self.a.port_base}+)")
        self.stack_started = True
        self.stack_cmd("start", self.a.stack_dir)
        env = {}
        with open(os.path.join(self.a.stack_dir, "stack.env")) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    k, v = line.split("=", 1)
                    env[k] = v.strip('"')
        self.stack = env

    def stop_stack(self):
        if getattr(self, "stack_started", False):
            self.log("stopping the mail stack")
            try:
                self.stack_cmd("stop", self.a.stack_dir)
            except Exception as e:  # noqa: BLE001 - best effort on the way out
                self.log(f"stack stop failed: {e}")
                return
            if os.path.exists(os.path.join(self.a.stack_dir, ".mailstack")):
                shutil.rmtree(self.a.stack_dir, ignore_errors=True)  # up to 100k messages

    # ---------------------------------------------------------------- command lines
    def cmd_roundtrip(self, user, extra=(), port=None, proto="imap", probe_name=None):
        port = port or (self.stack["MS_IMAP_PORT"] if proto == "imap" else self.stack["MS_POP3_PORT"])
        cmd = [self.ours("check_mail_roundtrip"), "-H", "127.0.0.1", "-p", self.stack["MS_SMTP_PORT"],
               "--to", f"{user}@{DOMAIN}", "--mailbox", f"{proto}://{user}@{DOMAIN}@127.0.0.1:{port}",
               "--mailbox-password-file", self.pass_file(user)]
        if probe_name:
            cmd += ["--probe-name", probe_name]
        return cmd + list(extra)

    # fastest working options of check_email_delivery (see README): --wait 0 would mean the
    # 5 s default, --wait 0.001 is truncated to sleep(0) by Perl; --imap-check-interval 0
    # makes check_imap_receive search in a tight loop.
    PEER_FAST = ["--wait", "0.001", "--imap-check-interval", "0", "--imap-retries", "100000"]
    PEER_1S = ["--wait", "1", "--imap-check-interval", "1", "--imap-retries", "30"]

    def cmd_peer_delivery(self, user, opts, imap_port=None):
        return [os.path.join(PEER_DIR, "check_email_delivery"), "-H", "127.0.0.1",
                "--smtp-port", self.stack["MS_SMTP_PORT"], "--imap-port", str(imap_port or self.stack["MS_IMAP_PORT"]),
                "--mailto", f"{user}@{DOMAIN}", "--mailfrom", f"bench@{DOMAIN}",
                "-U", f"{user}@{DOMAIN}", "-P", self.password(user), *opts]

    # ---------------------------------------------------------------- pairs
    def alternate(self, configs, runs, before=None, after=None):
        """configs: list of (label, argv-factory, expect_re). Runs A B C A B C ..."""
        results = {label: [] for label, _, _ in configs}
        warmup = 1  # one unrecorded (but checked) round first: Dovecot index files, page cache
        for i in range(warmup + runs):
            for label, make, expect in configs:
                if before:
                    before(label)
                r = run_cmd(make(), self.env(), timeout=90)
                self.check(f"{label} ({'warm-up' if i < warmup else f'run {i + 1 - warmup}'})", r, 0, expect)
                if after:
                    after(label, r)
                if i >= warmup:
                    results[label].append(r)
        return results

    def pair_table(self, title, intro, rows, pairs, cost_labels=()):
        """rows: list of (label, options text, [Run]); pairs: list of (ours label, peer label)."""
        by = {label: runs for label, _, runs in rows}
        out = [f"## {title}", "", intro, "",
               "| plugin | options | runs OK | wall ms | CPU ms | peak RSS MB |",
               "|---|---|---|---|---|---|"]
        for label, opts, runs in rows:
            walls = [r.wall for r in runs]
            cpus = [r.cpu for r in runs]
            rss = [r.rss_kb for r in runs]
            ok = sum(1 for r in runs if r.ok)
            out.append(f"| {label} | {opts} | {ok}/{len(runs)} | {spread(walls, ms)} | {spread(cpus, ms)} | "
                       f"{spread(rss, mb)} |")
        out += ["", "| ratio (medians) | wall | CPU | peak RSS |", "|---|---|---|---|"]
        ratios = {}
        for o, p in pairs:
            ro = [by[o], by[p]]
            rw = ratio(med([r.wall for r in ro[0]]), med([r.wall for r in ro[1]]))
            rc = ratio(med([r.cpu for r in ro[0]]), med([r.cpu for r in ro[1]]))
            rr = ratio(med([r.rss_kb for r in ro[0]]), med([r.rss_kb for r in ro[1]]))
            ratios[(o, p)] = (rw, rc, rr)
            out.append(f"| {o} / {p} | {fmt_ratio(rw)} | {fmt_ratio(rc)} | {fmt_ratio(rr)} |")
        for label in cost_labels:
            self.costs.setdefault(label, []).extend(by[label])
        self.sections.append("\n".join(out))
        return ratios

    def bench_roundtrip(self):
        self.log("round trip SMTP -> IMAP: ours vs check_email_delivery")
        ours_u, peer_u = "t01", "t02"
        cfg = [
            ("check_mail_roundtrip", lambda: self.cmd_roundtrip(ours_u), r"^MAIL ROUNDTRIP OK"),
            ("check_email_delivery (fastest)", lambda: self.cmd_peer_delivery(peer_u, self.PEER_FAST),
             r"^EMAIL DELIVERY OK"),
            ("check_email_delivery (1 s)", lambda: self.cmd_peer_delivery(peer_u, self.PEER_1S),
             r"^EMAIL DELIVERY OK"),
        ]

        def before(label):
            if label.startswith("check_email_delivery"):
                self.empty(peer_u)  # it keeps the newest probe: would be found at once next time

        def after(label, r):
            if label == "check_mail_roundtrip" and r.ok and self.message_count(ours_u) != 0:
                r.ok = False
                self.fail("check_mail_roundtrip left mail behind", why=f"{self.message_count(ours_u)} messages")

        res = self.alternate(cfg, self.runs, before, after)
        rows = [("check_mail_roundtrip", "defaults (IMAP IDLE after quick looks)", res[cfg[0][0]]),
                ("check_email_delivery (fastest)", " ".join(self.PEER_FAST), res[cfg[1][0]]),
                ("check_email_delivery (1 s)", " ".join(self.PEER_1S), res[cfg[2][0]])]
        ratios = self.pair_table(
            "1. Round trip SMTP -> IMAP",
            "Send a probe through Postfix (port 25), find it over IMAP (port 143), delete it. "
            "The peer runs its check_mail_send and check_imap_receive as child processes; "
            "its CPU includes them, its peak RSS is the largest of them.",
            rows, [("check_mail_roundtrip", "check_email_delivery (fastest)"),
                   ("check_mail_roundtrip", "check_email_delivery (1 s)")],
            cost_labels=["check_mail_roundtrip", "check_email_delivery (fastest)"])
        rw, rc, rr = ratios[("check_mail_roundtrip", "check_email_delivery (fastest)")]
        rw1 = ratios[("check_mail_roundtrip", "check_email_delivery (1 s)")][0]
        self.targets.append(("Round-trip wall time <= 1/5 of the peer's",
                             f"{fmt_ratio(rw)} vs fastest peer options ({fmt_ratio(rw1)} vs 1 s options)",
                             rw is not None and rw <= 0.2))
        self.targets.append(("CPU per round trip <= 1/10 of the peer's", f"{fmt_ratio(rc)}",
                             rc is not None and rc <= 0.1))
        self.targets.append(("Peak RSS <= 1/4 of the peer's", f"{fmt_ratio(rr)}", rr is not None and rr <= 0.25))

    def bench_smtp(self):
        self.log("SMTP only: check_mail_send vs peer check_mail_send vs check_smtp")
        u = "t05"
        port = self.stack["MS_SMTP_PORT"]
        cfg = [
            ("check_mail_send (ours)", lambda: [self.ours("check_mail_send"), "-H", "127.0.0.1", "-p", port,
                                                "--to", f"{u}@{DOMAIN}"], r"^MAIL SEND OK"),
            ("check_mail_send (contrib)", lambda: [os.path.join(PEER_DIR, "check_mail_send"), "-H", "127.0.0.1",
                                                   "-p", port, "--mailto", f"{u}@{DOMAIN}",
                                                   "--mailfrom", f"bench@{DOMAIN}", "--header",
                                                   "Subject: bench", "--body", "bench"], r"^MAIL SEND OK"),
            ("check_smtp", lambda: [os.path.join(PEER_DIR, "check_smtp"), "-H", "127.0.0.1", "-p", port],
             r"^SMTP OK"),
        ]
        res = self.alternate(cfg, self.runs)
        self.empty(u)
        for i in range(self.runs):  # start-up floor: load, parse options, print the version, exit
            r = run_cmd([self.ours("check_mail_send"), "--version"], self.env())
            r.ok = bool(re.search(r"\d+\.\d+", r.out))
            if not r.ok:
                self.fail("check_mail_send --version", r)
            self.costs.setdefault("check_mail_send --version (start-up only)", []).append(r)
        rows = [(cfg[0][0], "send a probe", res[cfg[0][0]]),
                (cfg[1][0], "send a message", res[cfg[1][0]]),
                (cfg[2][0], "connect, EHLO, QUIT (no message)", res[cfg[2][0]])]
        self.pair_table(
            "2. SMTP only",
            "Submit one message to Postfix on port 25 (check_smtp only connects and says EHLO: "
            "it sends no message, so it does less work than the other two).",
            rows, [(cfg[0][0], cfg[1][0]), (cfg[0][0], cfg[2][0])], cost_labels=[cfg[0][0]])

    def bench_mailbox(self):
        self.log("mailbox only: check_mailbox_receive vs check_imap_receive")
        ou, pu = "t03", "t04"
        smtp = self.stack["MS_SMTP_PORT"]
        imap = self.stack["MS_IMAP_PORT"]
        token = {}

        def before(label):
            if label == "check_mailbox_receive":
                r = run_cmd([self.ours("check_mail_send"), "-H", "127.0.0.1", "-p", smtp, "--to", f"{ou}@{DOMAIN}",
                             "--probe-name", "bench-mailbox"], self.env())
                self.check("check_mail_send (setup for check_mailbox_receive)", r, 0, r"^MAIL SEND OK")
                if not self.wait_landed(ou):
                    self.fail("setup", why=f"probe for {ou} did not land")
            else:
                token["t"] = f"bench-{os.getpid()}-{time.monotonic_ns()}"
                r = run_cmd([os.path.join(PEER_DIR, "check_mail_send"), "-H", "127.0.0.1", "-p", smtp,
                             "--mailto", f"{pu}@{DOMAIN}", "--mailfrom", f"bench@{DOMAIN}",
                             "--header", f"Subject: {token['t']}", "--body", "bench"], self.env())
                self.check("check_mail_send contrib (setup for check_imap_receive)", r, 0, r"^MAIL SEND OK")
                if not self.wait_landed(pu):
                    self.fail("setup", why=f"message for {pu} did not land")

        def after(label, r):
            u = ou if label == "check_mailbox_receive" else pu
            if r.ok and self.message_count(u) != 0:
                r.ok = False
                self.fail(f"{label} did not delete the message", why=f"{self.message_count(u)} left")

        cfg = [
            ("check_mailbox_receive", lambda: [self.ours("check_mailbox_receive"), "--mailbox",
                                               f"imap://{ou}@{DOMAIN}@127.0.0.1:{imap}", "--mailbox-password-file",
                                               self.pass_file(ou), "--probe-name", "bench-mailbox"],
             r"^MAILBOX RECEIVE OK.* 1 found"),
            ("check_imap_receive", lambda: [os.path.join(PEER_DIR, "check_imap_receive"), "-H", "127.0.0.1",
                                            "-p", imap, "-U", f"{pu}@{DOMAIN}", "-P", self.password(pu),
                                            "-s", "SUBJECT", "-s", token["t"]], r"^IMAP RECEIVE OK.* 1 found"),
        ]
        res = self.alternate(cfg, self.runs, before, after)
        rows = [(cfg[0][0], "find the probe (HMAC-verified), delete it", res[cfg[0][0]]),
                (cfg[1][0], "-s SUBJECT -s TOKEN (finds, deletes)", res[cfg[1][0]])]
        self.pair_table(
            "3. Mailbox only",
            "The message is already in the mailbox (sent and landed before the timer starts); "
            "log in over IMAP, find it, delete it.",
            rows, [(cfg[0][0], cfg[1][0])], cost_labels=[cfg[0][0], cfg[1][0]])

    # ---------------------------------------------------------------- detection latency
    def bench_detection(self):
        self.log("detection latency (inotify on Maildir new/ vs the IMAP reply naming the probe)")
        w = self.watcher
        port = self.imap_relay
        variants = [
            ("check_mail_roundtrip (IDLE)", "t06", lambda u: self.cmd_roundtrip(u, port=port),
             r"^MAIL ROUNDTRIP OK"),
            ("check_mail_roundtrip (polling 0.05 s)", "t07",
             lambda u: self.cmd_roundtrip(u, ["--no-idle", "--poll-interval", "0.05"], port=port),
             r"^MAIL ROUNDTRIP OK"),
            ("check_email_delivery (fastest)", "t08", lambda u: self.cmd_peer_delivery(u, self.PEER_FAST, port),
             r"^EMAIL DELIVERY OK"),
            ("check_email_delivery (1 s)", "t09", lambda u: self.cmd_peer_delivery(u, self.PEER_1S, port),
             r"^EMAIL DELIVERY OK"),
        ]
        for _, u, _, _ in variants:
            w.watch(os.path.join(self.user_dir(u), "new"), u)
        scenarios = [("immediate delivery", False),
                     (f"held in the queue, released {self.a.hold_seconds:g} s after the start", True)]
        lat = {(s, v[0]): [] for s, _ in scenarios for v in variants}
        for sname, held in scenarios:
            runs = self.runs if not held else self.held_runs
            for i in range(runs):
                for label, u, make, expect in variants:
                    self.empty(u)
                    if held:
                        self.hold()
                    idx = w.mark()
                    bg = Background(make(u), self.env(), timeout=90)
                    bg.start()
                    if held:
                        time.sleep(self.a.hold_seconds)
                        self.release()
                    bg.join()
                    if bg.error:
                        raise bg.error
                    r = bg.result
                    what = f"{label} [{sname}] (run {i + 1})"
                    self.check(what, r, 0, expect)
                    ev = w.since(idx)
                    land = next((t for t, k, key, _ in ev if k == "land" and key == u), None)
                    hit = next((t for t, k, _, _ in ev if k == "hit" and land is not None and t >= land), None)
                    if land is None or hit is None:
                        self.fail(what, why=f"could not time detection (landed={land is not None}, "
                                  f"reported={hit is not None})")
                        continue
                    lat[(sname, label)].append(hit - land)
        out = ["## 4. Detection latency", "",
               "From the probe landing in Maildir `new/` (inotify, in the bench) to the IMAP server's reply "
               "that names it (`* SEARCH n`, time-stamped by a relay the bench puts between the plugin and "
               "Dovecot). Both stamps come from one thread and one clock. This is the moment the plugin "
               "learns the probe is there; what it does next (fetch, verify, delete, report) is in the wall "
               "times above. \"Held\": Postfix defers delivery (`mailstack.sh hold`); "
               f"{self.a.hold_seconds:g} s after the plugin started the bench runs `mailstack.sh release` "
               "(a Postfix reload, then a queue flush), so the probe lands 2–3 s after the start, when the "
               "plugin is long past its quick looks and waiting (IDLE or polling).", "",
               "| scenario | plugin | runs | latency ms median (min–max) |", "|---|---|---|---|"]
        for sname, held in scenarios:
            for label, _, _, _ in variants:
                xs = lat[(sname, label)]
                out.append(f"| {sname} | {label} | {len(xs)} | {spread(xs, ms)} |")
        self.sections.append("\n".join(out))
        idle = med(lat[(scenarios[0][0], variants[0][0])])
        held_idle = med(lat[(scenarios[1][0], variants[0][0])])
        yes_no = {True: "yes", False: "**no**"}
        self.targets.append(("Detection latency < 50 ms median with IDLE",
                             f"{ms(idle)} ms with immediate delivery (found by the quick looks); "
                             f"{ms(held_idle)} ms when the probe lands while the plugin sits in IDLE",
                             f"{yes_no[idle is not None and idle < 0.050]} (immediate delivery); "
                             f"{yes_no[held_idle is not None and held_idle < 0.050]} (in IDLE)"))

    # ---------------------------------------------------------------- scaling
    def fill(self, user, start, count):
        """Writes `count` ordinary messages straight into Maildir cur/ (owned by the mail user)."""
        cur = os.path.join(self.user_dir(user), "cur")
        owner = os.stat(cur)  # the mail user the stack's Dovecot runs as
        base = int(time.time()) - 86400
        pid = os.getpid()
        for i in range(start, start + count):
            date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(base + i))
            body = (f"Return-Path: <sender{i % 97}@example.net>\n"
                    f"Delivered-To: {user}@{DOMAIN}\n"
                    f"Received: from mail.example.net (mail.example.net [192.0.2.{i % 250 + 1}])\n"
                    f"\tby mx.{DOMAIN} (Postfix) with ESMTP id {i:010X}; {date}\n"
                    f"From: Sender {i % 97} <sender{i % 97}@example.net>\n"
                    f"To: {user}@{DOMAIN}\n"
                    f"Subject: Newsletter number {i}\n"
                    f"Date: {date}\n"
                    f"Message-ID: <bench-{i}@example.net>\n"
                    "MIME-Version: 1.0\n"
                    "Content-Type: text/plain; charset=us-ascii\n"
                    "\n"
                    + "".join(f"Line {k} of message {i}: nothing to see here, just filling the mailbox.\n"
                              for k in range(6)))
            data = body.encode()
            vsize = len(data) + data.count(b"\n")
            name = f"{base + i}.M{i}P{pid}.bench,S={len(data)},W={vsize}:2,S"
            fd = os.open(os.path.join(cur, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, data)
                os.fchown(fd, owner.st_uid, owner.st_gid)
            finally:
                os.close(fd)

    def bench_scaling(self):
        self.log("scaling: finding the probe in a big mailbox (IMAP and POP3)")
        u = "t10"
        rows = []
        setup = []
        have = 0
        w = self.watcher
        for size in self.sizes:
            t0 = time.monotonic()
            self.fill(u, have, size - have)
            have = size
            t_fill = time.monotonic() - t0
            t0 = time.monotonic()
            self.doveadm("index", "-u", f"{u}@{DOMAIN}", "INBOX")
            t_index = time.monotonic() - t0
            setup.append((size, t_fill, t_index))
            self.log(f"  {size} messages: written in {t_fill:.1f} s, indexed in {t_index:.1f} s")
            for proto in ("imap", "pop3"):
                relay = self.imap_relay if proto == "imap" else self.pop3_relay
                timed, counted = [], []
                for i in range(self.scaling_runs):
                    # A: direct, timed at -v 0
                    r = run_cmd(self.cmd_roundtrip(u, proto=proto), self.env(), timeout=120)
                    self.check(f"check_mail_roundtrip {proto} with {size} messages (run {i + 1})", r, 0,
                               r"^MAIL ROUNDTRIP OK")
                    timed.append(r)
                    # B: through the bench's relay, which counts commands and keeps Dovecot's timings
                    idx = w.mark()
                    r = run_cmd(self.cmd_roundtrip(u, proto=proto, port=relay), self.env(), timeout=120)
                    self.check(f"check_mail_roundtrip {proto} via relay with {size} messages (run {i + 1})", r, 0,
                               r"^MAIL ROUNDTRIP OK")
                    ev = w.since(idx)
                    counted.append({
                        "cmds": sum(1 for e in ev if e[1] == "cmd"),
                        "conns": sum(1 for e in ev if e[1] == "conn"),
                        "server": imap_server_times(ev) if proto == "imap" else None})
                if self.message_count(u) != size:
                    self.fail(f"scaling {proto} {size}", why=f"mailbox has {self.message_count(u)} messages, "
                              f"expected {size} (probe not deleted, or other mail touched)")
                rows.append((size, proto, timed, counted))
        out = ["## 5. Scaling: finding the probe in a big mailbox (ours)", "",
               "check_mail_roundtrip (defaults) against one mailbox that also holds N other messages "
               "(written into Maildir `cur/`, then `doveadm index`). Per size and protocol: "
               f"{self.scaling_runs} timed runs at -v 0 alternating with {self.scaling_runs} runs through the bench's "
               "relay, which counts the client's commands (round trips) and connections and reads Dovecot's own "
               "time for each IMAP command from its tagged replies. `search` is the plugin's `mailbox_search` "
               "figure (the search that found the probe, including the Maildir sync Dovecot does for the new "
               "message). Dovecot columns: `SELECT`; `all` = searches over the whole mailbox (the stale-probe "
               "look-up); `new` = searches limited to the new UIDs (`UID n:*`), summed over the run; `rest` = "
               "everything else (FETCH, STORE, EXPUNGE, ...).", "",
               "| messages | protocol | runs OK | wall ms | search ms | commands | connections | "
               "Dovecot SELECT ms | Dovecot all ms | Dovecot new ms | Dovecot rest ms |",
               "|---|---|---|---|---|---|---|---|---|---|---|"]
        for size, proto, timed, counted in rows:
            ok = sum(1 for r in timed if r.ok)
            search = [r.perf("mailbox_search") for r in timed if r.perf("mailbox_search") is not None]
            cmds = [c["cmds"] for c in counted]
            conns = [c["conns"] for c in counted]
            line = (f"| {size} | {proto.upper()} | {ok}/{len(timed)} | {spread([r.wall for r in timed], ms)} | "
                    f"{spread(search, lambda v: ms(v, 2))} | {spread(cmds, cnt)} | {spread(conns, cnt)} |")
            if proto == "imap":
                for k in ("select", "search_all", "search_new", "other"):
                    line += f" {spread([c['server'][k] for c in counted], ms)} |"
            else:
                line += " – | – | – | – |"
            out.append(line)
        out += ["", "Set-up (not timed above): " + "; ".join(
            f"{s} messages in place after {tf:.1f} s of writing and {ti:.1f} s of `doveadm index`"
            for s, tf, ti in setup) + "."]
        self.sections.append("\n".join(out))
        imap = {size: (timed, counted) for size, proto, timed, counted in rows if proto == "imap"}
        lo, hi = min(imap), max(imap)

        def search_med(size):
            return med([r.perf("mailbox_search") for r in imap[size][0] if r.perf("mailbox_search") is not None])

        def cmd_med(size):
            return med([c["cmds"] for c in imap[size][1]])

        def server_med(size, key):
            return med([c["server"][key] for c in imap[size][1]])

        rs = ratio(search_med(hi), search_med(lo))
        rwall = ratio(med([r.wall for r in imap[hi][0]]), med([r.wall for r in imap[lo][0]]))
        self.targets.append((f"IMAP search cost flat from {lo} to {hi} messages (within 2x)",
                             f"mailbox_search {ms(search_med(lo), 2)} -> {ms(search_med(hi), 2)} ms "
                             f"(x{fmt_ratio(rs)}); whole run x{fmt_ratio(rwall)}; IMAP commands "
                             f"{cmd_med(lo):g} -> {cmd_med(hi):g}; Dovecot's time for the new-UID searches "
                             f"{ms(server_med(lo, 'search_new'))} -> {ms(server_med(hi, 'search_new'))} ms, "
                             f"for the whole-mailbox search {ms(server_med(lo, 'search_all'))} -> "
                             f"{ms(server_med(hi, 'search_all'))} ms",
                             rs is not None and rs <= 2.0))

    # ---------------------------------------------------------------- load
    def bench_load(self):
        n = self.concurrent
        self.log(f"load: {n} concurrent round trips against one mailbox")
        u = "t20"
        self.empty(u)
        threads = [Background(self.cmd_roundtrip(u, probe_name=f"bench-load-{i:03d}"), self.env(), timeout=120)
                   for i in range(n)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        runs = []
        for i, t in enumerate(threads):
            if t.error:
                raise t.error
            self.check(f"load check {i + 1}/{n}", t.result, 0, r"^MAIL ROUNDTRIP OK")
            runs.append(t.result)
        left = self.message_count(u)
        if left:
            self.fail("load", why=f"{left} messages left in the mailbox after {n} round trips")
        ok = sum(1 for r in runs if r.ok)
        cpu = sum(r.cpu for r in runs)
        stuck = sum(1 for r in runs if r.wall >= 0.9 * DEFAULT_WAIT)
        out = [f"## 6. Load: {n} concurrent round trips, one mailbox", "",
               f"{n} check_mail_roundtrip processes started at once (defaults, distinct `--probe-name`, same "
               "mailbox). Wall: first start to last exit. CPU: all plugin processes together (the mail "
               "servers' CPU is not included). `ran to --wait`: checks that took at least "
               f"{0.9 * DEFAULT_WAIT:g} s, i.e. only found their probe when the {DEFAULT_WAIT} s `--wait` "
               "ran out.", "",
               "| checks | all OK | left in mailbox | total wall s | total CPU s | CPU per check ms | "
               "per-check wall s | ran to --wait | peak RSS MB (largest) |",
               "|---|---|---|---|---|---|---|---|---|",
               f"| {n} | {'yes' if ok == n and not left else f'NO ({ok}/{n})'} | {left} | {wall:.2f} | {cpu:.3f} | "
               f"{ms(cpu / n)} | {spread([r.wall for r in runs], lambda v: f'{v:.2f}')} | {stuck} | "
               f"{mb(max(r.rss_kb for r in runs))} |"]
        self.sections.append("\n".join(out))

    # ---------------------------------------------------------------- cost per check
    def cost_table(self):
        out = ["## 7. Cost per check at -v 0", "",
               "CPU (user+sys) and peak RSS per run, from the runs above (all at the default verbosity).", "",
               "| plugin | runs | CPU ms median (min–max) | peak RSS MB median (min–max) |", "|---|---|---|---|"]
        for label, runs in self.costs.items():
            out.append(f"| {label} | {len(runs)} | {spread([r.cpu for r in runs], ms)} | "
                       f"{spread([r.rss_kb for r in runs], mb)} |")
        self.sections.append("\n".join(out))

    # ---------------------------------------------------------------- report
    def header(self):
        def ver(cmd):
            try:
                return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                      timeout=10).stdout.strip().splitlines()[0]
            except Exception:  # noqa: BLE001 - informational only
                return "?"
        pk = ver(["dpkg-query", "-W", "-f", "${Version}", "monitoring-plugins-contrib"])
        ps = ver(["dpkg-query", "-W", "-f", "${Version}", "monitoring-plugins-standard"])
        pf = ver(["dpkg-query", "-W", "-f", "${Version}", "postfix"])
        dv = ver(["dpkg-query", "-W", "-f", "${Version}", "dovecot-core"])
        rev = ver(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
        build = "?"
        try:
            with open(os.path.join(os.path.dirname(self.bin_dir), "CMakeCache.txt")) as f:
                build = next((ln.split("=", 1)[1].strip() for ln in f if ln.startswith("CMAKE_BUILD_TYPE:")), "?")
        except OSError:
            pass
        cpu = "?"
        try:
            with open("/proc/cpuinfo") as f:
                cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
        except OSError:
            pass
        mode = "quick" if self.quick else "full"
        return "\n".join([
            f"# mailprobe benchmark ({mode} mode)", "",
            f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; "
            f"{os.cpu_count()} CPUs ({cpu}), load average {os.getloadavg()[0]:.2f} at start "
            f"(shared machine: the ratios, from alternating runs, are the figures that count); "
            f"Linux {platform.release()}; Postfix {pf}, Dovecot {dv} on 127.0.0.1, plain text (no TLS).",
            f"Ours: {self.bin_dir} ({build} build; source tree at {rev}); peers: monitoring-plugins-contrib {pk}, "
            f"monitoring-plugins-standard {ps}.",
            f"{self.runs} run(s) per plugin after one unrecorded warm-up round, alternating; "
            "figures are median (min–max); "
            "wall = spawn to exit, CPU = user+sys of the plugin and its child processes, "
            "peak RSS = largest resident set among them.",
        ])

    def report(self, started):
        parts = [self.header(), *self.sections]
        if self.targets:
            t = ["## Targets", "", "| target | figure | met |", "|---|---|---|"]
            for name, fig, met in self.targets:
                if isinstance(met, bool):
                    met = "yes" if met else "**no**"
                t.append(f"| {name} | {fig} | {met} |")
            parts.append("\n".join(t))
        tail = f"Bench run took {time.monotonic() - started:.0f} s. "
        tail += ("All plugin results were correct." if not self.failures else
                 f"**{len(self.failures)} wrong result(s):**\n\n" + "\n".join(f"- {f}" for f in self.failures))
        parts.append(tail)
        return "\n\n".join(parts) + "\n"

    # ---------------------------------------------------------------- main
    def main(self):
        started = time.monotonic()
        a = self.a
        self.runs = a.runs or (1 if self.quick else 10)
        self.held_runs = a.held_runs or (1 if self.quick else self.runs)
        self.scaling_runs = a.scaling_runs or (1 if self.quick else 5)
        self.sizes = a.sizes or ([100, 1000] if self.quick else [1000, 10000, 100000])
        self.concurrent = a.concurrent or (10 if self.quick else 100)
        if os.geteuid() != 0:
            print("bench: skipped: must run as root (the mail stack runs Postfix)", file=sys.stderr)
            return 77
        self.bin_dir = self.find_bin_dir()
        self.log(f"our plugins: {self.bin_dir}")
        self.install_peers()
        self.state_dir = tempfile.mkdtemp(prefix="mpbench-state-")
        os.chmod(self.state_dir, 0o700)
        try:
            build_rusage_helper(self.state_dir)
            # run a private copy of the stack scripts: others may edit tests/stack while we run
            snap = os.path.join(self.state_dir, "stack")
            shutil.copytree(os.path.dirname(STACK_SH), snap)
            self.stack_sh = os.path.join(snap, os.path.basename(STACK_SH))
            self.start_stack()
            self.watcher = Watcher()
            self.watcher.start()
            self.imap_relay = self.watcher.add_proxy("imap", self.stack["MS_IMAP_PORT"], imap=True)
            self.pop3_relay = self.watcher.add_proxy("pop3", self.stack["MS_POP3_PORT"], imap=False)
            only = set(a.only.split(",")) if a.only else None
            steps = [("roundtrip", self.bench_roundtrip), ("smtp", self.bench_smtp), ("mailbox", self.bench_mailbox),
                     ("detection", self.bench_detection), ("scaling", self.bench_scaling), ("load", self.bench_load)]
            for name, fn in steps:
                if only is None or name in only:
                    fn()
            if self.costs:
                self.cost_table()
        finally:
            kill_active()
            if self.held:
                try:
                    self.release()
                except Exception as e:  # noqa: BLE001
                    self.log(f"release failed: {e}")
            if self.watcher:
                self.watcher.stop()
            self.stop_stack()
            shutil.rmtree(self.state_dir, ignore_errors=True)
        text = self.report(started)
        print(text)
        if a.output != "-":
            with open(a.output, "w") as f:
                f.write(text)
            self.log(f"table written to {a.output}")
        if a.update_readme:
            update_readme(text)
            self.log(f"table pasted into {README}")
        return 1 if self.failures else 0


README = os.path.join(HERE, "README.md")
BEGIN, END = "<!-- RESULTS BEGIN -->", "<!-- RESULTS END -->"


def update_readme(text):
    """Pastes the printed tables, unchanged, between the markers of bench/README.md."""
    with open(README) as f:
        doc = f.read()
    a, b = doc.find(BEGIN), doc.find(END)
    if a < 0 or b < a:
        raise BenchError(f"{README}: markers {BEGIN} / {END} not found")
    with open(README, "w") as f:
        f.write(doc[:a + len(BEGIN)] + "\n" + text.rstrip("\n") + "\n" + doc[b:])


def _sigterm(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main():
    p = argparse.ArgumentParser(description="mailprobe vs the peers on one real mail stack")
    p.add_argument("--quick", action="store_true", help="1 run each, small sizes, 10 concurrent (CI)")
    p.add_argument("--bin-dir", help="directory with our built plugins (default: MAILPROBE_BIN_DIR, "
                                     "/tmp/build-bench/plugins, build/plugins, build-test/plugins)")
    p.add_argument("--port-base", type=int, default=26000, help="MS_PORT_BASE of the stack (default 26000)")
    p.add_argument("--stack-dir", help="stack directory (default /tmp/mpbench-PORTBASE)")
    p.add_argument("--output", help="where to write the tables ('-': nowhere; default bench/RESULTS.md, "
                                    "bench/RESULTS-quick.md with --quick)")
    p.add_argument("--runs", type=int, help="runs per plugin (default 10, quick 1)")
    p.add_argument("--held-runs", type=int, help="runs per plugin with held delivery (default: --runs)")
    p.add_argument("--scaling-runs", type=int, help="runs per size and protocol (default 5, quick 1)")
    p.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                   help="mailbox sizes, ascending (default 1000,10000,100000; quick 100,1000)")
    p.add_argument("--concurrent", type=int, help="concurrent round trips (default 100, quick 10)")
    p.add_argument("--hold-seconds", type=float, default=1.0,
                   help="held-delivery scenario: release the queue this long after the plugin starts")
    p.add_argument("--only", help="comma-separated sections: roundtrip,smtp,mailbox,detection,scaling,load")
    p.add_argument("--no-install", action="store_true", help="never run apt-get")
    p.add_argument("--update-readme", action="store_true",
                   help="also paste the tables into bench/README.md (between its RESULTS markers)")
    a = p.parse_args()
    if a.stack_dir is None:
        a.stack_dir = f"/tmp/mpbench-{a.port_base}"
    if a.output is None:
        a.output = os.path.join(HERE, "RESULTS-quick.md" if a.quick else "RESULTS.md")
    if a.update_readme and (a.quick or a.only):
        p.error("--update-readme publishes full-mode results only (no --quick, no --only)")
    if a.sizes and a.sizes != sorted(a.sizes):
        p.error("--sizes must be ascending")
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    signal.signal(signal.SIGTERM, _sigterm)
    signal.signal(signal.SIGHUP, _sigterm)
    sys.setswitchinterval(0.0005)
    try:
        return Bench(a).main()
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; the stack was stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
