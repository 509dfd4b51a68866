"""Faults of one protocol each: IMAP tags, floods, ghost UIDs and endless headers; POP3 lying
sizes and endless TOP; SMTP rejections, greylisting and failed AUTH.
"""

import imaplib
import poplib
import smtplib
import socket
import time
import unittest

from fake_testlib import Base, FakeServer, check_nothing_left, connect, recv_line, recv_until


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


def tearDownModule():
    check_nothing_left()


if __name__ == "__main__":
    unittest.main()
