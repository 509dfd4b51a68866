#!/usr/bin/python3
"""mailprobe benchmark: our plugins side by side with the peers on one real mail stack.

    /usr/bin/python3 bench/run.py            # full mode (10 runs per plugin, 1k/10k/100k, 100 concurrent)
    /usr/bin/python3 bench/run.py --quick    # 1 run each, small sizes, 10 concurrent (CI smoke run)

Starts its own Postfix + Dovecot stack (tests/stack/mailstack.sh) and always stops it,
uses the peers scripts/install-deps.sh installs (or installs them, unless --no-install), runs
ours and the peers alternately (A B A B ...), prints Markdown tables and writes them to a file (see --output). Exits
non-zero when any plugin (ours or a peer) gives a wrong result. Needs root. Stdlib only.
See bench/README.md for what each figure means. The sections live in bench_*.py: runs and
resource use, the inotify/IMAP watcher, statistics, set-up, paired sections, scaling and load,
the report.
"""

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time

from bench_pairs import PairSections
from bench_report import ReportSections
from bench_runs import HERE, STACK_SH, BenchError, build_rusage_helper, kill_active
from bench_scaling import ScalingSections
from bench_setup import BenchBase
from bench_watch import Watcher


class Bench(PairSections, ScalingSections, ReportSections, BenchBase):
    """The whole benchmark: sections from the mixins, run in order."""

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
