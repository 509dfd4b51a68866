"""bench: where things are, and running a plugin with its CPU time and peak memory."""

import os
import re
import shutil
import signal
import subprocess
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
