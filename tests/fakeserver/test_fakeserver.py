#!/usr/bin/env python3
"""Self-test for fakeserver.py: every scenario does what it promises.

Run: python3 tests/fakeserver/test_fakeserver.py [-v]
Needs: python3 stdlib, openssl CLI, curl CLI (curl tests are skipped without it).
"""

import imaplib
import os
import poplib
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import threading
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


class TestCerts(Base):
    EXPECT = {  # kind -> (verify_code, message fragment) against ca.pem, host 'localhost'
        "expired": (10, "certificate has expired"),
        "notyet": (9, "not yet valid"),
        "selfsigned": (18, "self-signed certificate"),
        "wronghost": (62, "Hostname mismatch"),
        "untrusted": (20, "unable to get local issuer certificate"),
    }

    def test_good_cert_verifies_by_name_and_ip(self):
        with FakeServer("pop3", "ok", tls="implicit", cert_kind="good") as srv:
            for host in ("localhost", "127.0.0.1"):
                with connect(srv, tls=True, hostname=host) as s:
                    self.assertTrue(recv_line(s).startswith(b"+OK "))

    def test_bad_certs_fail_with_right_error(self):
        for kind, (code, frag) in self.EXPECT.items():
            with self.subTest(kind=kind), FakeServer("smtp", "ok", tls="implicit", cert_kind=kind) as srv:
                with self.assertRaises(ssl.SSLCertVerificationError) as cm:
                    connect(srv, tls=True)
                self.assertEqual(cm.exception.verify_code, code, cm.exception)
                self.assertIn(frag, str(cm.exception))

    def test_untrusted_is_valid_for_its_own_ca(self):
        with FakeServer("imap", "ok", tls="implicit", cert_kind="untrusted") as srv:
            ctx = ssl.create_default_context(cafile=srv.untrusted_ca_path)
            with ctx.wrap_socket(socket.create_connection((srv.host, srv.port), timeout=3),
                                 server_hostname="localhost") as s:
                self.assertTrue(recv_line(s).startswith(b"* OK"))

    def test_certs_are_cached(self):
        d = fs.ensure_certs()
        before = os.stat(os.path.join(d, "ca.pem")).st_mtime_ns
        self.assertEqual(fs.ensure_certs(), d)
        self.assertEqual(os.stat(os.path.join(d, "ca.pem")).st_mtime_ns, before)


class TestOkStdlibClients(Base):
    def test_smtp(self):
        for tls in ("none", "starttls", "implicit"):
            with self.subTest(tls=tls), FakeServer("smtp", "ok", tls=tls) as srv:
                ctx = ssl.create_default_context(cafile=srv.ca_path)
                if tls == "implicit":
                    c = smtplib.SMTP_SSL("localhost", srv.port, timeout=5, context=ctx)
                else:
                    c = smtplib.SMTP("127.0.0.1", srv.port, timeout=5)
                c.ehlo()
                self.assertTrue(c.has_extn("pipelining") and c.has_extn("8bitmime"))
                self.assertEqual(c.has_extn("starttls"), tls == "starttls")
                if tls == "starttls":
                    c.starttls(context=ctx)   # verifies 127.0.0.1 against the IP SAN
                    c.ehlo()
                c.login("user", "secret")
                self.assertEqual(c.sendmail("a@b.test", ["c@d.test"], "Subject: x\r\n\r\nhi\r\n"), {})
                self.assertEqual(c.quit()[0], 221)
                self.assertIn(b"DATA\r\nSUBJECT: X\r\n\r\nHI\r\n.\r\n", srv.transcript().upper())
                self.assertEqual(srv.cleartext_auth_seen(), tls == "none")

    def test_imap(self):
        for tls in ("none", "starttls", "implicit"):
            with self.subTest(tls=tls), FakeServer("imap", "ok", tls=tls) as srv:
                ctx = ssl.create_default_context(cafile=srv.ca_path)
                if tls == "implicit":
                    m = imaplib.IMAP4_SSL("localhost", srv.port, ssl_context=ctx, timeout=5)
                else:
                    m = imaplib.IMAP4("localhost", srv.port, timeout=5)
                for cap in ("IMAP4REV1", "IDLE", "UIDPLUS", "AUTH=PLAIN"):
                    self.assertIn(cap, m.capabilities)
                if tls == "starttls":
                    self.assertIn("STARTTLS", m.capabilities)
                    m.starttls(ssl_context=ctx)
                m.login("user", "secret")
                typ, data = m.select("INBOX")
                self.assertEqual((typ, data), ("OK", [b"3"]))
                self.assertEqual(m.response("UIDVALIDITY")[1], [b"1700000000"])
                self.assertEqual(m.response("UIDNEXT")[1], [b"4"])
                self.assertEqual(m.uid("SEARCH", None, "ALL"), ("OK", [b"1 2 3"]))
                self.assertEqual(m.uid("SEARCH", None, "HEADER", "Subject", '"message 2"'), ("OK", [b"2"]))
                typ, data = m.uid("FETCH", "2", "(UID BODY.PEEK[HEADER])")
                self.assertEqual(typ, "OK")
                self.assertIn(b"Subject: mailprobe test message 2", data[0][1])
                # IDLE by hand
                m.send(b"i1 IDLE\r\n")
                self.assertEqual(m.readline(), b"+ idling\r\n")
                m.send(b"DONE\r\n")
                self.assertEqual(m.readline(), b"i1 OK IDLE terminated\r\n")
                m.noop()
                m.logout()
                self.assertEqual(srv.cleartext_auth_seen(), tls == "none")

    def test_pop3(self):
        for tls in ("none", "starttls", "implicit"):
            with self.subTest(tls=tls), FakeServer("pop3", "ok", tls=tls) as srv:
                ctx = ssl.create_default_context(cafile=srv.ca_path)
                if tls == "implicit":
                    p = poplib.POP3_SSL("localhost", srv.port, context=ctx, timeout=5)
                else:
                    p = poplib.POP3("localhost", srv.port, timeout=5)
                caps = p.capa()
                for c in ("USER", "UIDL", "TOP", "SASL"):
                    self.assertIn(c, caps)
                self.assertEqual("STLS" in caps, tls == "starttls")
                if tls == "starttls":
                    p.stls(context=ctx)
                p.user("user")
                p.pass_("secret")
                n, total = p.stat()
                self.assertEqual(n, 3)
                resp, lines, _ = p.list()
                self.assertEqual(sum(int(l.split()[1]) for l in lines), total)
                self.assertEqual(p.uidl()[1][0], b"1 fakeuid-0001")
                resp, lines, octets = p.retr(1)
                self.assertIn(b".a line that starts with a dot", lines)  # un-stuffed by poplib
                resp, lines, _ = p.top(2, 0)
                self.assertIn(b"Subject: mailprobe test message 2", lines)
                self.assertNotIn(b"This is test message 2.", lines)
                p.dele(3)
                self.assertEqual(p.stat()[0], 2)
                p.quit()


@unittest.skipUnless(CURL, "curl CLI not installed")
class TestOkCurl(Base):
    def curl(self, *args):
        r = subprocess.run([CURL, "-sS", "-v", "-m", "10", *args], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return r.returncode, r.stdout, r.stderr.decode(errors="replace")

    def run_curl(self, proto, tls, url_tail, *extra):
        with FakeServer(proto, "ok", tls=tls) as srv:
            scheme = proto + ("s" if tls == "implicit" else "")
            tlsargs = ["--cacert", srv.ca_path] + (["--ssl-reqd"] if tls == "starttls" else [])
            rc, out, err = self.curl(f"{scheme}://localhost:{srv.port}{url_tail}", "--user", "u:p",
                                     *tlsargs, *extra)
            self.assertEqual(rc, 0, err)
            if tls != "none":
                self.assertIn("SSL connection using", err)
                self.assertFalse(srv.cleartext_auth_seen(), srv.events())
            return srv.transcript(), out

    def test_curl(self):
        mail = os.path.join(self.tmp, "mail.txt")
        with open(mail, "wb") as f:
            f.write(b"Subject: probe\r\n\r\nhello\r\n")
        for tls in ("none", "starttls", "implicit"):
            with self.subTest(proto="smtp", tls=tls):
                t, _ = self.run_curl("smtp", tls, "", "--mail-from", "a@b.test",
                                     "--mail-rcpt", "c@d.test", "-T", mail)
                self.assertIn(b"RCPT TO:<c@d.test>", t)
                self.assertIn(b"hello\r\n.\r\n", t)
            with self.subTest(proto="imap", tls=tls):
                t, out = self.run_curl("imap", tls, "/INBOX?ALL")
                self.assertIn(b"SELECT INBOX", t)
                self.assertIn(b"* SEARCH 1 2 3", out)
            with self.subTest(proto="imap-fetch", tls=tls):
                t, out = self.run_curl("imap", tls, "/INBOX;UID=1")
                self.assertIn(b"Subject: mailprobe test message 1", out)
            with self.subTest(proto="pop3", tls=tls):
                t, out = self.run_curl("pop3", tls, "/")
                self.assertIn(b"LIST", t)
                self.assertEqual(out.split(b"\r\n")[0].split()[0], b"1")

    def test_curl_refuses_downgrade(self):
        for proto in ("smtp", "imap", "pop3"):
            with self.subTest(proto=proto), FakeServer(proto, "starttls_downgrade", tls="starttls") as srv:
                rc, _, err = self.curl(f"{proto}://127.0.0.1:{srv.port}/", "--user", "u:p", "--ssl-reqd")
                self.assertNotEqual(rc, 0)
                self.assertFalse(srv.cleartext_auth_seen())
                self.assertNotRegex(srv.transcript(), rb"(?im)^(\S+ )?(AUTH|AUTHENTICATE|LOGIN|USER|PASS)\b")

    def setUp(self):
        import tempfile
        self.tmp = tempfile.mkdtemp(prefix="mpfake-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


class TestCommonFaults(Base):
    def test_silent(self):
        for proto in fs.PROTOS:
            with self.subTest(proto=proto), FakeServer(proto, "silent") as srv, connect(srv) as s:
                self.assertSilent(s)

    def test_greeting_stall(self):
        for proto in fs.PROTOS:
            with self.subTest(proto=proto), FakeServer(proto, "greeting_stall") as srv, connect(srv) as s:
                self.assertTrue(recv_line(s).startswith(GREETING[proto]))
                s.sendall(FIRST_CMD[proto])
                self.assertSilent(s)
                self.assertIn(FIRST_CMD[proto], srv.transcript())

    def test_login_stall(self):
        for proto, pre, login in (
            ("imap", [b"a1 CAPABILITY\r\n"], b"a2 LOGIN user secret\r\n"),
            ("imap", [], b"a2 AUTHENTICATE PLAIN AHVzZXIAc2VjcmV0\r\n"),
            ("pop3", [b"CAPA\r\n", b"USER user\r\n"], b"PASS secret\r\n"),
            ("pop3", [], b"AUTH PLAIN AHVzZXIAc2VjcmV0\r\n"),
            ("smtp", [b"EHLO x\r\n"], b"AUTH PLAIN AHVzZXIAc2VjcmV0\r\n"),
        ):
            with self.subTest(proto=proto, login=login), FakeServer(proto, "login_stall") as srv, \
                    connect(srv) as s:
                recv_line(s)
                for cmd in pre:
                    s.sendall(cmd)
                    if proto == "smtp":
                        r = smtp_reply(s)
                    else:
                        end = {b"a1": b"a1 OK", b"CA": b"\r\n.\r\n"}.get(cmd[:2], b"\r\n")
                        r = recv_until(s, end)
                    self.assertTrue(r and r[:1] in b"*+2a", r)
                s.sendall(login)
                self.assertSilent(s)

    def test_data_stall(self):
        with FakeServer("smtp", "data_stall") as srv, connect(srv) as s:
            recv_line(s)
            s.sendall(b"EHLO x\r\n")
            self.assertIn(b"\r\n250 ", smtp_reply(s))
            for cmd, code in ((b"MAIL FROM:<a@b>\r\n", b"250"), (b"RCPT TO:<c@d>\r\n", b"250"),
                              (b"DATA\r\n", b"354")):
                s.sendall(cmd)
                self.assertTrue(recv_line(s).startswith(code))
            s.sendall(b"Subject: x\r\n\r\nbody\r\n.\r\n")
            self.assertSilent(s)
            self.assertTrue(srv.wait_for_event("stall"))

    def test_trickle(self):
        # default interval: one byte per second
        with FakeServer("smtp", "trickle") as srv, connect(srv) as s:
            t0 = time.monotonic()
            s.settimeout(2)
            self.assertEqual(s.recv(100), b"2")
            got = b""
            end = t0 + 2.6
            while time.monotonic() < end:
                s.settimeout(max(0.01, end - time.monotonic()))
                try:
                    got += s.recv(100)
                except socket.timeout:
                    break
            self.assertIn(len(got), (1, 2, 3), got)   # ~2 more bytes in ~2.6 s
            self.assertTrue(b"220 mx.test".startswith(b"2" + got))
        # fast interval: everything (greeting and replies) comes byte by byte
        for proto in ("imap", "pop3"):
            with self.subTest(proto=proto), FakeServer(proto, "trickle", trickle_interval=0.02) as srv, \
                    connect(srv) as s:
                s.settimeout(2)
                pieces = []
                while not b"".join(pieces).endswith(b"\r\n"):
                    pieces.append(s.recv(100))
                self.assertTrue(all(len(p) == 1 for p in pieces))
                self.assertTrue(b"".join(pieces).startswith(GREETING[proto]))

    def test_tls_stall(self):
        for proto in fs.PROTOS:
            with self.subTest(proto=proto, tls="implicit"), FakeServer(proto, "tls_stall", tls="implicit") as srv:
                raw = socket.create_connection((srv.host, srv.port), timeout=1.0)
                ctx = ssl.create_default_context(cafile=srv.ca_path)
                t0 = time.monotonic()
                with self.assertRaises((socket.timeout, TimeoutError)):
                    ctx.wrap_socket(raw, server_hostname="localhost")
                self.assertGreaterEqual(time.monotonic() - t0, 0.9)
                raw.close()
        with FakeServer("smtp", "tls_stall", tls="starttls") as srv, connect(srv) as s:
            recv_line(s)
            s.sendall(b"STARTTLS\r\n")
            self.assertTrue(recv_line(s).startswith(b"220 "))
            s.settimeout(1.0)
            with self.assertRaises((socket.timeout, TimeoutError)):
                ssl.create_default_context(cafile=srv.ca_path).wrap_socket(s, server_hostname="localhost")

    def test_close_mid_reply(self):
        expect = {"smtp": b"250-mx.test Hel", "imap": b"* CAPABILITY IMAP4rev1 ID", "pop3": b"+OK Capabil"}
        for proto in fs.PROTOS:
            with self.subTest(proto=proto), FakeServer(proto, "close_mid_reply") as srv, connect(srv) as s:
                self.assertTrue(recv_line(s).startswith(GREETING[proto]))
                s.sendall(FIRST_CMD[proto])
                self.assertEqual(recv_all(s, 3), expect[proto])   # then EOF

    def test_garbage_greeting(self):
        for proto in fs.PROTOS:
            with self.subTest(proto=proto), FakeServer(proto, "garbage_greeting") as srv, connect(srv) as s:
                data = recv_all(s, 3)
                self.assertEqual(data, fs.GARBAGE_GREETING)
                self.assertFalse(data.startswith(GREETING[proto]))
                for needle in (b"\x00", b"|", b"\x1b[", b"\x07"):
                    self.assertIn(needle, data)
                with self.assertRaises(UnicodeDecodeError):
                    data.decode("utf-8")

    def test_huge_line(self):
        for proto in fs.PROTOS:
            with self.subTest(proto=proto), FakeServer(proto, "huge_line") as srv, connect(srv) as s:
                data = recv_until(s, b"\n", timeout=20, limit=fs.HUGE_LINE_BYTES)
                self.assertGreater(len(data), 10 * 1024 * 1024)
                self.assertNotIn(b"\n", data)
                self.assertNotIn(b"\r", data)
                self.assertTrue(data.startswith(GREETING[proto]))
                self.assertSilent(s, 0.3)  # then nothing more, no EOF

    def test_huge_line_client_gone(self):
        with FakeServer("smtp", "huge_line") as srv:
            s = connect(srv)
            s.recv(1000)
            s.close()
            self.assertTrue(srv.wait_for_event("close", timeout=5))

    def test_binary(self):
        for proto in fs.PROTOS:
            with self.subTest(proto=proto), FakeServer(proto, "binary") as srv, connect(srv) as s:
                self.assertTrue(recv_line(s).startswith(GREETING[proto]))
                s.sendall(FIRST_CMD[proto])
                r = recv_until(s, b"\x00\r\n", 3)
                self.assertTrue(r.startswith(b"\x00\x00"))
                self.assertIn(b"\x00", r[4:])

    def test_starttls_downgrade(self):
        with FakeServer("smtp", "starttls_downgrade", tls="starttls") as srv:
            c = smtplib.SMTP("127.0.0.1", srv.port, timeout=5)
            c.ehlo()
            self.assertFalse(c.has_extn("starttls"))
            self.assertEqual(c.docmd("STARTTLS")[0], 454)
            c.quit()
            self.assertFalse(srv.cleartext_auth_seen())
            # a naive client that logs in anyway is caught
            c = smtplib.SMTP("127.0.0.1", srv.port, timeout=5)
            c.login("user", "secret")
            c.quit()
            self.assertTrue(srv.cleartext_auth_seen())
            self.assertIn(b"AUTH PLAIN", srv.transcript(cleartext_only=True))
        with FakeServer("imap", "starttls_downgrade", tls="starttls") as srv:
            m = imaplib.IMAP4("127.0.0.1", srv.port, timeout=5)
            self.assertNotIn("STARTTLS", m.capabilities)
            with self.assertRaises(imaplib.IMAP4.error):
                m._simple_command("STARTTLS")
            m.logout()
            self.assertFalse(srv.cleartext_auth_seen())
        with FakeServer("pop3", "starttls_downgrade", tls="starttls") as srv:
            p = poplib.POP3("127.0.0.1", srv.port, timeout=5)
            self.assertNotIn("STLS", p.capa())
            with self.assertRaises(poplib.error_proto):
                p._shortcmd("STLS")
            p.user("user")
            p.quit()
            self.assertTrue(srv.cleartext_auth_seen())
            self.assertEqual([e["verb"] for e in srv.events() if e["event"] == "cleartext_auth"], ["USER"])


class TestImapFaults(Base):
    def login_select(self, srv):
        s = connect(srv, timeout=5)
        recv_line(s)
        s.sendall(b"a1 LOGIN user secret\r\n")
        self.assertIn(b"a1 OK", recv_until(s, b"a1 OK"))
        return s

    def test_wrong_tags(self):
        with FakeServer("imap", "wrong_tags") as srv, connect(srv) as s:
            recv_line(s)
            for tag in (b"a1", b"a2"):
                s.sendall(tag + b" NOOP\r\n")
                line = recv_line(s)
                rtag = line.split(b" ", 1)[0]
                self.assertNotIn(rtag, (tag, b"*", b"+"))
                self.assertTrue(line.endswith(b"OK NOOP completed\r\n"))

    def test_untagged_flood(self):
        with FakeServer("imap", "untagged_flood") as srv:
            s = self.login_select(srv)
            s.sendall(b"a2 SELECT INBOX\r\n")
            data = recv_until(s, b"\r\na2 OK", timeout=30)
            self.assertIn(b"a2 OK [READ-WRITE]", data[-200:])
            self.assertGreater(len(data), 45 * 1024 * 1024)
            self.assertLess(len(data), 52 * 1024 * 1024)
            self.assertGreater(data.count(b"\r\n* 1 EXISTS\r\n"), 200000)
            self.assertGreater(data.count(b"\r\n* OK "), 200000)
            s.sendall(b"a3 NOOP\r\n")            # still alive afterwards
            self.assertEqual(recv_line(s), b"a3 OK NOOP completed\r\n")
            s.close()

    def test_search_ghost_uids(self):
        with FakeServer("imap", "search_ghost_uids") as srv:
            m = imaplib.IMAP4("127.0.0.1", srv.port, timeout=5)
            m.login("u", "p")
            m.select("INBOX")
            self.assertEqual(m.uid("SEARCH", None, "ALL"), ("OK", [b"4000000000 4000000001"]))
            typ, data = m.uid("FETCH", "4000000000:4000000001", "(BODY.PEEK[])")
            self.assertEqual(typ, "OK")
            self.assertEqual(data, [None])
            m.logout()

    def test_endless_header(self):
        with FakeServer("imap", "endless_header") as srv:
            m = imaplib.IMAP4("127.0.0.1", srv.port, timeout=20)
            m.login("u", "p")
            m.select("INBOX")
            typ, data = m.uid("FETCH", "1", "(BODY.PEEK[HEADER])")
            self.assertEqual(typ, "OK")
            self.assertIn(b"BODY[HEADER] {20971520}", data[0][0])
            hdr = data[0][1]
            self.assertEqual(len(hdr), 20 * 1024 * 1024)
            lines = hdr.split(b"\r\n")
            self.assertEqual(lines[-1], b"")
            self.assertTrue(all(l.startswith(b"Received: ") for l in lines[:-1]))
            m.logout()


class TestPop3Faults(Base):
    def test_lying_sizes(self):
        with FakeServer("pop3", "lying_sizes") as srv:
            p = poplib.POP3("127.0.0.1", srv.port, timeout=5)
            p.user("u")
            p.pass_("p")
            self.assertEqual(p.stat(), (3, 17))
            claimed = {int(a): int(b) for a, b in (l.split() for l in p.list()[1])}
            self.assertEqual(claimed, {1: 5, 2: 987654321, 3: 0})
            for n in (1, 2, 3):
                _, lines, octets = p.retr(n)
                self.assertGreater(abs(octets - claimed[n]), 100)
            self.assertGreater(p.retr(1)[2], 150000)
            p.quit()

    def test_endless_top(self):
        with FakeServer("pop3", "endless_top") as srv, connect(srv) as s:
            recv_line(s)
            s.sendall(b"USER u\r\n")
            recv_line(s)
            s.sendall(b"PASS p\r\n")
            recv_line(s)
            s.sendall(b"TOP 1 0\r\n")
            data = b""
            end = time.monotonic() + 2.5
            while time.monotonic() < end:
                s.settimeout(max(0.01, end - time.monotonic()))
                try:
                    data += s.recv(65536)
                except socket.timeout:
                    break
            self.assertTrue(data.startswith(b"+OK"))
            self.assertIn(b"Subject: mailprobe test message 1", data)
            self.assertIn(b"X-Endless-2:", data)          # keeps dripping
            self.assertNotIn(b"\r\n.\r\n", data)
            s.sendall(b"TOP 1 1\r\n")                      # never answered

    def test_top_nonzero_is_normal(self):
        with FakeServer("pop3", "endless_top") as srv:
            p = poplib.POP3("127.0.0.1", srv.port, timeout=5)
            p.user("u")
            p.pass_("p")
            self.assertIn(b"This is test message 1.", p.top(1, 1)[1])
            p.quit()


class TestSmtpFaults(Base):
    def test_reject_rcpt_greylist(self):
        for sc, code, enh in (("reject_rcpt", 550, b"5.1.1"), ("greylist", 451, b"4.7.1")):
            with self.subTest(sc=sc), FakeServer("smtp", sc) as srv:
                c = smtplib.SMTP("127.0.0.1", srv.port, timeout=5)
                c.ehlo()
                c.mail("a@b.test")
                r = c.rcpt("c@d.test")
                self.assertEqual(r[0], code)
                self.assertTrue(r[1].startswith(enh), r)
                c.quit()

    def test_auth_fail(self):
        with FakeServer("smtp", "auth_fail") as srv:
            c = smtplib.SMTP("127.0.0.1", srv.port, timeout=5)
            for mech in ("PLAIN", "LOGIN"):
                c.user, c.password = "u", "p"
                with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                    c.ehlo()
                    c.auth(mech, getattr(c, "auth_" + mech.lower()), initial_response_ok=(mech == "PLAIN"))
                self.assertEqual(cm.exception.smtp_code, 535)
                self.assertTrue(cm.exception.smtp_error.startswith(b"5.7.8"))
            c.quit()


class TestLifecycle(Base):
    def test_no_process_or_thread_left(self):
        threads = threading.active_count()
        srv = FakeServer("imap", "silent")
        with srv:
            pid = srv.proc.pid
            s = connect(srv)  # a connection still open while we stop
            os.kill(pid, 0)
        s.close()
        self.assertIsNone(srv.proc)
        self.assertEqual(srv.returncode, 0)
        with self.assertRaises(ProcessLookupError):
            os.kill(pid, 0)
        self.assertEqual(threading.active_count(), threads)
        self.assertEqual(child_pids(), [])
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()
        self.assertEqual(srv.transcript(), b"")  # still readable after stop

    def cli(self, *args):
        return subprocess.Popen([sys.executable, os.path.join(HERE, "fakeserver.py"), *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)

    def test_cli_max_seconds_and_sigterm(self):
        p = self.cli("--proto", "pop3", "--scenario", "ok", "--max-seconds", "1")
        first = p.stdout.readline()
        self.assertRegex(first, rb"^PORT \d+\n$")
        t0 = time.monotonic()
        self.assertEqual(p.wait(timeout=5), 0)
        self.assertLess(time.monotonic() - t0, 3)
        p.stdout.close(), p.stderr.close()
        p = self.cli("--proto", "smtp", "--scenario", "greeting_stall")
        port = int(p.stdout.readline().split()[1])
        c = socket.create_connection(("127.0.0.1", port), timeout=2)
        self.assertTrue(c.recv(100).startswith(b"220 "))
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=5), 0)
        self.assertLess(time.monotonic() - t0, 3)
        c.close()
        p.stdout.close(), p.stderr.close()

    def test_cli_rejects_bad_args(self):
        for args in (("--proto", "smtp", "--scenario", "wrong_tags"),
                     ("--proto", "imap", "--scenario", "nope"),
                     ("--proto", "pop3", "--scenario", "tls_stall")):
            p = self.cli(*args)
            out, err = p.communicate(timeout=10)
            self.assertEqual(p.returncode, 2, args)
            self.assertEqual(out, b"")

    def test_every_scenario_starts(self):
        for proto, scs in fs.SCENARIOS.items():
            for sc in scs:
                with self.subTest(proto=proto, sc=sc):
                    tls = "implicit" if sc == "tls_stall" else "none"
                    with FakeServer(proto, sc, tls=tls) as srv:
                        self.assertGreater(srv.port, 0)
                    self.assertRaises(ValueError, FakeServer, proto, sc + "x")


def tearDownModule():
    assert not HANDLER_ERRORS, f"server handler exceptions: {HANDLER_ERRORS}"
    left = child_pids()
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left behind: {left}"


if __name__ == "__main__":
    unittest.main()
