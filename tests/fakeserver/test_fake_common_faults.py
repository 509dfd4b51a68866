"""Faults every protocol scenario offers: silence, stalls, trickling, TLS stalls, replies cut
off, garbage, huge lines, binary, and the STARTTLS downgrade.
"""

import imaplib
import poplib
import smtplib
import socket
import ssl
import time
import unittest

from fake_testlib import (FIRST_CMD, GREETING, Base, FakeServer, check_nothing_left, connect, fs,
                          recv_all, recv_line, recv_until, smtp_reply)


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


def tearDownModule():
    check_nothing_left()


if __name__ == "__main__":
    unittest.main()
