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

import argparse
import fcntl
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone

PROTOS = ("smtp", "imap", "pop3")
TLS_MODES = ("none", "implicit", "starttls")
CERT_KINDS = ("good", "expired", "notyet", "selfsigned", "wronghost", "untrusted")

COMMON_SCENARIOS = (
    "ok", "silent", "greeting_stall", "trickle", "tls_stall", "close_mid_reply",
    "garbage_greeting", "huge_line", "binary", "starttls_downgrade",
)
PROTO_SCENARIOS = {
    "smtp": ("data_stall", "reject_rcpt", "greylist", "auth_fail", "login_stall",
             "ms_basic_auth_off", "ms_auth_unsuccessful"),
    "imap": ("login_stall", "wrong_tags", "untagged_flood", "search_ghost_uids",
             "endless_header"),
    "pop3": ("login_stall", "lying_sizes", "endless_top"),
}
SCENARIOS = {p: COMMON_SCENARIOS + PROTO_SCENARIOS[p] for p in PROTOS}

HOST = "127.0.0.1"
HUGE_LINE_BYTES = 10 * 1024 * 1024          # huge_line payload (plus prefix)
ENDLESS_HEADER_BYTES = 20 * 1024 * 1024     # endless_header literal size
FLOOD_BYTES = 50 * 1024 * 1024              # untagged_flood total
GHOST_UIDS = (4000000000, 4000000001)
UIDVALIDITY = 1700000000
CERT_CACHE_VERSION = "v1"
CERT_MAX_AGE = 7 * 86400                    # regenerate cached certs after this

# Deterministic junk so failures are reproducible.
_rng = random.Random(0x6D70)
GARBAGE_GREETING = (
    b"\x00\xff\xfe\xfd||||| OK |perf=1;2;3;; |\x1b[31mRED\x1b[0m\x07\x08\x7f"
    b"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc\xed\xa0\x80 \xc0\xaf|\r\n"
    + bytes(_rng.randrange(256) for _ in range(384))
    + b"\r\n\x01\x02\x03|\x1b]0;pwned\x07\x00\r\n"
)
BINARY_REPLIES = [
    b"\x00\x00\x01\x02" + bytes(_rng.randrange(256) for _ in range(61)) + b"\x00\r\n"
    for _ in range(8)
]


# --------------------------------------------------------------------------
# Certificates
# --------------------------------------------------------------------------

def default_certdir() -> str:
    return os.path.join("/tmp/mpfake-certs", f"u{os.getuid()}-{CERT_CACHE_VERSION}")


_OPENSSL_CNF = """\
[ca]
default_ca = CA_default
[CA_default]
dir = .
database = ./index.txt
new_certs_dir = .
serial = ./serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
[policy_any]
commonName = supplied
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf_self]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:localhost,IP:127.0.0.1
"""

_LEAF_EXT = """\
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = {san}
"""


def _run_openssl(args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args), r.stderr.decode(errors="replace")))


def _asn1(t: datetime) -> str:
    return t.strftime("%Y%m%d%H%M%SZ")


def cert_paths(certdir: str) -> dict:
    """Paths in a cert dir. kind -> (cert, key); plus 'ca', 'untrusted_ca'."""
    p = {k: (os.path.join(certdir, f"{k}.pem"), os.path.join(certdir, f"{k}.key"))
         for k in CERT_KINDS}
    p["ca"] = os.path.join(certdir, "ca.pem")
    p["untrusted_ca"] = os.path.join(certdir, "untrusted-ca.pem")
    return p


def _generate_certs(out: str) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with open(os.path.join(out, "openssl.cnf"), "w") as f:
        f.write(_OPENSSL_CNF)

    def genkey(name):
        _run_openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-out", name], out)

    def make_ca(prefix, cn):
        genkey(f"{prefix}.key")
        _run_openssl(["req", "-x509", "-new", "-key", f"{prefix}.key", "-subj", f"/CN={cn}",
                      "-days", "3650", "-config", "openssl.cnf", "-extensions", "v3_ca",
                      "-out", f"{prefix}.pem"], out)
        db = os.path.join(out, f"{prefix}.db")
        os.mkdir(db)
        open(os.path.join(db, "index.txt"), "w").close()
        with open(os.path.join(db, "serial"), "w") as f:
            f.write("%X\n" % (0x1000 + _rng.randrange(1 << 30)))

    def sign(kind, ca, cn, san, start, end):
        genkey(f"{kind}.key")
        _run_openssl(["req", "-new", "-key", f"{kind}.key", "-subj", f"/CN={cn}",
                      "-config", "openssl.cnf", "-out", f"{kind}.csr"], out)
        with open(os.path.join(out, f"{kind}.ext"), "w") as f:
            f.write(_LEAF_EXT.format(san=san))
        db = os.path.join(out, f"{ca}.db")
        _run_openssl(["ca", "-batch", "-notext", "-config", os.path.join(out, "openssl.cnf"),
                      "-cert", os.path.join(out, f"{ca}.pem"),
                      "-keyfile", os.path.join(out, f"{ca}.key"),
                      "-in", os.path.join(out, f"{kind}.csr"),
                      "-out", os.path.join(out, f"{kind}.pem"),
                      "-startdate", _asn1(start), "-enddate", _asn1(end),
                      "-extfile", os.path.join(out, f"{kind}.ext"), "-extensions", "leaf"], db)

    make_ca("ca", "mailprobe fake test CA")
    make_ca("untrusted-ca", "mailprobe fake UNTRUSTED CA")
    local_san = "DNS:localhost,IP:127.0.0.1"
    day = timedelta(days=1)
    sign("good", "ca", "localhost", local_san, now - day, now + 3650 * day)
    sign("expired", "ca", "localhost", local_san, now - 730 * day, now - 365 * day)
    sign("notyet", "ca", "localhost", local_san, now + 1825 * day, now + 3650 * day)
    sign("wronghost", "ca", "other.invalid", "DNS:other.invalid", now - day, now + 3650 * day)
    sign("untrusted", "untrusted-ca", "localhost", local_san, now - day, now + 3650 * day)
    genkey("selfsigned.key")
    _run_openssl(["req", "-x509", "-new", "-key", "selfsigned.key", "-subj", "/CN=localhost",
                  "-days", "3650", "-config", "openssl.cnf", "-extensions", "leaf_self",
                  "-out", "selfsigned.pem"], out)
    with open(os.path.join(out, "STAMP"), "w") as f:
        f.write(str(int(time.time())))


def ensure_certs(certdir: str | None = None) -> str:
    """Create (or reuse cached) certificates in certdir; returns certdir."""
    certdir = os.path.abspath(certdir or default_certdir())
    os.makedirs(certdir, mode=0o700, exist_ok=True)
    with open(os.path.join(certdir, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            paths = cert_paths(certdir)
            stamp = os.path.join(certdir, "STAMP")
            fresh = False
            try:
                with open(stamp) as f:
                    fresh = time.time() - int(f.read().strip()) < CERT_MAX_AGE
            except (OSError, ValueError):
                pass
            needed = [paths["ca"], paths["untrusted_ca"]] + [x for k in CERT_KINDS for x in paths[k]]
            if fresh and all(os.path.exists(x) for x in needed):
                return certdir
            work = tempfile.mkdtemp(prefix=".gen-", dir=certdir)
            try:
                _generate_certs(work)
                # STAMP last, so a half-copied dir is never considered fresh.
                for name in sorted(os.listdir(work)):
                    src = os.path.join(work, name)
                    if name != "STAMP" and os.path.isfile(src):
                        os.replace(src, os.path.join(certdir, name))
                os.replace(os.path.join(work, "STAMP"), stamp)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            return certdir
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# --------------------------------------------------------------------------
# Mailbox content
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# Connection plumbing
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# Protocol handlers
# --------------------------------------------------------------------------

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


# ---- SMTP ----------------------------------------------------------------

def smtp_session(s: Session):
    sc = s.cfg.scenario
    s.send_line("220 mx.test ESMTP mailprobe-fake ready")
    if sc == "greeting_stall":
        s.stall("after_greeting")
    ncmd = 0
    while True:
        line = s.readline()
        cmdline = line.rstrip(b"\r\n")
        verb = cmdline.split(b" ", 1)[0].upper().decode("latin-1")
        arg = cmdline[len(verb) + 1:].decode("latin-1")
        ncmd += 1
        if sc == "close_mid_reply":
            s.send(b"250-mx.test Hel" if verb in ("EHLO", "HELO") else b"250 2.0.0 O")
            s.close_abruptly()
        if sc == "binary":
            binary_reply(s, ncmd)
            continue
        if verb == "EHLO":
            caps = ["mx.test Hello " + arg, "PIPELINING", "SIZE 10485760", "8BITMIME",
                    "ENHANCEDSTATUSCODES", "AUTH PLAIN LOGIN"]
            if offer_starttls(s):
                caps.append("STARTTLS")
            s.send_lines([f"250-{c}" for c in caps[:-1]] + [f"250 {caps[-1]}"])
        elif verb == "HELO":
            s.send_line("250 mx.test")
        elif verb == "STARTTLS":
            if not offer_starttls(s):
                s.send_line("454 4.7.0 TLS not available")
                continue
            if sc == "tls_stall":
                s.send_line("220 2.0.0 Ready to start TLS")
                s.stall("tls_handshake")
            s.send_line("220 2.0.0 Ready to start TLS")
            s.start_tls()
        elif verb == "AUTH":
            s.auth_seen("AUTH")
            if sc == "login_stall":
                s.stall("auth")
            parts = arg.split()
            mech = parts[0].upper() if parts else ""
            if mech == "PLAIN":
                if len(parts) < 2:
                    s.send_line("334 ")
                    if s.readline().strip() == b"*":
                        s.send_line("501 5.7.0 Authentication aborted")
                        continue
            elif mech == "LOGIN":
                if len(parts) < 2:
                    s.send_line("334 VXNlcm5hbWU6")
                    if s.readline().strip() == b"*":
                        s.send_line("501 5.7.0 Authentication aborted")
                        continue
                s.send_line("334 UGFzc3dvcmQ6")
                if s.readline().strip() == b"*":
                    s.send_line("501 5.7.0 Authentication aborted")
                    continue
            else:
                s.send_line("504 5.5.4 Unrecognized authentication type")
                continue
            if sc == "auth_fail":
                s.send_line("535 5.7.8 Error: authentication failed: authentication failure")
            elif sc == "ms_basic_auth_off":  # Exchange Online, SMTP AUTH basic switched off
                s.send_line("550 5.7.30 Basic authentication is not supported for Client "
                            "Submission.")
            elif sc == "ms_auth_unsuccessful":
                s.send_line("535 5.7.3 Authentication unsuccessful [AM0PR01CA0001.eurprd01."
                            "prod.exchangelabs.com 2026-12-01T01:00:00.000Z]")
            else:
                s.send_line("235 2.7.0 Authentication successful")
        elif verb == "MAIL":
            s.send_line("250 2.1.0 Ok")
        elif verb == "RCPT":
            if sc == "reject_rcpt":
                s.send_line(f"550 5.1.1 {arg[3:].strip()}: Recipient address rejected: "
                            "User unknown in virtual mailbox table")
            elif sc == "greylist":
                s.send_line(f"451 4.7.1 {arg[3:].strip()}: Recipient address rejected: "
                            "Greylisted, see http://postgrey.schweikert.ch/help/mx.test.html")
            else:
                s.send_line("250 2.1.5 Ok")
        elif verb == "DATA":
            s.send_line("354 End data with <CR><LF>.<CR><LF>")
            size = 0
            while True:
                dl = s.readline()
                if dl in (b".\r\n", b".\n"):
                    break
                size += len(dl)
            s.event("data_received", bytes=size)
            if sc == "data_stall":
                s.stall("end_of_data")
            s.send_line("250 2.0.0 Ok: queued as 4FAKE%04d" % s.id)
        elif verb in ("RSET", "NOOP"):
            s.send_line("250 2.0.0 Ok")
        elif verb == "VRFY":
            s.send_line("252 2.0.0 Cannot VRFY user")
        elif verb == "QUIT":
            s.send_line("221 2.0.0 Bye")
            s.close_abruptly()
        else:
            s.send_line("502 5.5.2 Error: command not recognized")


# ---- IMAP ----------------------------------------------------------------

IMAP_FLAG_LINE = r"* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)"


class ImapBox:
    def __init__(self):
        self.msgs = [{"uid": i, "flags": set(), "data": make_message(i)} for i in (1, 2, 3)]
        self.uidnext = 4


def parse_seqset(spec: str, maxval: int):
    out = set()
    for part in spec.split(","):
        if not part:
            continue
        try:
            if ":" in part:
                a, b = part.split(":", 1)
                a = maxval if a == "*" else int(a)
                b = maxval if b == "*" else int(b)
                lo, hi = min(a, b), max(a, b)
                if lo <= maxval:
                    out.update(range(lo, min(hi, maxval) + 1))
            else:
                out.add(maxval if part == "*" else int(part))
        except ValueError:
            return None
    return out


_FETCH_BODY_RE = re.compile(r"(BODY(?:\.PEEK)?|BINARY(?:\.PEEK)?)\[([^\]]*)\](?:<(\d+)(?:\.(\d+))?>)?", re.I)


def imap_fetch_items(msg, seq, items: str, with_uid: bool) -> bytes:
    data = msg["data"]
    hdr, body = split_message(data)
    out = []
    if with_uid:
        out.append(b"UID %d" % msg["uid"])
    up = items.upper()
    if "FAST" in up or "ALL" in up or "FULL" in up:
        up += " FLAGS INTERNALDATE RFC822.SIZE"
    rest = _FETCH_BODY_RE.sub(" ", up)
    atoms = set(re.findall(r"[A-Z0-9.]+", rest))
    if "UID" in atoms and not with_uid:
        out.append(b"UID %d" % msg["uid"])
    if "FLAGS" in atoms:
        out.append(b"FLAGS (" + " ".join(sorted(msg["flags"])).encode() + b")")
    if "INTERNALDATE" in atoms:
        out.append(b'INTERNALDATE "01-Jan-2024 00:00:00 +0000"')
    if "RFC822.SIZE" in atoms:
        out.append(b"RFC822.SIZE %d" % len(data))
    for name, content in (("RFC822.HEADER", hdr), ("RFC822.TEXT", body), ("RFC822", data)):
        if name in atoms:
            out.append(name.encode() + b" {%d}\r\n" % len(content) + content)
    for m in _FETCH_BODY_RE.finditer(items):
        section = m.group(2)
        su = section.upper()
        if su == "":
            content = data
        elif su == "HEADER" or su.startswith("HEADER.FIELDS"):
            content = hdr
            if su.startswith("HEADER.FIELDS"):
                wanted = re.findall(r"[^\s()]+", section[len("HEADER.FIELDS"):].replace(".NOT", ""))
                wanted = {w.lower().encode() for w in wanted}
                neg = ".NOT" in su
                keep = [l for l in hdr.split(b"\r\n") if l and
                        ((l.split(b":", 1)[0].lower() in wanted) != neg)]
                content = b"".join(l + b"\r\n" for l in keep) + b"\r\n"
        elif su in ("TEXT", "1"):
            content = body
        else:
            content = b""
        name = b"BODY[" + section.encode() + b"]"
        if m.group(3) is not None:
            off = int(m.group(3))
            ln = int(m.group(4)) if m.group(4) else len(content)
            content = content[off:off + ln]
            name += b"<%d>" % off
        out.append(name + b" {%d}\r\n" % len(content) + content)
        if "PEEK" not in m.group(1).upper():
            msg["flags"].add("\\Seen")
    return b"* %d FETCH (" % seq + b" ".join(out) + b")\r\n"


def imap_read_command(s: Session) -> bytes:
    """Read one command line, resolving {n}/{n+} literals."""
    line = s.readline()
    full = b""
    while True:
        m = re.search(rb"\{(\d+)(\+?)\}\r?\n$", line)
        if not m:
            return full + line
        n = int(m.group(1))
        if not m.group(2):
            s.send_line("+ Ready for literal data")
        full += line[:m.start()] + b"{%d}\r\n" % n + s.read_exact(n)
        line = s.readline()


def imap_session(s: Session):
    sc = s.cfg.scenario
    box = ImapBox()
    selected = False

    def caps():
        c = ["IMAP4rev1", "IDLE", "UIDPLUS", "LITERAL+", "ID", "AUTH=PLAIN"]
        if offer_starttls(s):
            c.append("STARTTLS")
        return " ".join(c)

    def tagged(tag, text):
        t = (b"W" + tag) if sc == "wrong_tags" else tag
        s.send(t + b" " + text.encode() + b"\r\n")

    s.send_line("* OK mailprobe-fake IMAP4rev1 service ready")
    if sc == "greeting_stall":
        s.stall("after_greeting")
    ncmd = 0
    while True:
        line = imap_read_command(s)
        ncmd += 1
        cmdline = line.rstrip(b"\r\n")
        parts = cmdline.split(b" ", 2)
        tag = parts[0]
        if sc == "close_mid_reply":
            s.send(b"* CAPABILITY IMAP4rev1 ID")
            s.close_abruptly()
        if sc == "binary":
            binary_reply(s, ncmd)
            continue
        if len(parts) < 2:
            s.send(tag + b" BAD missing command\r\n")
            continue
        cmd = parts[1].upper().decode("latin-1")
        rest = parts[2].decode("latin-1") if len(parts) > 2 else ""
        uid = False
        if cmd == "UID":
            uid = True
            sub = rest.split(" ", 1)
            cmd = sub[0].upper()
            rest = sub[1] if len(sub) > 1 else ""

        if cmd == "CAPABILITY":
            s.send_line("* CAPABILITY " + caps())
            tagged(tag, "OK CAPABILITY completed")
        elif cmd == "NOOP" or cmd == "CHECK":
            tagged(tag, f"OK {cmd} completed")
        elif cmd == "LOGOUT":
            s.send_line("* BYE mailprobe-fake logging out")
            tagged(tag, "OK LOGOUT completed")
            s.close_abruptly()
        elif cmd == "STARTTLS":
            if not offer_starttls(s):
                tagged(tag, "BAD STARTTLS not available")
                continue
            tagged(tag, "OK Begin TLS negotiation now")
            if sc == "tls_stall":
                s.stall("tls_handshake")
            s.start_tls()
        elif cmd in ("LOGIN", "AUTHENTICATE"):
            s.auth_seen(cmd)
            if sc == "login_stall":
                s.stall(cmd.lower())
            if cmd == "AUTHENTICATE":
                a = rest.split()
                if not a or a[0].upper() != "PLAIN":
                    tagged(tag, "NO Unsupported authentication mechanism")
                    continue
                if len(a) < 2:
                    s.send_line("+ ")
                    resp = s.readline().strip()
                    if resp == b"*":
                        tagged(tag, "BAD AUTHENTICATE cancelled")
                        continue
            tagged(tag, f"OK [CAPABILITY {caps()}] {cmd} completed")
        elif cmd in ("SELECT", "EXAMINE"):
            selected = True
            s.send_lines([
                IMAP_FLAG_LINE,
                r"* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted",
                f"* {len(box.msgs)} EXISTS",
                "* 0 RECENT",
                f"* OK [UIDVALIDITY {UIDVALIDITY}] UIDs valid",
                f"* OK [UIDNEXT {box.uidnext}] Predicted next UID",
            ])
            if sc == "untagged_flood":
                imap_flood(s)
            tagged(tag, "OK [READ-%s] %s completed" % ("ONLY" if cmd == "EXAMINE" else "WRITE", cmd))
        elif cmd in ("LIST", "LSUB"):
            s.send_line(f'* {cmd} (\\HasNoChildren) "/" INBOX')
            tagged(tag, f"OK {cmd} completed")
        elif cmd == "STATUS":
            s.send_line(f"* STATUS INBOX (MESSAGES {len(box.msgs)} UIDNEXT {box.uidnext} "
                        f"UIDVALIDITY {UIDVALIDITY} UNSEEN 0 RECENT 0)")
            tagged(tag, "OK STATUS completed")
        elif cmd == "NAMESPACE":
            s.send_line('* NAMESPACE (("" "/")) NIL NIL')
            tagged(tag, "OK NAMESPACE completed")
        elif cmd == "ID":
            s.send_line('* ID ("name" "mailprobe-fake")')
            tagged(tag, "OK ID completed")
        elif cmd == "ENABLE":
            s.send_line("* ENABLED")
            tagged(tag, "OK ENABLE completed")
        elif cmd == "IDLE":
            s.send_line("+ idling")
            while s.readline().strip().upper() != b"DONE":
                pass
            tagged(tag, "OK IDLE terminated")
        elif cmd == "SEARCH":
            if not selected:
                tagged(tag, "BAD No mailbox selected")
                continue
            if sc == "search_ghost_uids":
                hits = list(GHOST_UIDS)
            elif sc == "endless_header":
                # A server that ignores the criteria: every message "matches", so a
                # client's header FETCH (where the endless header waits) is reached.
                hits = [m["uid"] if uid else seq for seq, m in enumerate(box.msgs, 1)]
            else:
                needles = [n.lower() for n in re.findall(r'"([^"]*)"', rest)]
                hits = []
                for seq, m in enumerate(box.msgs, 1):
                    if "UNDELETED" in rest.upper() and "\\Deleted" in m["flags"]:
                        continue
                    low = m["data"].decode("latin-1").lower()
                    if all(n in low for n in needles):
                        hits.append(m["uid"] if uid else seq)
            s.send_line("* SEARCH" + "".join(f" {h}" for h in hits))
            tagged(tag, f"OK {'UID ' if uid else ''}SEARCH completed")
        elif cmd == "FETCH":
            if not selected:
                tagged(tag, "BAD No mailbox selected")
                continue
            spec, _, items = rest.partition(" ")
            targets = imap_targets(box, spec, uid)
            if targets is None:
                tagged(tag, "BAD Invalid sequence set")
                continue
            if sc == "endless_header" and targets:
                imap_endless_header(s, targets[0][0], items, uid)
            else:
                for seq, m in targets:
                    s.send(imap_fetch_items(m, seq, items, uid))
            tagged(tag, f"OK {'UID ' if uid else ''}FETCH completed")
        elif cmd == "STORE":
            spec, _, what = rest.partition(" ")
            targets = imap_targets(box, spec, uid) or []
            op, _, fl = what.partition(" ")
            flags = set(re.findall(r"\\?[A-Za-z$]+", fl))
            for seq, m in targets:
                if op.upper().startswith("+"):
                    m["flags"] |= flags
                elif op.upper().startswith("-"):
                    m["flags"] -= flags
                else:
                    m["flags"] = set(flags)
                if ".SILENT" not in op.upper():
                    s.send_line(f"* {seq} FETCH ({'UID %d ' % m['uid'] if uid else ''}"
                                f"FLAGS ({' '.join(sorted(m['flags']))}))")
            tagged(tag, "OK STORE completed")
        elif cmd in ("EXPUNGE", "CLOSE", "UNSELECT"):
            if cmd == "EXPUNGE":
                seq = 1
                for m in list(box.msgs):
                    if "\\Deleted" in m["flags"]:
                        box.msgs.remove(m)
                        s.send_line(f"* {seq} EXPUNGE")
                    else:
                        seq += 1
            else:
                selected = False
            tagged(tag, f"OK {cmd} completed")
        elif cmd in ("COPY", "MOVE"):
            tagged(tag, f"OK {cmd} completed")
        elif cmd == "APPEND":
            lit = re.search(rb"\{\d+\}\r\n", line)
            data = line[lit.end():].rstrip(b"\r\n") if lit else b""
            box.msgs.append({"uid": box.uidnext, "flags": set(), "data": data})
            box.uidnext += 1
            s.event("append", bytes=len(data))
            tagged(tag, f"OK [APPENDUID {UIDVALIDITY} {box.uidnext - 1}] APPEND completed")
        else:
            tagged(tag, "BAD Command unknown or arguments invalid")


def imap_targets(box: ImapBox, spec: str, uid: bool):
    if uid:
        maxuid = max([m["uid"] for m in box.msgs] + [0])
        want = parse_seqset(spec, max(maxuid, 1))
        if want is None:
            return None
        return [(i, m) for i, m in enumerate(box.msgs, 1) if m["uid"] in want]
    want = parse_seqset(spec, max(len(box.msgs), 1))
    if want is None:
        return None
    return [(i, m) for i, m in enumerate(box.msgs, 1) if i in want]


def imap_flood(s: Session):
    pair = b"* 1 EXISTS\r\n* OK [ALERT] unsolicited status update from mailprobe-fake, please ignore me\r\n"
    block = pair * ((1 << 20) // len(pair))
    sent = 0
    s.event("flood_start")
    while sent + len(block) <= FLOOD_BYTES:
        s.send(block)
        sent += len(block)
    s.event("flood_sent", bytes=sent, lines=2 * sent // len(pair))


def imap_endless_header(s: Session, seq: int, items: str, uid: bool):
    m = _FETCH_BODY_RE.search(items)
    name = b"BODY[" + (m.group(2).encode() if m else b"HEADER") + b"]"
    lines = b"".join(
        b"Received: from relay%04d.hop.test (relay%04d.hop.test [192.0.2.%d]) by relay%04d.hop.test "
        b"with ESMTP id H%08d; Mon, 01 Jan 2024 00:00:00 +0000\r\n" % (i, i, i % 250 + 1, i + 1, i)
        for i in range(4096)
    )
    head = b"* %d FETCH (" % seq + (b"UID 1 " if uid else b"") + name + b" {%d}\r\n" % ENDLESS_HEADER_BYTES
    s.event("endless_header_start")
    s.send(head)
    left = ENDLESS_HEADER_BYTES
    while left > 0:
        chunk = lines[:left]
        if len(chunk) == left and not chunk.endswith(b"\r\n"):
            # Pad the final line so the literal still ends with CRLF.
            chunk = chunk[:-2] + b"\r\n" if len(chunk) >= 2 else chunk
        s.send(chunk)
        left -= len(chunk)
    s.send(b")\r\n")
    s.event("endless_header_sent", bytes=ENDLESS_HEADER_BYTES)


# ---- POP3 ----------------------------------------------------------------

def dot_stuff(data: bytes) -> bytes:
    out = []
    for l in data.split(b"\r\n"):
        out.append(b"." + l if l.startswith(b".") else l)
    res = b"\r\n".join(out)
    if not res.endswith(b"\r\n"):
        res += b"\r\n"
    return res


def pop3_session(s: Session):
    sc = s.cfg.scenario
    msgs = {1: make_message(1), 2: make_message(2), 3: make_message(3)}
    if sc == "lying_sizes":
        msgs[1] = make_message(1, (b"Y" * 998 + b"\r\n") * 200)   # ~200 KB real
        claimed = {1: 5, 2: 987654321, 3: 0}
        claimed_total = 17
    deleted = set()
    authed = False
    s.send_line("+OK mailprobe-fake POP3 server ready")
    if sc == "greeting_stall":
        s.stall("after_greeting")

    def size(n):
        return claimed[n] if sc == "lying_sizes" else len(msgs[n])

    def live():
        return [n for n in sorted(msgs) if n not in deleted]

    def msgnum(a):
        try:
            n = int(a)
        except (ValueError, TypeError):
            return None
        return n if n in msgs and n not in deleted else None

    ncmd = 0
    while True:
        line = s.readline()
        ncmd += 1
        cmdline = line.rstrip(b"\r\n").decode("latin-1")
        verb, _, arg = cmdline.partition(" ")
        verb = verb.upper()
        args = arg.split()
        if sc == "close_mid_reply":
            s.send(b"+OK Capabil" if verb == "CAPA" else b"+OK mailpro")
            s.close_abruptly()
        if sc == "binary":
            binary_reply(s, ncmd)
            continue
        if verb == "CAPA":
            caps = ["USER", "UIDL", "TOP", "SASL PLAIN", "RESP-CODES", "PIPELINING"]
            if offer_starttls(s):
                caps.append("STLS")
            s.send_lines(["+OK Capability list follows"] + caps + ["."])
        elif verb == "STLS":
            if not offer_starttls(s):
                s.send_line("-ERR STLS not available")
                continue
            s.send_line("+OK Begin TLS negotiation")
            if sc == "tls_stall":
                s.stall("tls_handshake")
            s.start_tls()
        elif verb == "USER":
            s.auth_seen("USER")
            s.send_line("+OK send PASS")
        elif verb in ("PASS", "AUTH", "APOP"):
            s.auth_seen(verb)
            if sc == "login_stall":
                s.stall(verb.lower())
            if verb == "AUTH":
                if not args:
                    s.send_lines(["+OK", "PLAIN", "."])
                    continue
                if args[0].upper() != "PLAIN":
                    s.send_line("-ERR unsupported mechanism")
                    continue
                if len(args) < 2:
                    s.send_line("+ ")
                    if s.readline().strip() == b"*":
                        s.send_line("-ERR authentication cancelled")
                        continue
            authed = True
            s.send_line("+OK mailbox locked and ready")
        elif verb == "QUIT":
            s.send_line("+OK mailprobe-fake signing off")
            s.close_abruptly()
        elif verb == "NOOP":
            s.send_line("+OK")
        elif not authed:
            s.send_line("-ERR [AUTH] authenticate first")
        elif verb == "STAT":
            total = claimed_total if sc == "lying_sizes" else sum(len(msgs[n]) for n in live())
            s.send_line(f"+OK {len(live())} {total}")
        elif verb in ("LIST", "UIDL"):
            val = (lambda n: size(n)) if verb == "LIST" else (lambda n: f"fakeuid-{n:04d}")
            if args:
                n = msgnum(args[0])
                if n is None:
                    s.send_line("-ERR no such message")
                else:
                    s.send_line(f"+OK {n} {val(n)}")
            else:
                s.send_lines([f"+OK {len(live())} messages"] + [f"{n} {val(n)}" for n in live()] + ["."])
        elif verb in ("RETR", "TOP"):
            n = msgnum(args[0] if args else None)
            if n is None:
                s.send_line("-ERR no such message")
                continue
            data = msgs[n]
            if verb == "TOP":
                try:
                    k = int(args[1])
                except (IndexError, ValueError):
                    s.send_line("-ERR syntax: TOP msg n")
                    continue
                hdr, body = split_message(data)
                if sc == "endless_top" and k == 0:
                    pop3_endless_top(s, hdr)
                blines = body[:-2].split(b"\r\n") if body.endswith(b"\r\n") else body.split(b"\r\n")
                data = hdr + b"".join(l + b"\r\n" for l in blines[:k])
                s.send(b"+OK top of message follows\r\n" + dot_stuff(data) + b".\r\n")
                continue
            s.send(b"+OK %d octets\r\n" % size(n) + dot_stuff(data) + b".\r\n")
        elif verb == "DELE":
            n = msgnum(args[0] if args else None)
            if n is None:
                s.send_line("-ERR no such message")
            else:
                deleted.add(n)
                s.send_line(f"+OK message {n} deleted")
        elif verb == "RSET":
            deleted.clear()
            s.send_line("+OK")
        else:
            s.send_line("-ERR unknown command")


def pop3_endless_top(s: Session, hdr: bytes):
    """Send the header block, then one more header line per second, never '.'."""
    s.event("endless_top_start")
    s.send(b"+OK top of message follows\r\n" + dot_stuff(hdr.rstrip(b"\r\n") + b"\r\n"))
    i = 0
    while True:
        if s.server.stop_event.wait(1.0):
            raise Stop()
        i += 1
        s.send(b"X-Endless-%d: this header block never ends\r\n" % i)


HANDLERS = {"smtp": smtp_session, "imap": imap_session, "pop3": pop3_session}


# --------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------

class Server:
    def __init__(self, cfg):
        self.cfg = cfg
        self.stop_event = threading.Event()
        self.transcript_dir = cfg.transcript_dir
        self._ev_lock = threading.Lock()
        self._ev_file = None
        if self.transcript_dir:
            os.makedirs(self.transcript_dir, exist_ok=True)
            self._ev_file = open(os.path.join(self.transcript_dir, "events.jsonl"), "a")
        self.ssl_ctx = None
        if cfg.tls != "none":
            certdir = ensure_certs(cfg.certdir)
            cert, key = cert_paths(certdir)[cfg.cert_kind]
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            self.ssl_ctx = ctx
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((HOST, cfg.port))
        self.lsock.listen(64)
        self.lsock.setblocking(False)
        self.port = self.lsock.getsockname()[1]
        self.threads = []
        self._next_id = 0
        self._sessions = set()
        self._sessions_lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)

    def event(self, conn, name, **kw):
        rec = {"t": round(time.time(), 3), "conn": conn, "event": name, **kw}
        if self.cfg.verbose:
            print(json.dumps(rec), file=sys.stderr, flush=True)
        if self._ev_file:
            with self._ev_lock:
                self._ev_file.write(json.dumps(rec) + "\n")
                self._ev_file.flush()

    def request_stop(self):
        """Async-signal/thread safe: make serve() return promptly."""
        self.stop_event.set()
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def serve(self, deadline: float):
        while not self.stop_event.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([self.lsock, self._wake_r], [], [], min(left, 1.0))
            if self.lsock not in r:
                continue
            try:
                conn, addr = self.lsock.accept()
            except (socket.timeout, BlockingIOError):
                continue
            self._next_id += 1
            t = threading.Thread(target=self._handle, args=(conn, self._next_id), daemon=True)
            t.start()
            self.threads = [x for x in self.threads if x.is_alive()] + [t]
        self.shutdown()

    def shutdown(self):
        self.stop_event.set()
        try:
            self.lsock.close()
        except OSError:
            pass
        with self._sessions_lock:
            sessions = list(self._sessions)
        for sess in sessions:   # wake threads blocked in recv/send
            try:
                socket.socket.shutdown(sess.sock, socket.SHUT_RDWR)  # bypass SSLSocket.shutdown
            except (OSError, ValueError):
                pass
        for t in self.threads:
            t.join(timeout=1)

    def _handle(self, conn: socket.socket, cid: int):
        s = Session(self, conn, cid)
        sc = self.cfg.scenario
        self.event(cid, "connect")
        with self._sessions_lock:
            self._sessions.add(s)
        try:
            if self.cfg.tls == "implicit":
                if sc == "tls_stall":
                    s.stall("tls_handshake")
                s.start_tls()
            if sc == "silent":
                s.stall("silent")
            if sc == "garbage_greeting":
                s.send(GARBAGE_GREETING)
                s.close_abruptly()
            if sc == "huge_line":
                send_huge_line(s)
            HANDLERS[self.cfg.proto](s)
        except (ClientGone, Stop):
            pass
        except Exception as e:  # keep the server alive, but make it visible
            self.event(cid, "handler_error", error=repr(e))
        finally:
            with self._sessions_lock:
                self._sessions.discard(s)
            self.event(cid, "close")
            s.close_files()
            try:
                s.sock.close()
            except OSError:
                pass


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--proto", required=True, choices=PROTOS)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--tls", default="none", choices=TLS_MODES)
    ap.add_argument("--cert-kind", default="good", choices=CERT_KINDS)
    ap.add_argument("--certdir", default=None)
    ap.add_argument("--max-seconds", type=float, default=120.0)
    ap.add_argument("--port", type=int, default=0, help="default: ephemeral")
    ap.add_argument("--transcript-dir", default=None,
                    help="write conn-NNNN.all/.clear (client bytes) and events.jsonl here")
    ap.add_argument("--trickle-interval", type=float, default=1.0)
    ap.add_argument("--exit-on-stdin-eof", action="store_true",
                    help="exit when stdin closes (used by FakeServer so a dead parent leaves no server)")
    ap.add_argument("--make-certs", action="store_true",
                    help="only create/refresh certificates in --certdir, print the dir and exit")
    ap.add_argument("--verbose", action="store_true", help="log events to stderr")
    a = ap.parse_args(argv)
    if a.scenario not in SCENARIOS[a.proto]:
        ap.error(f"scenario {a.scenario!r} not available for {a.proto}; "
                 f"choose from: {', '.join(SCENARIOS[a.proto])}")
    if a.scenario == "tls_stall" and a.tls == "none":
        ap.error("tls_stall needs --tls implicit (or starttls)")
    return a


def main(argv=None):
    cfg = parse_args(argv)
    if cfg.make_certs:
        print(ensure_certs(cfg.certdir), flush=True)
        return 0
    srv = Server(cfg)

    def on_signal(signum, frame):
        srv.request_stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if cfg.exit_on_stdin_eof:
        def watch_stdin():
            try:
                while os.read(0, 4096):
                    pass
            except OSError:
                pass
            srv.request_stop()
        threading.Thread(target=watch_stdin, daemon=True).start()
    sys.stdout.write(f"PORT {srv.port}\n")
    sys.stdout.flush()
    srv.serve(time.monotonic() + cfg.max_seconds)
    return 0


# --------------------------------------------------------------------------
# Library wrapper
# --------------------------------------------------------------------------

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
