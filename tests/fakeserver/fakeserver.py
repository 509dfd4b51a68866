#!/usr/bin/env python3
"""Scripted, deliberately hostile SMTP/IMAP/POP3 server for mailprobe tests.

It produces faults a real mail server will not: stalls, trickling, garbage,
huge lines, wrong IMAP tags, floods, lying POP3 sizes, bad certificates,
STARTTLS downgrade ...  Python 3 stdlib only; certificates are made with the
openssl CLI.  Binds 127.0.0.1 only and never connects anywhere.

CLI:
    fakeserver.py --proto smtp|imap|pop3 --scenario NAME
                  [--tls none|implicit|starttls]
                  [--cert-kind good|expired|notyet|selfsigned|wronghost|untrusted]
                  [--certdir DIR] [--max-seconds N] [--transcript-dir DIR]
                  [--trickle-interval S] [--port N]
    First stdout line (flushed) once listening: "PORT <n>".
    Runs until SIGTERM/SIGINT or --max-seconds (default 120).

Library:
    with FakeServer("imap", "ok", tls="starttls") as srv:
        srv.port, srv.host, srv.ca_path
        srv.transcript()            # bytes the client sent (all connections)
        srv.transcript(cleartext_only=True)  # only what was sent before TLS
        srv.events()                # list of dicts (connect, tls, auth, ...)
        srv.cleartext_auth_seen()   # True if AUTH/LOGIN/USER/PASS came in clear
    The server runs as a child process; leaving the block terminates and
    reaps it (and the child exits on its own if the parent dies).
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# The modules below hold the server; this file keeps the entry points (the command line, the
# FakeServer handle) and re-exports what tests use (fs.SCENARIOS, fs.ensure_certs, ...).
from fake_certs import cert_paths, default_certdir, ensure_certs  # noqa: F401
from fake_scenarios import *  # noqa: F401,F403
from fake_server import HANDLERS, Server, main, parse_args  # noqa: F401
from fake_session import make_message, split_message  # noqa: F401




class FakeServer:
    """Run fakeserver.py as a child process for the duration of a with-block."""

    def __init__(self, proto, scenario, tls="none", cert_kind="good", certdir=None,
                 max_seconds=120, trickle_interval=None, extra_args=(), start_timeout=20):
        if proto not in PROTOS:
            raise ValueError(f"bad proto {proto!r}")
        if scenario not in SCENARIOS[proto]:
            raise ValueError(f"bad scenario {scenario!r} for {proto}")
        self.proto, self.scenario, self.tls, self.cert_kind = proto, scenario, tls, cert_kind
        self.host = HOST
        self.certdir = ensure_certs(certdir)
        paths = cert_paths(self.certdir)
        self.ca_path = paths["ca"]
        self.untrusted_ca_path = paths["untrusted_ca"]
        self.cert_path, self.key_path = paths[cert_kind]
        self.max_seconds = max_seconds
        self.trickle_interval = trickle_interval
        self.extra_args = list(extra_args)
        self.start_timeout = start_timeout
        self.proc = None
        self.port = None
        self._state = None
        self._final = None   # (transcripts, events) captured at stop

    def start(self):
        self._state = tempfile.mkdtemp(prefix="mpfake-")
        cmd = [sys.executable, os.path.abspath(__file__), "--proto", self.proto,
               "--scenario", self.scenario, "--tls", self.tls, "--cert-kind", self.cert_kind,
               "--certdir", self.certdir, "--max-seconds", str(self.max_seconds),
               "--transcript-dir", self._state, "--exit-on-stdin-eof", *self.extra_args]
        if self.trickle_interval is not None:
            cmd += ["--trickle-interval", str(self.trickle_interval)]
        self._stderr = open(os.path.join(self._state, "stderr.log"), "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._stderr, close_fds=True)
        line = b""
        end = time.monotonic() + self.start_timeout
        while not line.endswith(b"\n"):
            r, _, _ = select.select([self.proc.stdout], [], [], max(0, end - time.monotonic()))
            if not r:
                break
            ch = os.read(self.proc.stdout.fileno(), 1)
            if not ch:
                break
            line += ch
        m = re.match(rb"PORT (\d+)\n", line)
        if not m:
            self.stop()
            raise RuntimeError("fake server did not start: %r %s" % (line, self.stderr()))
        self.port = int(m.group(1))
        return self

    def stop(self):
        if self.proc is None:
            return
        p, self.proc = self.proc, None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for f in (p.stdin, p.stdout):
            try:
                f.close()
            except OSError:
                pass
        self._stderr.close()
        self.returncode = p.returncode
        self.pid = p.pid
        self._final = (self._read_transcripts(), self._read_events(), self._read_stderr())
        shutil.rmtree(self._state, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def __del__(self):
        try:
            self.stop()
        except Exception:
            pass

    # -- inspection
    def _read_transcripts(self):
        out = []
        if not self._state or not os.path.isdir(self._state):
            return out
        for name in sorted(os.listdir(self._state)):
            if name.startswith("conn-") and name.endswith(".all"):
                base = os.path.join(self._state, name[:-4])
                with open(base + ".all", "rb") as a, open(base + ".clear", "rb") as c:
                    out.append((a.read(), c.read()))
        return out

    def _read_events(self):
        try:
            with open(os.path.join(self._state, "events.jsonl")) as f:
                return [json.loads(l) for l in f if l.strip()]
        except (OSError, TypeError):
            return []

    def _read_stderr(self):
        try:
            with open(os.path.join(self._state, "stderr.log"), "rb") as f:
                return f.read().decode(errors="replace")
        except (OSError, TypeError):
            return ""

    def transcripts(self, cleartext_only=False):
        """Per-connection list of bytes the client sent."""
        ts = self._final[0] if self._final else self._read_transcripts()
        return [c if cleartext_only else a for a, c in ts]

    def transcript(self, cleartext_only=False) -> bytes:
        """All bytes the client sent (all connections, in order). With
        cleartext_only, only bytes that travelled unencrypted."""
        return b"".join(self.transcripts(cleartext_only))

    def events(self):
        return self._final[1] if self._final else self._read_events()

    def stderr(self):
        return self._final[2] if self._final else self._read_stderr()

    def cleartext_auth_seen(self) -> bool:
        return any(e["event"] == "cleartext_auth" for e in self.events())

    def wait_for_event(self, name, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for e in self.events():
                if e["event"] == name:
                    return e
            time.sleep(0.05)
        return None


if __name__ == "__main__":
    sys.exit(main())
