"""Shared by the fakeserver self-test modules (test_fake_*.py): a FakeServer that records
server-side handler errors, socket helpers, the base case, and the end-of-module check that
nothing was left behind.
"""

import os
import shutil
import signal
import socket
import ssl
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fakeserver as fs  # noqa: E402

HANDLER_ERRORS = []


class FakeServer(fs.FakeServer):
    """FakeServer that also records server-side handler exceptions."""

    def stop(self):
        super().stop()
        if self._final:
            HANDLER_ERRORS.extend((self.proto, self.scenario, e) for e in self.events()
                                  if e["event"] == "handler_error")

FIRST_CMD = {"smtp": b"EHLO client.test\r\n", "imap": b"a1 CAPABILITY\r\n", "pop3": b"CAPA\r\n"}
GREETING = {"smtp": b"220 ", "imap": b"* OK ", "pop3": b"+OK "}
CURL = shutil.which("curl")


def connect(srv, timeout=2.0, tls=False, hostname="localhost"):
    s = socket.create_connection((srv.host, srv.port), timeout=timeout)
    if tls:
        ctx = ssl.create_default_context(cafile=srv.ca_path)
        s = ctx.wrap_socket(s, server_hostname=hostname)
    return s


def recv_until(s, needle, timeout=5.0, limit=1 << 30):
    """Read until needle is in the data, EOF, or limit; returns the data."""
    data = b""
    end = time.monotonic() + timeout
    while needle not in data[-(len(needle) + 65536):] and len(data) < limit:
        s.settimeout(max(0.01, end - time.monotonic()))
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    return data


def recv_line(s, timeout=3.0):
    return recv_until(s, b"\n", timeout)


def smtp_reply(s, timeout=3.0):
    """Read one complete (possibly multi-line) SMTP reply."""
    data = b""
    while True:
        data += recv_until(s, b"\n", timeout)
        lines = data.split(b"\r\n")
        if len(lines) >= 2 and len(lines[-2]) >= 4 and lines[-2][3:4] == b" " and data.endswith(b"\r\n"):
            return data


def recv_all(s, timeout=5.0):
    data = b""
    s.settimeout(timeout)
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            return data
        data += chunk


def child_pids():
    me = str(os.getpid())
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    st = f.read().rsplit(")", 1)[1].split()
                if st[1] == me and st[0] != "Z":
                    out.append(int(d))
            except (OSError, IndexError):
                pass
    return out


class Base(unittest.TestCase):
    def assertSilent(self, s, secs=1.0):
        s.settimeout(secs)
        t0 = time.monotonic()
        with self.assertRaises((socket.timeout, TimeoutError)):
            data = s.recv(1)
            self.fail(f"server sent {data!r}")
        self.assertGreaterEqual(time.monotonic() - t0, secs * 0.9)


def check_nothing_left():
    """tearDownModule of every self-test module: no handler exceptions, no child processes."""
    errors = list(HANDLER_ERRORS)
    HANDLER_ERRORS.clear()  # reported once, by the module whose cases caused them
    assert not errors, f"server handler exceptions: {errors}"
    left = child_pids()
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left behind: {left}"

