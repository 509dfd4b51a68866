"""fakeserver: mailbox content, one client connection (Session), faults common to all protocols."""

from __future__ import annotations

import os
import select
import socket
import ssl
import time
from typing import TYPE_CHECKING

from fake_scenarios import BINARY_REPLIES, HUGE_LINE_BYTES

if TYPE_CHECKING:
    from fake_server import Server


def make_message(i: int, body_extra: bytes = b"") -> bytes:
    return (
        "Return-Path: <probe@mailprobe.test>\r\n"
        f"Received: from client.test ([127.0.0.1]) by mx.test with ESMTP id Q{i:04d};"
        f" Mon, 01 Jan 2024 00:00:0{i % 10} +0000\r\n"
        "From: Probe <probe@mailprobe.test>\r\n"
        "To: probe@mailprobe.test\r\n"
        f"Subject: mailprobe test message {i}\r\n"
        f"Message-ID: <probe-{i}@mailprobe.test>\r\n"
        f"Date: Mon, 01 Jan 2024 00:00:0{i % 10} +0000\r\n"
        "\r\n"
        f"This is test message {i}.\r\n"
        ".a line that starts with a dot\r\n"
        "bye\r\n"
    ).encode() + body_extra


def split_message(msg: bytes):
    i = msg.find(b"\r\n\r\n")
    if i < 0:
        return msg, b""
    return msg[:i + 4], msg[i + 4:]


class Stop(Exception):
    """Server is shutting down."""


class ClientGone(Exception):
    """Client disconnected / connection broken."""


class Session:
    """One client connection: buffered line IO, transcript, trickle, stall."""

    def __init__(self, server: "Server", sock: socket.socket, conn_id: int):
        self.server = server
        self.cfg = server.cfg
        self.sock = sock
        self.id = conn_id
        self.buf = b""
        self.tls = False
        self.sock.settimeout(0.25)
        self._files = None
        if server.transcript_dir:
            base = os.path.join(server.transcript_dir, f"conn-{conn_id:04d}")
            self._files = (open(base + ".all", "ab", buffering=0),
                           open(base + ".clear", "ab", buffering=0))

    # -- bookkeeping
    def event(self, name, **kw):
        self.server.event(self.id, name, **kw)

    def _record(self, data: bytes):
        if self._files and data:
            self._files[0].write(data)
            if not self.tls:
                self._files[1].write(data)

    def close_files(self):
        if self._files:
            for f in self._files:
                f.close()
            self._files = None

    @property
    def stopping(self):
        return self.server.stop_event.is_set()

    # -- input
    def recv_some(self) -> bytes:
        while True:
            if self.stopping:
                raise Stop()
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            except (ssl.SSLError, OSError) as e:
                self.event("recv_error", error=str(e))
                raise ClientGone()
            if not data:
                raise ClientGone()
            self._record(data)
            return data

    def readline(self, limit=1 << 20) -> bytes:
        """Line including its terminator (raises ClientGone on EOF)."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
                return line
            if len(self.buf) > limit:
                line, self.buf = self.buf, b""
                return line
            self.buf += self.recv_some()

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self.buf += self.recv_some()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    # -- output
    def _send_raw(self, data: bytes):
        view = memoryview(data)
        while view:
            if self.stopping:
                raise Stop()
            try:
                n = self.sock.send(view)
            except (socket.timeout, ssl.SSLWantWriteError):
                continue
            except (ssl.SSLError, OSError) as e:
                self.event("send_error", error=str(e))
                raise ClientGone()
            view = view[n:]

    def send(self, data: bytes):
        if self.cfg.scenario == "trickle":
            for b in data:
                self._send_raw(bytes((b,)))
                if self.server.stop_event.wait(self.cfg.trickle_interval):
                    raise Stop()
        else:
            self._send_raw(data)

    def send_line(self, line):
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\r\n")

    def send_lines(self, lines):
        self.send(b"".join((x.encode() if isinstance(x, str) else x) + b"\r\n" for x in lines))

    # -- faults
    def stall(self, why="stall"):
        """Never send anything again; keep reading until the client leaves."""
        self.event("stall", stage=why)
        while True:
            self.recv_some()

    def close_abruptly(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        # Drain briefly so an unread request does not turn the FIN into a RST.
        end = time.monotonic() + 0.5
        try:
            while time.monotonic() < end:
                r, _, _ = select.select([self.sock], [], [], 0.1)
                if r and not self.sock.recv(65536):
                    break
        except (OSError, ValueError):
            pass
        raise ClientGone()

    def start_tls(self):
        """Server side TLS handshake on the current socket."""
        if self.buf:
            # Bytes pipelined after STARTTLS in cleartext (command injection).
            self.event("starttls_injection", data=self.buf.decode("latin-1"))
            self.buf = b""
        raw = self.sock
        raw.settimeout(10)
        try:
            self.sock = self.server.ssl_ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.event("tls_failed", error=str(e))
            raise ClientGone()
        self.sock.settimeout(0.25)
        self.tls = True
        self.event("tls", version=self.sock.version(), cipher=self.sock.cipher()[0])

    def auth_seen(self, verb: str):
        self.event("auth", verb=verb, tls=self.tls)
        if not self.tls:
            self.event("cleartext_auth", verb=verb)


def huge_prefix(proto):
    return {"smtp": b"220 mx.test ", "imap": b"* OK ", "pop3": b"+OK "}[proto]


def send_huge_line(s: Session):
    s.event("huge_line_start")
    s.send(huge_prefix(s.cfg.proto))
    chunk = b"A" * 65536
    left = HUGE_LINE_BYTES
    while left > 0:
        s.send(chunk[:min(left, len(chunk))])
        left -= len(chunk)
    s.event("huge_line_sent", bytes=HUGE_LINE_BYTES)
    s.stall("after_huge_line")


def offer_starttls(s: Session) -> bool:
    return s.cfg.tls == "starttls" and not s.tls and s.cfg.scenario != "starttls_downgrade"


def binary_reply(s: Session, n: int):
    s.send(BINARY_REPLIES[n % len(BINARY_REPLIES)])
