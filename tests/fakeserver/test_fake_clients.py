"""The fake server's certificates, and its ok scenario as real clients see it: Python's
smtplib/imaplib/poplib and the curl CLI (skipped without curl), with and without TLS.
"""

import imaplib
import os
import poplib
import shutil
import smtplib
import socket
import ssl
import subprocess
import unittest

from fake_testlib import CURL, Base, FakeServer, check_nothing_left, connect, fs, recv_line


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


def tearDownModule():
    check_nothing_left()


if __name__ == "__main__":
    unittest.main()
