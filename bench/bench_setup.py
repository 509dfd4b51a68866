"""bench: the bench's state, the mail stack, the peers, command lines, paired runs."""

import os
import re
import shutil
import subprocess
import sys
import time

from bench_runs import DOMAIN, OUR_PLUGINS, PEER_DIR, PEER_PACKAGES, REPO, BenchError, run_cmd
from bench_stats import fmt_ratio, mb, med, ms, ratio, spread


class BenchBase:
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
        files = ["check_email_delivery", "check_smtp_send", "check_imap_receive", "check_smtp"]
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
