"""Local sendmail submission and MX discovery (issue 4, setups 4 and 1 without -H).

sendmail: Postfix's own sendmail injects into the test Postfix #1 (-C its config); broken
and hanging sendmail programs are made up here.
MX: the stack's dnsmasq (--dns-server) serves mail.test (MX mx.mail.test), mx-fallback.test
(MX 10 dead.mx-fallback.test = 127.0.0.2 where nothing listens, MX 20 mx.mail.test),
no-mx.test (A only), null-mx.test (MX 0 "."). -p points every MX at the stack's SMTP port.
A first MX that answers but defers or rejects is a FakeSmtp on 127.0.0.3, published by a
FakeDns of the test's own (the stack's 127.0.0.2 must keep refusing: test_stack.py checks).

Mailboxes: t24 (sendmail), t25 (MX). probe@mx-fallback.test and probe@no-mx.test are
aliases of the shared probe mailbox: those tests use a unique --probe-name, so the plugin
only ever sees and deletes its own probe there.
"""

import os
import re
import socket
import stat
import subprocess
import threading
import time
import unittest
import uuid
from pathlib import Path

from mailprobe_harness import run_plugin
from mp_testlib import PluginTestCase


def imap_url(stack, user):
    return f"imap://{stack.address(user)}@{stack.host}:{stack.imap_port}/INBOX"


class Base(PluginTestCase):
    def script(self, name, body):
        path = Path(self.tmp) / name
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(0o755)
        return str(path)


# ---------------------------------------------------------------------- local sendmail

class SendmailTest(Base):
    USER = "t24"

    def setUp(self):
        self.stack.empty(self.USER)

    def roundtrip(self, sendmail, *extra, timeout=60):
        s = self.stack
        args = ["--sendmail", sendmail, "--to", s.address(self.USER),
                "--mailbox", imap_url(s, self.USER),
                "--mailbox-password-file", s.password_file(self.USER),
                "--state-dir", self.tmp, *extra]
        if "-t" not in extra:
            args += ["-t", "30"]
        return run_plugin("check_mail_roundtrip", args, timeout=timeout)

    def postfix_sendmail(self):
        return f"/usr/sbin/sendmail -C {self.stack.postfix1_config} -t -oi"

    def test_postfix_sendmail_round_trip(self):
        log = self.stack.log_dir / "postfix1.log"
        offset = log.stat().st_size
        run = self.roundtrip(self.postfix_sendmail(), "-v")
        self.assertStatus(run, "OK")
        self.assertRegex(run.first_line, r"probe delivered in [\d.]+ m?s \(sendmail -> t\d+@mail\.test on ")
        pd = run.perfdata
        self.assertIn("submit_time", pd)
        self.assertEqual(pd["submit_time"].uom, "s")
        self.assertGreater(pd["submit_time"].value, 0)
        self.assertIn("delivery", pd)
        for label in ("smtp_connect", "smtp_transaction", "dns_time"):
            self.assertNotIn(label, pd)  # nothing went over SMTP from the plugin itself
        self.assertTrue(any(l.startswith("[OK] send: handed to sendmail in") for l in run.long_output),
                        run.describe())
        # it really went through Postfix #1: its Received field is on the message, which
        # the plugin found and deleted
        self.assertEqual(self.stack.messages(self.USER), [])
        m = re.search(r"probe ([0-9a-f]{32}) of check", run.stdout)
        self.assertIsNotNone(m, run.describe())
        deadline = time.monotonic() + 5
        while True:  # postlogd writes asynchronously
            new = log.read_bytes()[offset:].decode(errors="replace")
            picked = re.findall(r"postfix1/pickup\[\d+\]: (\w+): uid=0 from=<", new)
            ids = re.findall(r"cleanup\[\d+\]: (\w+): message-id=<mailprobe\." + m.group(1), new)
            if (picked and ids) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(len(ids), 1, new)
        self.assertIn(ids[0], picked)  # the probe entered Postfix through its sendmail/pickup

    def test_sendmail_keep_shows_postfix_received(self):
        run = self.roundtrip(self.postfix_sendmail(), "--keep")
        self.assertStatus(run, "OK")
        msgs = self.stack.messages(self.USER)
        self.assertEqual(len(msgs), 1)
        text = msgs[0].read_text(errors="replace")
        self.assertRegex(text, r"Received: by mx\.mail\.test \(Postfix")
        self.assertIn("X-Mailprobe: v=2;", text)

    def test_sendmail_false_is_critical(self):
        run = self.roundtrip("/bin/false")
        self.assertStatus(run, "CRITICAL")
        self.assertIn("/bin/false failed with exit status 1", run.first_line)

    def test_sendmail_stderr_and_exit_75(self):
        prog = self.script("tempfail.sh",
                           'cat >/dev/null\necho "sendmail: fatal: queue file write error: No space left on device" >&2\n'
                           "exit 75\n")
        run = self.roundtrip(prog)
        self.assertStatus(run, "CRITICAL")
        self.assertIn("failed with exit status 75", run.first_line)
        self.assertIn("sendmail: fatal: queue file write error: No space left on device",
                      run.first_line)
        time.sleep(0.3)
        self.assertEqual(self.stack.messages(self.USER), [])

    def test_sendmail_gets_the_probe_on_stdin_without_a_shell(self):
        out = Path(self.tmp) / f"captured-{uuid.uuid4().hex}"
        marker = Path(self.tmp) / f"not-created-{uuid.uuid4().hex}"
        # argv is split on spaces, never given to a shell: ';' and '>' are plain arguments
        prog = self.script("capture.sh", f'printf "%s\\n" "$@" > "$0.args"\ncat > {out}\n')
        run = self.roundtrip(f"{prog} -t -oi ; touch {marker}", "-t", "5", "--wait", "1")
        self.assertFalse(marker.exists())
        args = Path(prog + ".args").read_text().split("\n")
        self.assertEqual(args[:5], ["-t", "-oi", ";", "touch", str(marker)])
        body = out.read_text()
        self.assertIn(f"To: <{self.stack.address(self.USER)}>", body)
        self.assertIn("X-Mailprobe: v=2;", body)
        # the message was handed over but went nowhere: not delivered within --wait
        self.assertStatus(run, "CRITICAL")
        self.assertIn("submit_time", run.perfdata)

    def test_missing_sendmail_program(self):
        run = self.roundtrip(str(Path(self.tmp) / "no-such-sendmail"))
        self.assertStatus(run, "CRITICAL")
        self.assertIn("no-such-sendmail", run.first_line)
        self.assertIn("No such file or directory", run.first_line)

    def _sleeps(self, arg):
        r = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True, check=True)
        return [l for l in r.stdout.splitlines() if re.search(rf"\bsleep {re.escape(arg)}(\s|$)", l)]

    def test_hanging_sendmail_is_killed_at_the_deadline(self):
        arg = f"100.{uuid.uuid4().int % 10**6:06d}"  # a 'sleep 100' of our own
        run = self.roundtrip(f"/bin/sleep {arg}", "-t", "3", timeout=20)
        self.assertStatus(run, "CRITICAL")
        self.assertWithinDeadline(run, 3)
        self.assertUsedDeadline(run, 3)
        self.assertIn("/bin/sleep did not finish within 3 s (killed)", run.first_line)
        time.sleep(0.2)
        self.assertEqual(self._sleeps(arg), [])

    def test_hanging_sendmail_children_are_killed_too(self):
        # a wrapper script whose child hangs: the whole process group goes
        arg = f"100.{uuid.uuid4().int % 10**6:06d}"
        prog = self.script("hang.sh", f"cat >/dev/null\n/bin/sleep {arg}\n")
        run = self.roundtrip(prog, "-t", "3", timeout=20)
        self.assertStatus(run, "CRITICAL")
        self.assertWithinDeadline(run, 3)
        self.assertIn("did not finish within", run.first_line)
        time.sleep(0.2)
        self.assertEqual(self._sleeps(arg), [])


# ---------------------------------------------------------------------- MX discovery

class FakeDns:
    """A tiny UDP DNS server on 127.0.0.1 for the 4xx/5xx-at-the-first-MX tests: it serves
    mx-fallback.test with MX 10 busy.mx-fallback.test (127.0.0.3, the FakeSmtp below) and
    MX 20 mx.mail.test (127.0.0.1, the real Postfix), so that nothing else is disturbed
    (the stack's dead.mx-fallback.test must keep refusing connections)."""

    MX = {"mx-fallback.test": [(10, "busy.mx-fallback.test"), (20, "mx.mail.test")]}
    A = {"busy.mx-fallback.test": "127.0.0.3", "mx.mail.test": "127.0.0.1"}

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.queries = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    @staticmethod
    def encode_name(name):
        return b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"

    def answer(self, query):
        off, labels = 12, []
        while query[off]:
            labels.append(query[off + 1:off + 1 + query[off]].decode().lower())
            off += query[off] + 1
        qtype = int.from_bytes(query[off + 1:off + 3], "big")
        question = query[12:off + 5]
        name = ".".join(labels)
        self.queries.append((name, qtype))
        records = []
        if qtype == 15 and name in self.MX:
            for pref, host in self.MX[name]:
                rdata = pref.to_bytes(2, "big") + self.encode_name(host)
                records.append((15, rdata))
        elif qtype == 1 and name in self.A:
            records.append((1, socket.inet_aton(self.A[name])))
        known = name in self.MX or name in self.A
        rcode = 0 if known else 3
        flags = 0x8400 | (query[2] & 0x01) << 8 | rcode  # response, authoritative, RD copied
        head = query[:2] + flags.to_bytes(2, "big") + b"\0\1" + len(records).to_bytes(2, "big") + b"\0\0\0\0"
        body = b"".join(b"\xc0\x0c" + t.to_bytes(2, "big") + b"\0\1" + (60).to_bytes(4, "big")
                        + len(r).to_bytes(2, "big") + r for t, r in records)
        return head + question + body

    def run(self):
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            try:
                self.sock.sendto(self.answer(data), peer)
            except (IndexError, ValueError, OSError):
                pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


class FakeSmtp:
    """An SMTP server on 127.0.0.3 (busy.mx-fallback.test of FakeDns) that refuses with the
    given reply at the greeting or at RCPT, so that the first MX answers but does not accept."""

    def __init__(self, port, greeting="220 busy.mx-fallback.test ESMTP", rcpt_reply=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.3", port))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.greeting = greeting
        self.rcpt_reply = rcpt_reply
        self.connections = 0
        self.commands = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            with conn:
                conn.settimeout(5)
                try:
                    self.session(conn.makefile("rwb", buffering=0))
                except OSError:
                    pass

    def session(self, f):
        f.write((self.greeting + "\r\n").encode())
        if not self.greeting.startswith("2"):
            return
        while True:
            line = f.readline()
            if not line:
                return
            cmd = line.decode(errors="replace").strip()
            self.commands.append(cmd)
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                f.write(b"250-busy.mx-fallback.test\r\n250 8BITMIME\r\n")
            elif verb == "MAIL":
                f.write(b"250 2.1.0 Ok\r\n")
            elif verb == "RCPT":
                f.write((self.rcpt_reply + "\r\n").encode())
            elif verb == "QUIT":
                f.write(b"221 2.0.0 Bye\r\n")
                return
            else:
                f.write(b"503 5.5.1 Error: not here\r\n")

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


class MxTest(Base):
    USER = "t25"

    def setUp(self):
        self.stack.empty(self.USER)
        self.name = f"mx-test-{uuid.uuid4().hex[:12]}"

    def mx_args(self, to, mailbox_user=None, *extra):
        s = self.stack
        args = ["--dns-server", f"127.0.0.1:{s.dns_port}", "-p", s.smtp_port, "--to", to,
                "--state-dir", self.tmp, "-t", "30", "--probe-name", self.name, "-v", *extra]
        if mailbox_user:
            args += ["--mailbox", imap_url(s, mailbox_user),
                     "--mailbox-password-file", s.password_file(mailbox_user), "--wait", "20"]
        return args

    def roundtrip(self, to, mailbox_user, *extra):
        return run_plugin("check_mail_roundtrip", self.mx_args(to, mailbox_user, *extra), timeout=60)

    def probe_left_in(self, user, run):
        m = re.search(r"probe ([0-9a-f]{32}) of check", run.stdout)
        self.assertIsNotNone(m, run.describe())
        return [p for p in self.stack.messages(user) if m.group(1).encode() in p.read_bytes()]

    def test_mx_of_mail_test(self):
        run = self.roundtrip(self.stack.address(self.USER), self.USER)
        self.assertStatus(run, "OK")
        self.assertIn(f"(SMTP mx.mail.test:{self.stack.smtp_port} -> ", run.first_line)
        pd = run.perfdata
        self.assertIn("dns_time", pd)
        self.assertEqual(pd["dns_time"].uom, "s")
        self.assertGreaterEqual(pd["dns_time"].value, 0)
        self.assertLess(pd["dns_time"].value, 5)
        self.assertTrue(any(l.startswith(f"[OK] send: accepted by mx.mail.test:{self.stack.smtp_port}")
                            for l in run.long_output), run.describe())
        self.assertFalse(any(l.strip().startswith("tried ") for l in run.long_output))
        self.assertEqual(self.stack.messages(self.USER), [])

    def test_check_mail_send_uses_mx(self):
        run = run_plugin("check_mail_send", self.mx_args(self.stack.address(self.USER)))
        self.assertStatus(run, "OK", "MAIL SEND")
        self.assertIn("mx.mail.test", run.first_line)
        self.assertIn("dns_time", run.perfdata)
        self.stack.wait_for_messages(self.USER, 1)

    def test_first_mx_refuses_connection_second_used(self):
        run = self.roundtrip("probe@mx-fallback.test", "probe")
        self.assertStatus(run, "OK")
        self.assertIn(f"SMTP mx.mail.test:{self.stack.smtp_port}", run.first_line)
        self.assertIn("dns_time", run.perfdata)
        tried = [l.strip() for l in run.long_output if l.strip().startswith("tried ")]
        self.assertEqual(len(tried), 1, run.describe())
        self.assertRegex(tried[0], r"^tried dead\.mx-fallback\.test \(MX 10\): connection refused "
                                   r"by SMTP server dead\.mx-fallback\.test:\d+")
        self.assertTrue(any(l.startswith(f"[OK] send: accepted by mx.mail.test:{self.stack.smtp_port}")
                            for l in run.long_output), run.describe())
        self.assertEqual(self.probe_left_in("probe", run), [])

    def with_fake_dns(self, args):
        args = list(args)
        args[args.index("--dns-server") + 1] = f"127.0.0.1:{self.dns.port}"
        return args

    def fake_smtp(self, **kw):
        try:
            fake = FakeSmtp(self.stack.smtp_port, **kw)
        except OSError as e:
            self.skipTest(f"cannot listen on 127.0.0.3: {e}")
        self.dns = FakeDns()
        self.enterContext(self.dns)
        return fake

    def test_first_mx_deferring_moves_to_the_next(self):
        with self.fake_smtp(rcpt_reply="451 4.3.0 try again later") as fake:
            run = run_plugin("check_mail_roundtrip",
                             self.with_fake_dns(self.mx_args("probe@mx-fallback.test", "probe")))
        self.assertIn(("mx-fallback.test", 15), self.dns.queries)
        self.assertStatus(run, "OK")
        self.assertEqual(fake.connections, 1)
        self.assertTrue(any(c.upper().startswith("RCPT TO:<PROBE@MX-FALLBACK.TEST>") for c in fake.commands),
                        fake.commands)
        tried = [l.strip() for l in run.long_output if l.strip().startswith("tried ")]
        self.assertEqual(len(tried), 1, run.describe())
        self.assertIn("busy.mx-fallback.test (MX 10): RCPT TO <probe@mx-fallback.test> deferred: "
                      "451 4.3.0 try again later", tried[0])
        self.assertEqual(self.probe_left_in("probe", run), [])

    def test_first_mx_rejecting_is_final(self):
        with self.fake_smtp(greeting="554 5.7.1 no mail for you") as fake:
            run = run_plugin("check_mail_send", self.with_fake_dns(self.mx_args("probe@mx-fallback.test")))
        self.assertStatus(run, "CRITICAL", "MAIL SEND")
        self.assertIn("554 5.7.1 no mail for you", run.first_line)
        self.assertEqual(fake.connections, 1)
        self.assertNotIn("mx.mail.test", run.first_line)  # the next MX was not tried

    def test_permanent_rejection_by_the_second_mx(self):
        # t25@mx-fallback.test is not an alias: mx.mail.test (reached after the dead MX)
        # rejects it, and the plugin shows that server's words
        run = run_plugin("check_mail_send", self.mx_args(f"{self.USER}@mx-fallback.test"))
        self.assertStatus(run, "CRITICAL", "MAIL SEND")
        self.assertRegex(run.first_line, r"RCPT TO <t25@mx-fallback\.test> rejected: 550 5\.1\.1 .*"
                                         r"User unknown in virtual alias table")

    def test_no_mx_falls_back_to_the_address_record(self):
        run = self.roundtrip("probe@no-mx.test", "probe")
        self.assertStatus(run, "OK")
        self.assertIn(f"(SMTP no-mx.test:{self.stack.smtp_port} -> ", run.first_line)
        self.assertIn("dns_time", run.perfdata)
        self.assertEqual(self.probe_left_in("probe", run), [])

    def test_null_mx_accepts_no_mail(self):
        before = len(self.stack.messages(self.USER))
        run = self.roundtrip("probe@null-mx.test", self.USER)
        self.assertStatus(run, "CRITICAL")
        self.assertIn("domain null-mx.test accepts no mail (null MX)", run.first_line)
        self.assertLess(run.elapsed, 5)
        run = run_plugin("check_mail_send", self.mx_args("probe@null-mx.test"))
        self.assertStatus(run, "CRITICAL", "MAIL SEND")
        self.assertIn("accepts no mail", run.first_line)
        self.assertEqual(len(self.stack.messages(self.USER)), before)

    def test_nxdomain_is_critical(self):
        domain = f"nx-{uuid.uuid4().hex[:8]}.test"
        run = self.roundtrip(f"someone@{domain}", self.USER)
        self.assertStatus(run, "CRITICAL")
        self.assertIn(f"domain {domain} does not exist (NXDOMAIN)", run.first_line)
        self.assertLess(run.elapsed, 5)

    def test_dead_dns_server_is_not_ok(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))  # nothing answers on this UDP port
            port = s.getsockname()[1]
            args = self.mx_args(self.stack.address(self.USER))
            args[args.index("--dns-server") + 1] = f"127.0.0.1:{port}"
            args[args.index("-t") + 1] = "4"
            run = run_plugin("check_mail_send", args, timeout=30)
        self.assertIn(run.status_word, ("CRITICAL", "UNKNOWN"), run.describe())
        self.assertRegex(run.first_line, r"DNS|resolving MX for mail\.test")
        self.assertLess(run.elapsed, 5)


if __name__ == "__main__":
    unittest.main()
