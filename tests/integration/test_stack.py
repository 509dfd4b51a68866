"""Tests of the throwaway mail stack itself (tests/stack/mailstack.sh) and of the harness.

Each test that reads a mailbox owns a distinct t-user (t01..t20 here); shared mailboxes
(probe, monitor, greylist) are only searched for a unique token.
"""

import imaplib
import math
import os
import poplib
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import uuid
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

from mailprobe_harness import (HarnessError, PerfdataError, SilentListener, dns_query,
                               parse_perfdata, parse_plugin_output, run_plugin, unused_port)
from mp_testlib import PluginTestCase


def make_msg(to, subject=None, sender="probe@mail.test", body="hello from test_stack\n"):
    token = subject or f"stacktest-{uuid.uuid4().hex}"
    m = EmailMessage()
    m["From"] = sender
    m["To"] = to
    m["Subject"] = token
    m["Message-ID"] = f"<{uuid.uuid4().hex}@harness.test>"
    m.set_content(body)
    return token, m.as_bytes()


def headers(path):
    return BytesParser(policy=default_policy).parsebytes(Path(path).read_bytes(), headersonly=True)


class StackTestCase(PluginTestCase):
    """The stack itself; the shared base case brings the Stack and empties `users`."""

    def take_shared(self, user, token, timeout=10):
        """Find the message with token in a shared mailbox (probe, monitor, greylist), then remove it."""
        path = self.stack.wait_for_message(user, token, timeout=timeout)
        self.stack.expunge(user, "mailbox", "*", "subject", token)
        self.assertFalse(path.exists())
        return path


class DeliveryTests(StackTestCase):
    users = ("t01", "t02", "t03", "t04", "t06", "t07", "t08", "t09", "t12")

    def test_plain_smtp_delivery_lands_in_maildir(self):
        s = self.stack
        token, msg = make_msg("t01@mail.test")
        t0 = time.monotonic()
        refused = s.send("t01@mail.test", msg)
        self.assertEqual(refused, {})
        path = s.wait_for_message("t01", token, timeout=10)
        elapsed = time.monotonic() - t0
        self.assertLess(elapsed, 5)
        self.assertEqual(len(s.messages("t01")), 1)
        self.assertEqual(path.stat().st_uid, 8, "Maildir files belong to the mail user")
        rcvd = headers(path).get_all("Received")
        self.assertEqual(len(rcvd), 1, rcvd)
        self.assertIn("by mx.mail.test", rcvd[0])
        self.assertEqual(s.messages("t01", "Junk"), [])

    def test_smtp_starttls_verifies_with_ca(self):
        s = self.stack
        with smtplib.SMTP(s.host, s.smtp_port, timeout=10) as c:
            c.ehlo("harness.test")
            self.assertTrue(c.has_extn("starttls"))
            self.assertFalse(c.has_extn("auth"), "port 25 must not offer AUTH")
            ctx = s.ssl_context()
            ctx.check_hostname = True
            c.starttls(context=ctx)  # raises when the certificate does not verify
            cert = c.sock.getpeercert()
            sans = {v for k, v in cert["subjectAltName"]}
            self.assertTrue({"localhost", "mx.mail.test", "relay.test", "mail.test", "127.0.0.1"} <= sans)
            c.ehlo("harness.test")
            token, msg = make_msg("t02@mail.test")
            c.sendmail("probe@mail.test", ["t02@mail.test"], msg)
        s.wait_for_message("t02", token)
        self.assertIn("ESMTPS", headers(s.messages("t02")[0])["Received"])

    def test_smtps_implicit_tls(self):
        s = self.stack
        token, msg = make_msg("t03@mail.test")
        ctx = s.ssl_context()
        with smtplib.SMTP_SSL("localhost", s.smtps_port, timeout=10, context=ctx) as c:
            c.ehlo("harness.test")
            c.sendmail("probe@mail.test", ["t03@mail.test"], msg)
        s.wait_for_message("t03", token)

    def test_detail_mailbox_goes_to_junk(self):
        s = self.stack
        token, msg = make_msg("t04+Junk@mail.test")
        self.assertEqual(s.send("t04+Junk@mail.test", msg), {})
        s.wait_for_message("t04", token, folder="Junk")
        self.assertEqual(s.messages("t04"), [])

    def test_sendmail_injection(self):
        s = self.stack
        token, msg = make_msg("t06@mail.test")
        r = subprocess.run(["/usr/sbin/sendmail", "-C", s.postfix1_config, "-t", "-oi"], input=msg,
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        s.wait_for_message("t06", token, timeout=15)

    def test_deliver_raw_snapshot_and_empty(self):
        s = self.stack
        paths = [s.deliver_raw("t07", make_msg("t07@mail.test")[1]) for _ in range(3)]
        paths.append(s.deliver_raw("t07", make_msg("t07@mail.test")[1], folder="Junk", seen=True))
        self.assertEqual(len(s.messages("t07")), 3)
        self.assertEqual(len(s.messages("t07", "Junk")), 1)
        snap = s.snapshot("t07")
        self.assertEqual(len(snap), 4)
        self.assertTrue(all(p.stat().st_uid == 8 for p in paths))
        with imaplib.IMAP4_SSL(s.host, s.imaps_port, ssl_context=s.ssl_context(), timeout=10) as c:
            c.login("t07@mail.test", s.password("t07"))
            typ, data = c.select("INBOX", readonly=True)
            self.assertEqual(int(data[0]), 3)
            typ, data = c.select("Junk", readonly=True)
            self.assertEqual(int(data[0]), 1)
        # reading with EXAMINE changes nothing on disk
        self.assertEqual(s.snapshot("t07"), snap)
        s.empty("t07")
        self.assertEqual(s.messages("t07"), [])
        self.assertEqual(s.messages("t07", "Junk"), [])
        self.assertEqual(s.snapshot("t07"), {})

    def test_unknown_user_rejected_at_rcpt(self):
        s = self.stack
        with smtplib.SMTP(s.host, s.smtp_port, timeout=10) as c:
            c.ehlo("harness.test")
            c.mail("probe@mail.test")
            code, text = c.rcpt("nobody-here@mail.test")
            self.assertEqual(code, 550, text)
            self.assertIn(b"5.1.1", text)
            code, text = c.rcpt("nobody@no-mx.test")  # alias domain, unknown local part
            self.assertEqual(code, 550, text)
            code, text = c.rcpt("someone@example.com")  # no open relay on the plain port
            self.assertEqual(code, 554, text)
            self.assertIn(b"Relay access denied", text)
            code, text = c.rcpt("t08+whatever@mail.test")
            self.assertEqual(code, 250, text)

    def test_domain_aliases_deliver_to_probe(self):
        s = self.stack
        for dom in ("no-mx.test", "mx-fallback.test", "relay-dest.test"):
            token, msg = make_msg(f"probe@{dom}")
            self.assertEqual(s.send(f"probe@{dom}", msg), {})
            self.take_shared("probe", token)

    def test_forward_lands_in_monitor(self):
        s = self.stack
        token, msg = make_msg("forward@mail.test")
        self.assertEqual(s.send("forward@mail.test", msg), {})
        self.take_shared("monitor", token)

    def test_hold_and_release(self):
        s = self.stack
        s.hold()
        try:
            token, msg = make_msg("t09@mail.test")
            self.assertEqual(s.send("t09@mail.test", msg), {})
            time.sleep(1.5)
            self.assertEqual(s.messages("t09"), [], "held mail must not be delivered")
            self.assertGreaterEqual(len(s.queue_ids()), 1)
        finally:
            s.release()
        s.wait_for_message("t09", token, timeout=15)

    def test_lmtp_direct(self):
        s = self.stack
        token, msg = make_msg("t12@mail.test")
        with smtplib.LMTP(s.host, s.lmtp_port, timeout=10) as c:
            c.sendmail("probe@mail.test", ["t12@mail.test"], msg)
        s.wait_for_message("t12", token)


class SubmissionAndRelayTests(StackTestCase):
    users = ("t10", "t11", "t13", "t14")

    def test_submission_requires_starttls_and_auth(self):
        s = self.stack
        with smtplib.SMTP(s.host, s.submission_port, timeout=10) as c:
            c.ehlo("harness.test")
            self.assertFalse(c.has_extn("auth"), "AUTH must not be offered before STARTTLS")
            code, text = c.mail("probe@mail.test")
            self.assertEqual(code, 530, text)
            c.starttls(context=s.ssl_context())
            c.ehlo("harness.test")
            self.assertTrue(c.has_extn("auth"))
            code, text = c.mail("probe@mail.test")
            self.assertEqual(code, 530, text)
            self.assertIn(b"Authentication required", text)
            code, text = c.rcpt("t10@mail.test")
            self.assertEqual(code // 100, 5, text)
            with self.assertRaises(smtplib.SMTPAuthenticationError):
                c.login("t10@mail.test", "wrong-password")
        token, msg = make_msg("t10@mail.test")
        self.assertEqual(s.send("t10@mail.test", msg, s.submission_port, starttls=True, login="t10"), {})
        path = s.wait_for_message("t10", token)
        self.assertIn("ESMTPSA", headers(path)["Received"])

    def test_relay_two_hops(self):
        s = self.stack
        token, msg = make_msg("t11@mail.test")
        self.assertEqual(s.send("t11@mail.test", msg, s.relay_submission_port, starttls=True,
                                login="relayuser"), {})
        path = s.wait_for_message("t11", token, timeout=15)
        rcvd = headers(path).get_all("Received")
        self.assertEqual(len(rcvd), 2, rcvd)
        self.assertIn("by mx.mail.test", rcvd[0])
        self.assertIn("from relay.test", rcvd[0])
        self.assertIn("by relay.test", rcvd[1])
        self.assertIn("ESMTPSA", rcvd[1])

    def test_relay_submission_requires_auth(self):
        s = self.stack
        with smtplib.SMTP(s.host, s.relay_submission_port, timeout=10) as c:
            c.starttls(context=s.ssl_context())
            c.ehlo("harness.test")
            code, text = c.mail("probe@mail.test")
            self.assertEqual(code, 530, text)

    def test_relay_plain_port_from_loopback(self):
        s = self.stack
        token, msg = make_msg("t13@mail.test")
        self.assertEqual(s.send("t13@mail.test", msg, s.relay_smtp_port), {})
        path = s.wait_for_message("t13", token, timeout=15)
        rcvd = headers(path).get_all("Received")
        self.assertEqual(len(rcvd), 2, rcvd)
        self.assertIn("by relay.test", rcvd[1])

    def test_relay_via_alias_domain(self):
        s = self.stack
        token, msg = make_msg("probe@relay-dest.test")
        self.assertEqual(s.send("probe@relay-dest.test", msg, s.relay_smtp_port), {})
        self.take_shared("probe", token, timeout=15)

    def test_greylisting_450_then_accepted(self):
        s = self.stack
        rcpt = f"greylist+{uuid.uuid4().hex[:10]}@mail.test"
        token, msg = make_msg(rcpt)
        with smtplib.SMTP(s.host, s.smtp_port, timeout=10) as c:
            c.ehlo("harness.test")
            c.mail("probe@mail.test")
            code, text = c.rcpt(rcpt)
            self.assertEqual(code, 450, text)
            self.assertIn(b"4.7.1", text)
            self.assertIn(b"greylisted", text)
            c.rset()
            c.mail("probe@mail.test")
            code, text = c.rcpt(rcpt)  # too early
            self.assertEqual(code, 450, text)
            # other recipients are not greylisted
            c.rset()
            c.mail("probe@mail.test")
            code, text = c.rcpt("t14@mail.test")
            self.assertEqual(code, 250, text)
        time.sleep(1.1)
        self.assertEqual(s.send(rcpt, msg), {})
        self.take_shared("greylist", token)


class AccessTests(StackTestCase):
    users = ("t15", "t16", "t17", "t18")

    def _deliver(self, user):
        token, msg = make_msg(f"{user}@mail.test")
        self.stack.send(f"{user}@mail.test", msg)
        self.stack.wait_for_message(user, token)
        return token

    def test_imaps_with_ca_and_idle(self):
        s = self.stack
        token = self._deliver("t15")
        ctx = s.ssl_context()
        ctx.check_hostname = True
        with imaplib.IMAP4_SSL("localhost", s.imaps_port,
                               ssl_context=ctx, timeout=10) as c:
            self.assertIn("IDLE", c.capabilities)
            c.login("t15@mail.test", s.password("t15"))
            typ, data = c.capability()
            caps = data[0].decode().split()
            for cap in ("IDLE", "UIDPLUS", "SPECIAL-USE", "MOVE"):
                self.assertIn(cap, caps)
            typ, data = c.list()
            listing = b"\n".join(data)
            self.assertIn(b"Junk", listing)
            self.assertIn(b"\\Junk", listing)
            typ, data = c.select("INBOX")
            self.assertEqual(int(data[0]), 1)
            typ, data = c.search(None, "SUBJECT", token)
            self.assertEqual(data[0], b"1")
            # IDLE: a new delivery is announced
            tag = c._new_tag().decode()
            c.send(f"{tag} IDLE\r\n".encode())
            self.assertTrue(c.readline().startswith(b"+"))
            token2, msg2 = make_msg("t15@mail.test")
            s.send("t15@mail.test", msg2)
            c.sock.settimeout(10)
            line = c.readline()
            self.assertRegex(line, rb"^\* 2 EXISTS")
            c.send(b"DONE\r\n")
            while not c.readline().startswith(tag.encode()):
                pass
            # expunge (UIDPLUS UID EXPUNGE)
            typ, data = c.uid("SEARCH", None, "ALL")
            uids = data[0].split()
            c.uid("STORE", uids[0], "+FLAGS", "(\\Deleted)")
            typ, data = c.uid("EXPUNGE", uids[0])
            self.assertEqual(typ, "OK")
        self.assertEqual(len(s.messages("t15")), 1)

    def test_imap_plain_and_starttls_login(self):
        s = self.stack
        with imaplib.IMAP4(s.host, s.imap_port, timeout=10) as c:
            self.assertIn("STARTTLS", c.capabilities)
            c.login("t16@mail.test", s.password("t16"))  # plaintext allowed on loopback
        with imaplib.IMAP4(s.host, s.imap_port, timeout=10) as c:
            c.starttls(ssl_context=s.ssl_context())
            c.login("t16", s.password("t16"))  # default realm mail.test
        with imaplib.IMAP4(s.host, s.imap_port, timeout=10) as c:
            with self.assertRaises(imaplib.IMAP4.error):
                c.login("t16@mail.test", s.password("t17"))

    def test_pop3s_and_pop3_starttls(self):
        s = self.stack
        self._deliver("t17")
        c = poplib.POP3_SSL(s.host, s.pop3s_port, context=s.ssl_context(), timeout=10)
        try:
            c.user("t17@mail.test")
            c.pass_(s.password("t17"))
            count, size = c.stat()
            self.assertEqual(count, 1)
            self.assertGreater(size, 0)
        finally:
            c.quit()
        c = poplib.POP3(s.host, s.pop3_port, timeout=10)
        try:
            self.assertIn("STLS", c.capa())
            c.stls(context=s.ssl_context())
            c.user("t17@mail.test")
            c.pass_(s.password("t17"))
            self.assertEqual(c.stat()[0], 1)
            c.dele(1)
        finally:
            c.quit()
        self.assertEqual(s.messages("t17"), [])

    def test_wrong_ca_is_rejected(self):
        s = self.stack
        ctx = ssl.create_default_context()  # system CAs only
        with self.assertRaises(ssl.SSLCertVerificationError):
            imaplib.IMAP4_SSL(s.host, s.imaps_port, ssl_context=ctx, timeout=10)

    def test_passwords_and_secrets(self):
        s = self.stack
        self.assertIn("t40", s.users)
        pws = {u: s.password(u) for u in s.users}
        self.assertEqual(len(set(pws.values())), len(pws), "passwords must differ")
        for u in ("probe", "monitor", "other", "relayuser", "t01"):
            st = os.stat(s.password_file(u))
            self.assertEqual(st.st_mode & 0o777, 0o600)
            self.assertTrue(Path(s.password_file(u)).read_text().endswith("\n"))
            self.assertEqual(Path(s.password_file(u)).name, f"{u}.pass")
        self.assertEqual(s.maildir("t01", "Junk").name, ".Junk")
        with self.assertRaises(HarnessError):
            s.password("nosuchuser")


class DnsTests(StackTestCase):
    def test_mx_records(self):
        p = self.stack.dns_port
        self.assertEqual(dns_query("mail.test", "MX", p), (0, [("MX", (10, "mx.mail.test"))]))
        rcode, ans = dns_query("mx-fallback.test", "MX", p)
        self.assertEqual(sorted(a[1] for a in ans), [(10, "dead.mx-fallback.test"), (20, "mx.mail.test")])
        self.assertEqual(dns_query("no-mx.test", "MX", p), (0, []))
        self.assertEqual(dns_query("no-mx.test", "A", p), (0, [("A", "127.0.0.1")]))
        self.assertEqual(dns_query("null-mx.test", "MX", p), (0, [("MX", (0, "."))]))
        self.assertEqual(dns_query("mx.mail.test", "A", p), (0, [("A", "127.0.0.1")]))
        self.assertEqual(dns_query("relay.test", "A", p), (0, [("A", "127.0.0.1")]))
        self.assertEqual(dns_query("dead.mx-fallback.test", "A", p), (0, [("A", "127.0.0.2")]))
        self.assertEqual(dns_query("does-not-exist.test", "A", p)[0], 3)  # NXDOMAIN

    def test_dead_mx_refuses_connections(self):
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.2", self.stack.smtp_port), timeout=5).close()


class PerfdataParserTests(unittest.TestCase):
    def test_valid(self):
        pd = parse_perfdata("time=0.123s;1;2;0; 'round trip'=5ms size=1024B;;;0;10240 "
                            "'it''s'=3;~:5;@10:20 pct=99.5%;90:;80:;0;100 cnt=7c u=U;1;2 neg=-1.5e-3;-1:1")
        self.assertEqual(pd["time"], (0.123, "s", "1", "2", 0.0, None))
        self.assertEqual(pd["round trip"].value, 5.0)
        self.assertEqual(pd["round trip"].uom, "ms")
        self.assertEqual(pd["size"].max, 10240.0)
        self.assertEqual(pd["it's"].warn, "~:5")
        self.assertEqual(pd["it's"].crit, "@10:20")
        self.assertEqual(pd["pct"].uom, "%")
        self.assertEqual(pd["cnt"].uom, "c")
        self.assertTrue(math.isnan(pd["u"].value))
        self.assertEqual(pd["neg"].value, -0.0015)
        self.assertEqual(parse_perfdata(""), {})

    def test_invalid(self):
        for bad in ("time", "time=", "time=abc", "time=1x", "'open=1", "a=1;2;3;4;5;6",
                    "a=1;x", "a=1;;;zero", "a=1 a=2", "=1", "a=1;5:1", "a b=1", "a=1;;@",
                    "a=1\tb=2"):
            with self.subTest(bad=bad), self.assertRaises(PerfdataError):
                parse_perfdata(bad)

    def test_full_output(self):
        out = ("MAILPROBE OK - round trip 1.2s|rtt=1.2s;10;20;0\n"
               "sent via smtp://127.0.0.1\n"
               "found in INBOX|imap=0.4s\n"
               "smtp=0.3s;;;0\n")
        p = parse_plugin_output(out)
        self.assertEqual(p.status_word, "OK")
        self.assertEqual(p.long_output, ["sent via smtp://127.0.0.1", "found in INBOX"])
        self.assertEqual(sorted(p.perfdata), ["imap", "rtt", "smtp"])
        self.assertEqual(parse_plugin_output("CRITICAL: x\n").status_word, "CRITICAL")
        with self.assertRaises(PerfdataError):
            parse_plugin_output("")
        with self.assertRaises(PerfdataError):
            parse_plugin_output("OK|\n")
        with self.assertRaises(PerfdataError):
            parse_plugin_output("OK|a=1\nmore|a=2\n")  # duplicate label


class HarnessTests(unittest.TestCase):
    def test_run_plugin_with_fake_binary(self):
        with tempfile.TemporaryDirectory() as d:
            fake = Path(d) / "check_fake"
            fake.write_text("#!/bin/sh\n"
                            "if [ -e /proc/self/fd/0 ]; then s=open; else s=closed; fi\n"
                            "echo \"FAKE WARNING - stdin $s $FAKE_VAR|t=1s;2;3\"\n"
                            "echo extra\necho oops >&2\nexit 1\n")
            fake.chmod(0o755)
            old = os.environ.get("MAILPROBE_BIN_DIR")
            os.environ["MAILPROBE_BIN_DIR"] = d
            try:
                r = run_plugin("check_fake", ["-x"], env={"FAKE_VAR": "v"})
            finally:
                if old is None:
                    del os.environ["MAILPROBE_BIN_DIR"]
                else:
                    os.environ["MAILPROBE_BIN_DIR"] = old
        self.assertEqual(r.code, 1)
        self.assertEqual(r.status_word, "WARNING")
        self.assertEqual(r.first_line, "FAKE WARNING - stdin closed v|t=1s;2;3")
        self.assertEqual(r.perfdata["t"], (1.0, "s", "2", "3", None, None))
        self.assertEqual(r.long_output, ["extra"])
        self.assertEqual(r.stderr, "oops\n")
        self.assertLess(r.elapsed, 5)

    def test_silent_listener_and_unused_port(self):
        port = unused_port()
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        with SilentListener() as sl:
            with socket.create_connection(("127.0.0.1", sl.port), timeout=2) as c:
                c.sendall(b"EHLO x\r\n")
                c.settimeout(0.5)
                with self.assertRaises(socket.timeout):
                    c.recv(1)
            deadline = time.monotonic() + 2
            while sl.connections < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertEqual(sl.connections, 1)


if __name__ == "__main__":
    unittest.main()
