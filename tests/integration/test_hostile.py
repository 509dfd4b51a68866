"""Hardening (issue 7): hostile servers, deadlines, TLS failures, secrets.

Every fault scenario of tests/fakeserver/fakeserver.py is played against every plugin side
that talks to that protocol, with -t 3:
  SMTP  via check_mail_send (and a few via check_mail_roundtrip, whose mailbox thread waits);
  IMAP and POP3 via check_mailbox_receive --login-only, via check_mailbox_receive
        --probe-name (the search/fetch faults only show there), and via check_mail_roundtrip
        with the SMTP side pointed at a good fake SMTP server.
Each run must give a CRITICAL naming the stage, answer before -t (plus DEADLINE_SLACK for
process start and exit: mp_testlib), print one valid status line (strict perfdata, no '|' in
any text, no control characters, capped length), stay under 64 MiB peak RSS (wait4() rusage of the plugin alone) and leave no process behind (the plugin
runs as a session leader; nothing of its session may survive it).

TLS: bad certificates of every kind give CRITICAL with the reason in words, --cacert and
--insecure work, --cert-days warns with days-left perfdata, a STARTTLS downgrade is
CRITICAL with no cleartext login. Secrets: -vvv never shows a password or its base64 forms;
a password file readable by others gives a note.

Mailbox users of this file (real stack, secrets test only): t36.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from mailprobe_harness import PluginRun, Stack, parse_plugin_output
from mp_testlib import DEADLINE_SLACK

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fakeserver"))
from fakeserver import FakeServer  # noqa: E402

TIMEOUT = 3
WALL_LIMIT = TIMEOUT + DEADLINE_SLACK  # the plugin answers before -t; the slack is for start/exit
RSS_LIMIT_KB = 64 * 1024
SANITIZED_RSS_LIMIT_KB = 128 * 1024  # ASan's shadow memory comes on top (and see below)
TIME_BIN = "/usr/bin/time"  # Debian package "time"; without it the RSS limit is checked on
                            # an upper bound (see run_measured)
PARALLEL = 4  # plugin runs at a time: the waits are idle, 2 cores are plenty
PASSWORD = "Hostile-Pa55w0rd+/="
USER = "probe-user"
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


# --------------------------------------------------------------------------- measured runs

@dataclass
class Measured:
    run: PluginRun
    raw_stdout: bytes
    maxrss_kb: int
    leftovers: list[str]


def _session_members(sid: int) -> list[str]:
    """Processes (pid and command) whose session id is sid."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path("/proc", d, "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 3 and int(fields[3]) == sid:
            out.append(f"{d} {stat[:stat.rfind(')') + 1]}")
    return out


def run_measured(name: str, args: list[str], env: dict[str, str | None] | None = None,
                 limit: float = 30) -> Measured:
    """Run a plugin as a session leader; wall time, peak RSS of the plugin itself (wait4) and
    whatever of its session outlived it."""
    binary = Path(os.environ["MAILPROBE_BIN_DIR"]) / name
    argv = [str(binary), *map(str, args)]
    # wait4() of a child forked from Python also counts the pages it shared with Python
    # before exec(): /usr/bin/time (a small C program) reports the plugin's own peak.
    rss_file = None
    spawn = argv
    if os.access(TIME_BIN, os.X_OK):
        fd, rss_file = tempfile.mkstemp(prefix="rss-")
        os.close(fd)
        spawn = [TIME_BIN, "-q", "-f", "%M", "-o", rss_file, *argv]
    full_env = dict(os.environ)
    if rss_limit_kb() == SANITIZED_RSS_LIMIT_KB:
        # ASan keeps freed memory in a quarantine (256 MiB by default): cap it so that the
        # peak RSS still tells how much the plugin holds.
        full_env["ASAN_OPTIONS"] = (full_env.get("ASAN_OPTIONS", "") +
                                    ":quarantine_size_mb=8").lstrip(":")
    for k, v in (env or {}).items():
        if v is None:
            full_env.pop(k, None)
        else:
            full_env[k] = v
    t0 = time.monotonic()
    proc = subprocess.Popen(spawn, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=full_env, start_new_session=True)
    chunks: dict[str, list[bytes]] = {"out": [], "err": []}

    def drain(stream, key):
        for block in iter(lambda: stream.read(65536), b""):
            chunks[key].append(block)

    readers = [threading.Thread(target=drain, args=(proc.stdout, "out"), daemon=True),
               threading.Thread(target=drain, args=(proc.stderr, "err"), daemon=True)]
    for r in readers:
        r.start()
    status, rusage = None, None
    while True:
        pid, st, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            status, rusage = st, ru
            break
        if time.monotonic() - t0 > limit:
            os.killpg(proc.pid, 9)
            _, status, rusage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.002)
    elapsed = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    leftovers = _session_members(proc.pid)
    if leftovers:
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
    for r in readers:
        r.join(5)
    proc.stdout.close()
    proc.stderr.close()
    raw = b"".join(chunks["out"])
    run = PluginRun(argv, proc.returncode, raw.decode("utf-8", "replace"),
                    b"".join(chunks["err"]).decode("utf-8", "replace"), elapsed)
    maxrss = rusage.ru_maxrss  # an upper bound: max(Python before exec, plugin)
    if rss_file:
        try:
            maxrss = int(Path(rss_file).read_text().split()[-1])
        except (OSError, ValueError, IndexError):
            pass
        os.unlink(rss_file)
    return Measured(run, raw, maxrss, leftovers)


_sanitized: bool | None = None


def rss_limit_kb() -> int:
    """64 MiB; more for a sanitized build (MAILPROBE_SANITIZE=ON), whose plugins link ASan."""
    global _sanitized
    if _sanitized is None:
        binary = Path(os.environ["MAILPROBE_BIN_DIR"]) / "check_mail_send"
        _sanitized = b"__asan_init" in binary.read_bytes()
    return SANITIZED_RSS_LIMIT_KB if _sanitized else RSS_LIMIT_KB


def describe(m: Measured) -> str:
    return (f"{m.run.describe()}\npeak RSS {m.maxrss_kb} KiB, leftovers {m.leftovers}")


# --------------------------------------------------------------------------- argument builders

def smtp_target(srv: FakeServer, tls: str = "none", auth: bool = False) -> list[str]:
    args = ["-H", "localhost" if tls != "none" else "127.0.0.1", "-p", str(srv.port)]
    if tls == "implicit":
        args += ["--smtp-tls", "tls", "--cacert", srv.ca_path]
    elif tls == "starttls":
        args += ["--smtp-tls", "starttls", "--cacert", srv.ca_path]
    if auth:
        args += ["--smtp-user", USER, "--smtp-password-file", PW_FILE]
    return args


def mailbox_target(srv: FakeServer, proto: str, tls: str = "none",
                   cacert: bool = True) -> list[str]:
    args = ["--mailbox-protocol", proto, "--mailbox-host",
            "localhost" if tls != "none" else "127.0.0.1", "--mailbox-port", str(srv.port),
            "--mailbox-user", USER, "--mailbox-password-file", PW_FILE]
    if tls == "implicit":
        args += ["--mailbox-tls", "tls"]
    elif tls == "starttls":
        args += ["--mailbox-tls", "starttls"]
    if tls != "none" and cacert:
        args += ["--cacert", srv.ca_path]
    return args


PW_FILE = ""  # set in setUpModule


def tls_of(scenario: str) -> str:
    if scenario == "tls_stall":
        return "implicit"
    if scenario == "starttls_downgrade":
        return "starttls"
    return "none"


# Expected words per scenario: (status word, regex the summary must match).
SMTP_FAULTS = {
    "silent": ("CRITICAL", r"timeout after 3 s waiting for SMTP greeting from 127\.0\.0\.1:\d+"),
    "greeting_stall": ("CRITICAL", r"timeout after 3 s waiting for SMTP EHLO response from"),
    "trickle": ("CRITICAL", r"timeout after 3 s waiting for SMTP greeting from"),
    "tls_stall": ("CRITICAL", r"timeout after 3 s waiting for TLS handshake from localhost:\d+"),
    "close_mid_reply": ("CRITICAL", r"connection to SMTP server .* lost while waiting for SMTP "
                                    r"EHLO response"),
    "garbage_greeting": ("CRITICAL", r"lost while waiting for SMTP greeting"),
    "huge_line": ("CRITICAL", r"lost while waiting for SMTP greeting"),
    "binary": ("CRITICAL", r"timeout after 3 s waiting for SMTP EHLO response from"),
    "starttls_downgrade": ("CRITICAL", r"SMTP server localhost:\d+ does not offer STARTTLS; "
                                       r"not continuing without TLS"),
    "data_stall": ("CRITICAL", r"timeout after 3 s waiting for SMTP end-of-data response from"),
    "login_stall": ("CRITICAL", r"timeout after 3 s waiting for SMTP login response from"),
    "reject_rcpt": ("CRITICAL", r"RCPT TO <probe@mail\.test> rejected: 550 5\.1\.1"),
    "greylist": ("WARNING", r"RCPT TO <probe@mail\.test> deferred: 451 4\.7\.1"),
    "auth_fail": ("CRITICAL", rf"SMTP login as {USER} on 127\.0\.0\.1:\d+ failed: 535"),
}


def login_faults(proto: str) -> dict[str, tuple[str, str]]:
    """Faults that show while logging in (the same for every mailbox plugin)."""
    P = proto.upper()
    first = "CAPABILITY" if proto == "imap" else "CAPA"
    faults = {
        "silent": ("CRITICAL", rf"timeout after 3 s waiting for {P} greeting from 127\.0\.0\.1"),
        "greeting_stall": ("CRITICAL", rf"timeout after 3 s waiting for {P} {first} response"),
        "trickle": ("CRITICAL", rf"timeout after 3 s waiting for {P} greeting from"),
        "tls_stall": ("CRITICAL", r"timeout after 3 s waiting for TLS handshake from localhost"),
        "close_mid_reply": ("CRITICAL", rf"connection to {P} server .* lost while waiting for "
                                        rf"{P} {first} response"),
        "garbage_greeting": ("CRITICAL", rf"lost while waiting for {P} greeting"),
        "huge_line": ("CRITICAL", rf"lost while waiting for {P} greeting"),
        "binary": ("CRITICAL", rf"timeout after 3 s waiting for {P} {first} response from"),
        "starttls_downgrade": ("CRITICAL", rf"{P} server localhost:\d+ does not offer STARTTLS; "
                                           r"not continuing without TLS"),
        "login_stall": ("CRITICAL", rf"timeout after 3 s waiting for {P} login response from"),
    }
    if proto == "imap":
        faults["wrong_tags"] = ("CRITICAL",
                                r"timeout after 3 s waiting for IMAP CAPABILITY response from")
        # 32 MiB arrive within the deadline, except on a slow (e.g. sanitized) build.
        faults["untagged_flood"] = ("CRITICAL", r"cannot open folder 'INBOX' .*(sent more than "
                                                r"32 MiB in reply to SELECT INBOX|timeout after "
                                                r"3 s waiting for IMAP SELECT INBOX response)")
    return faults


def mailbox_faults(proto: str, not_found: str) -> dict[str, tuple[str, str]]:
    """Faults after the login (search, fetch, listing): only a run that looks for probes
    meets them. not_found: the words of the plugin for 'no probe there'."""
    if proto == "imap":
        return {
            "search_ghost_uids": ("CRITICAL", not_found),
            "endless_header": ("CRITICAL", r"IMAP server 127\.0\.0\.1:\d+ sent a 20971520 byte "
                                           r"literal in reply to UID FETCH"),
        }
    return {
        "lying_sizes": ("CRITICAL", not_found),
        "endless_top": ("CRITICAL", r"timeout after 3 s waiting for POP3 TOP 3 response from"),
    }


# --------------------------------------------------------------------------- the test base

def setUpModule():
    global PW_FILE
    HostileCase.tmp = tempfile.mkdtemp(prefix="mp-hostile-")
    PW_FILE = os.path.join(HostileCase.tmp, "password")
    Path(PW_FILE).write_text(PASSWORD + "\n")
    os.chmod(PW_FILE, 0o600)


def tearDownModule():
    shutil.rmtree(HostileCase.tmp, ignore_errors=True)


class HostileCase(unittest.TestCase):
    tmp = ""

    @classmethod
    def setUpClass(cls):
        cls.state_dir = tempfile.mkdtemp(prefix="state-", dir=cls.tmp)
        cls.env = {"MAILPROBE_STATE_DIR": cls.state_dir, "MAILPROBE_SMTP_PASSWORD": None,
                   "MAILPROBE_MAILBOX_PASSWORD": None}

    def measure(self, name: str, args: list[str], env: dict | None = None) -> Measured:
        return run_measured(name, ["-t", str(TIMEOUT), *args], {**self.env, **(env or {})})

    # ---- the checks every hostile run must pass
    def assertWellBehaved(self, m: Measured, service: str, word: str, pattern: str):
        info = describe(m)
        run = m.run
        if os.environ.get("MAILPROBE_HOSTILE_REPORT"):  # figures: wall time, peak RSS
            print(f"REPORT {run.elapsed:6.3f}s {m.maxrss_kb:6d}KiB {run.first_line[:110]}",
                  file=sys.stderr)
        code = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}[word]
        self.assertEqual(run.code, code, info)
        self.assertLess(run.elapsed, WALL_LIMIT, info)
        self.assertLess(m.maxrss_kb, rss_limit_kb(), info)
        self.assertEqual(m.leftovers, [], info)
        self.assertEqual(run.stderr, "", info)
        self.assertOutputValid(m, service, word)
        self.assertRegex(run.first_line.split("|", 1)[0], pattern, info)

    def assertOutputValid(self, m: Measured, service: str, word: str):
        info = describe(m)
        text = m.raw_stdout.decode("utf-8")  # raises on invalid UTF-8
        self.assertTrue(text.endswith("\n"), info)
        self.assertIsNone(CONTROL.search(text), info)
        lines = text[:-1].split("\n")
        self.assertTrue(lines[0].startswith(f"{service} {word} - "), info)
        # One status line; '|' only as the perfdata separator of the first line.
        self.assertLessEqual(text.count("|"), 1, info)
        if "|" in text:
            self.assertIn("|", lines[0], info)
        summary = lines[0].split("|", 1)[0]
        self.assertLessEqual(len(summary), len(service) + len(word) + 4 + 303 + 1, info)
        for line in lines:
            self.assertLessEqual(len(line), 2000, info)
        self.assertLessEqual(len(text), 16 * 1024, info)
        parsed = parse_plugin_output(text)  # strict perfdata parse
        self.assertEqual(parsed.status_word, word, info)

    def run_matrix(self, jobs: dict[str, callable]) -> dict[str, tuple[Measured, FakeServer]]:
        """Runs job() (-> (Measured, server)) for every key, PARALLEL at a time."""
        with ThreadPoolExecutor(PARALLEL) as pool:
            futures = {k: pool.submit(job) for k, job in jobs.items()}
            return {k: f.result() for k, f in futures.items()}


# --------------------------------------------------------------------------- deadlines + hostile

class TestSmtpFaults(HostileCase):
    def _job(self, scenario: str):
        def job():
            tls = tls_of(scenario)
            auth = scenario in ("login_stall", "auth_fail", "starttls_downgrade")
            with FakeServer("smtp", scenario, tls=tls) as srv:
                m = self.measure("check_mail_send",
                                 smtp_target(srv, tls, auth) + ["--to", "probe@mail.test"])
            return m, srv
        return job

    def test_every_smtp_fault(self):
        results = self.run_matrix({sc: self._job(sc) for sc in SMTP_FAULTS})
        for sc, (word, pattern) in SMTP_FAULTS.items():
            with self.subTest(scenario=sc):
                m, srv = results[sc]
                self.assertWellBehaved(m, "MAIL SEND", word, pattern)
                if tls_of(sc) != "none":
                    self.assertFalse(srv.cleartext_auth_seen(), describe(m))
                self.assertNotIn(PASSWORD, m.run.stdout)

    def test_starttls_stall(self):
        with FakeServer("smtp", "tls_stall", tls="starttls") as srv:
            m = self.measure("check_mail_send",
                             smtp_target(srv, "starttls") + ["--to", "probe@mail.test"])
        self.assertWellBehaved(m, "MAIL SEND", "CRITICAL",
                               r"timeout after 3 s waiting for SMTP TLS handshake from localhost")

    def test_roundtrip_waits_no_longer_for_a_stalled_smtp_server(self):
        """The mailbox thread holds the probe body back while the SMTP side hangs: the run
        still ends at the deadline and names the SMTP stage."""
        cases = {
            "silent": r"timeout after 3 s waiting for SMTP greeting",
            "greeting_stall": r"timeout after 3 s waiting for SMTP EHLO response",
            "data_stall": r"timeout after 3 s waiting for SMTP end-of-data response",
            "tls_stall": r"timeout after 3 s waiting for TLS handshake",
            "binary": r"timeout after 3 s waiting for SMTP EHLO response",
        }

        def job(sc):
            def run():
                with FakeServer("smtp", sc, tls=tls_of(sc)) as smtp, FakeServer("imap", "ok") as imap:
                    m = self.measure("check_mail_roundtrip",
                                     smtp_target(smtp, tls_of(sc)) + ["--to", "probe@mail.test"]
                                     + mailbox_target(imap, "imap"))
                return m, smtp
            return run

        results = self.run_matrix({sc: job(sc) for sc in cases})
        for sc, pattern in cases.items():
            with self.subTest(scenario=sc):
                self.assertWellBehaved(results[sc][0], "MAIL ROUNDTRIP", "CRITICAL", pattern)


class MailboxFaults(HostileCase):
    proto = ""

    def _login_only(self, scenario: str):
        def job():
            tls = tls_of(scenario)
            with FakeServer(self.proto, scenario, tls=tls) as srv:
                m = self.measure("check_mailbox_receive",
                                 mailbox_target(srv, self.proto, tls) + ["--login-only"])
            return m, srv
        return job

    def _receive(self, scenario: str):
        def job():
            tls = tls_of(scenario)
            with FakeServer(self.proto, scenario, tls=tls) as srv:
                m = self.measure("check_mailbox_receive",
                                 mailbox_target(srv, self.proto, tls) + ["--probe-name", "hostile"])
            return m, srv
        return job

    def _roundtrip(self, scenario: str):
        def job():
            tls = tls_of(scenario)
            with FakeServer(self.proto, scenario, tls=tls) as srv, FakeServer("smtp", "ok") as smtp:
                m = self.measure("check_mail_roundtrip",
                                 smtp_target(smtp) + ["--to", "probe@mail.test"]
                                 + mailbox_target(srv, self.proto, tls))
            return m, (srv, smtp)
        return job

    def check_login_faults(self):
        faults = login_faults(self.proto)
        results = self.run_matrix({sc: self._login_only(sc) for sc in faults})
        for sc, (word, pattern) in faults.items():
            with self.subTest(scenario=sc):
                m, srv = results[sc]
                self.assertWellBehaved(m, "MAILBOX RECEIVE", word, pattern)
                if tls_of(sc) != "none":
                    self.assertFalse(srv.cleartext_auth_seen(), describe(m))

    def check_receive_faults(self):
        name = "hostile"
        faults = {**login_faults(self.proto),
                  **mailbox_faults(self.proto, rf"no probe of check '{name}' in {USER} on ")}
        results = self.run_matrix({sc: self._receive(sc) for sc in faults})
        for sc, (word, pattern) in faults.items():
            with self.subTest(scenario=sc):
                m, srv = results[sc]
                self.assertWellBehaved(m, "MAILBOX RECEIVE", word, pattern)
                if tls_of(sc) != "none":
                    self.assertFalse(srv.cleartext_auth_seen(), describe(m))
                self.assertNotIn("deleted", m.run.first_line)
                # Nothing the hostile server showed was ever deleted or flagged.
                sent = srv.transcript()
                self.assertNotRegex(sent, rb"(?i)\b(STORE|EXPUNGE|DELE)\b", describe(m))
        return results

    def check_roundtrip_faults(self):
        not_found = rf"probe [0-9a-f]{{32}} sent .* via SMTP 127\.0\.0\.1:\d+ not in " \
                    rf"{USER} on .* after 2\.1 s"
        login = login_faults(self.proto)
        faults = {**login, **mailbox_faults(self.proto, not_found)}
        results = self.run_matrix({sc: self._roundtrip(sc) for sc in faults})
        for sc, (word, pattern) in faults.items():
            with self.subTest(scenario=sc):
                m, (srv, smtp) = results[sc]
                self.assertWellBehaved(m, "MAIL ROUNDTRIP", word, pattern)
                if tls_of(sc) != "none":
                    self.assertFalse(srv.cleartext_auth_seen(), describe(m))
                self.assertNotRegex(srv.transcript(), rb"(?i)\b(STORE|EXPUNGE|DELE)\b",
                                    describe(m))
                data_sent = any(e["event"] == "data_received" for e in smtp.events())
                if sc in login:
                    # The mailbox never opened: the probe body was held back, nothing sent.
                    self.assertFalse(data_sent, describe(m))
                else:
                    self.assertTrue(data_sent, describe(m))


class TestImapFaults(MailboxFaults):
    proto = "imap"

    def test_login_only(self):
        self.check_login_faults()

    def test_receive(self):
        results = self.check_receive_faults()
        m = results["search_ghost_uids"][0]
        self.assertTrue(any("listed 2 UID(s) in INBOX that it then did not return (first: "
                            "4000000000); ignored" in line for line in m.run.long_output),
                        describe(m))

    def test_roundtrip(self):
        self.check_roundtrip_faults()


class TestPop3Faults(MailboxFaults):
    proto = "pop3"

    def test_login_only(self):
        self.check_login_faults()

    def test_receive(self):
        self.check_receive_faults()

    def test_roundtrip(self):
        self.check_roundtrip_faults()

    def test_lying_sizes_login_only_counts_messages(self):
        with FakeServer("pop3", "lying_sizes") as srv:
            m = self.measure("check_mailbox_receive",
                             mailbox_target(srv, "pop3") + ["--login-only"])
        self.assertWellBehaved(m, "MAILBOX RECEIVE", "OK", r"3 messages")
        self.assertEqual(m.run.perfdata["messages"].value, 3)


# --------------------------------------------------------------------------- TLS

CERT_REASONS = {
    "expired": r"certificate has expired",
    "notyet": r"certificate is not yet valid",
    "selfsigned": r"self[- ]signed certificate",
    "wronghost": r"no alternative certificate subject name matches target host name 'localhost'",
    "untrusted": r"unable to get local issuer certificate",
}


def cert_not_after(path: str) -> datetime:
    out = subprocess.run(["openssl", "x509", "-enddate", "-noout", "-in", path], check=True,
                         capture_output=True, text=True).stdout.strip()
    return datetime.strptime(out.split("=", 1)[1], "%b %d %H:%M:%S %Y %Z").replace(
        tzinfo=timezone.utc)


class TestTls(HostileCase):
    SERVICES = {"smtp": "MAIL SEND", "imap": "MAILBOX RECEIVE", "pop3": "MAILBOX RECEIVE"}

    def tls_run(self, proto: str, kind: str, extra: list[str], tls: str = "implicit",
                cacert: bool = True, scenario: str = "ok"):
        with FakeServer(proto, scenario, tls=tls, cert_kind=kind) as srv:
            if proto == "smtp":
                args = ["-H", "localhost", "-p", str(srv.port), "--to", "probe@mail.test",
                        "--smtp-tls", "tls" if tls == "implicit" else tls]
                if cacert:
                    args += ["--cacert", srv.ca_path]
                m = self.measure("check_mail_send", args + extra)
            else:
                m = self.measure("check_mailbox_receive",
                                 mailbox_target(srv, proto, tls, cacert) + ["--login-only"] + extra)
        return m, srv

    def test_bad_certificates(self):
        jobs = {}
        for proto in ("smtp", "imap", "pop3"):
            for kind in CERT_REASONS:
                for insecure in (False, True):
                    extra = ["--insecure"] if insecure else []
                    jobs[(proto, kind, insecure)] = (
                        lambda p=proto, k=kind, e=extra: self.tls_run(p, k, e))
        results = self.run_matrix(jobs)
        for (proto, kind, insecure), (m, srv) in results.items():
            with self.subTest(proto=proto, kind=kind, insecure=insecure):
                service = self.SERVICES[proto]
                if insecure:
                    self.assertWellBehaved(m, service, "OK", r".")
                else:
                    self.assertWellBehaved(
                        m, service, "CRITICAL",
                        rf"TLS certificate of localhost:{srv.port} not trusted: .*"
                        + CERT_REASONS[kind])
                    self.assertFalse(any(e["event"] == "auth" for e in srv.events()), describe(m))

    def test_cacert_trusts_and_default_store_does_not(self):
        jobs = {}
        for proto in ("smtp", "imap", "pop3"):
            for tls in ("implicit", "starttls"):
                for cacert in (True, False):
                    jobs[(proto, tls, cacert)] = (
                        lambda p=proto, t=tls, c=cacert: self.tls_run(p, "good", [], t, c))
        results = self.run_matrix(jobs)
        for (proto, tls, cacert), (m, srv) in results.items():
            with self.subTest(proto=proto, tls=tls, cacert=cacert):
                service = self.SERVICES[proto]
                if cacert:
                    self.assertWellBehaved(m, service, "OK", r".")
                    self.assertTrue(any(e["event"] == "tls" for e in srv.events()), describe(m))
                    self.assertFalse(srv.cleartext_auth_seen(), describe(m))
                    tls_label = "smtp_tls" if proto == "smtp" else "mailbox_tls"
                    self.assertIn(tls_label, m.run.perfdata, describe(m))
                else:
                    self.assertWellBehaved(m, service, "CRITICAL",
                                           r"not trusted: .*unable to get local issuer certificate")

    def test_starttls_downgrade_never_logs_in_in_clear(self):
        jobs = {p: (lambda p=p: self.tls_run(
                    p, "good", ["--smtp-user", USER, "--smtp-password-file", PW_FILE]
                    if p == "smtp" else [], "starttls", True, "starttls_downgrade"))
                for p in ("smtp", "imap", "pop3")}
        results = self.run_matrix(jobs)
        for proto, (m, srv) in results.items():
            with self.subTest(proto=proto):
                self.assertWellBehaved(m, self.SERVICES[proto], "CRITICAL",
                                       r"does not offer STARTTLS; not continuing without TLS")
                self.assertFalse(srv.cleartext_auth_seen(), describe(m))
                clear = srv.transcript(cleartext_only=True)
                self.assertNotRegex(clear, rb"(?i)\b(AUTH|AUTHENTICATE|LOGIN|USER|PASS)\b")
                self.assertNotIn(PASSWORD.encode(), srv.transcript())

    def test_cert_days(self):
        days_left = None
        jobs = {}
        for proto in ("smtp", "imap", "pop3"):
            for limits in ("30,14", "5000", "5000,3000", "9000,5000"):
                jobs[(proto, "good", limits)] = (
                    lambda p=proto, lim=limits: self.tls_run(p, "good", ["--cert-days", lim]))
            jobs[(proto, "expired", "30")] = (
                lambda p=proto: self.tls_run(p, "expired", ["--cert-days", "30", "--insecure"]))
        results = self.run_matrix(jobs)
        for (proto, kind, limits), (m, srv) in results.items():
            with self.subTest(proto=proto, kind=kind, limits=limits):
                label = "smtp_cert_days" if proto == "smtp" else "mailbox_cert_days"
                now = datetime.now(timezone.utc)
                days_left = (cert_not_after(srv.cert_path) - now).days  # floor, like the plugin
                warn, _, crit = limits.partition(",")
                if kind == "expired":
                    word, words = "CRITICAL", rf"; TLS certificate of localhost:{srv.port} " \
                                              rf"expired {-days_left} days ago \(\d{{4}}-\d\d-\d\d\)"
                elif crit and days_left < int(crit):
                    word, words = "CRITICAL", rf"; TLS certificate of localhost:{srv.port} " \
                                              rf"expires in {days_left} days"
                elif days_left < int(warn):
                    word, words = "WARNING", rf"; TLS certificate of localhost:{srv.port} " \
                                             rf"expires in {days_left} days"
                else:
                    word, words = "OK", r"^(?!.*TLS certificate)"
                self.assertWellBehaved(m, self.SERVICES[proto], word, words)
                pd = m.run.perfdata[label]
                self.assertEqual(pd.value, days_left, describe(m))
                self.assertEqual(pd.uom, "", describe(m))
                self.assertEqual(pd.warn, f"{warn}:", describe(m))
                self.assertEqual(pd.crit, f"{crit}:" if crit else None, describe(m))
                other = "mailbox_cert_days" if proto == "smtp" else "smtp_cert_days"
                self.assertNotIn(other, m.run.perfdata)

    def test_cert_days_roundtrip_reports_both_sides(self):
        with FakeServer("smtp", "ok", tls="implicit") as smtp, \
                FakeServer("imap", "ok", tls="implicit") as imap:
            m = self.measure("check_mail_roundtrip",
                             smtp_target(smtp, "implicit") + ["--to", "probe@mail.test",
                                                              "--cert-days", "9000,10"]
                             + mailbox_target(imap, "imap", "implicit", cacert=False))
        # The fake mailbox never shows the probe (CRITICAL), the certificates are judged anyway.
        self.assertOutputValid(m, "MAIL ROUNDTRIP", "CRITICAL")
        pd = m.run.perfdata
        self.assertIn("smtp_cert_days", pd, describe(m))
        self.assertIn("mailbox_cert_days", pd, describe(m))
        self.assertEqual(pd["smtp_cert_days"].warn, "9000:")
        self.assertTrue(any(f"[WARNING] TLS certificate of localhost:{smtp.port} expires in" in l
                            for l in m.run.long_output), describe(m))
        self.assertTrue(any(f"[WARNING] TLS certificate of localhost:{imap.port} expires in" in l
                            for l in m.run.long_output), describe(m))

    def test_cert_days_without_tls_and_bad_values(self):
        with FakeServer("smtp", "ok") as srv:
            m = self.measure("check_mail_send", smtp_target(srv) + ["--to", "probe@mail.test",
                                                                    "--cert-days", "30"])
        self.assertWellBehaved(m, "MAIL SEND", "OK", r"probe accepted")
        self.assertNotIn("smtp_cert_days", m.run.perfdata)
        self.assertIn("[OK] TLS certificate: none, 127.0.0.1:" + str(srv.port)
                      + " was reached without TLS", m.run.long_output)
        for bad, words in (("x", r"--cert-days: 'x' is not WARN\[,CRIT\]"),
                           ("5,10", r"--cert-days: CRIT \(10\) must not be more days than WARN"),
                           ("-1", r"--cert-days: '-1' is not WARN\[,CRIT\]")):
            with self.subTest(value=bad):
                m = self.measure("check_mail_send", ["-H", "127.0.0.1", "--to", "a@b.test",
                                                     f"--cert-days={bad}"])
                self.assertEqual(m.run.code, 3, describe(m))
                self.assertRegex(m.run.first_line, words)


# --------------------------------------------------------------------------- secrets

def secret_forms(user: str, password: str) -> list[bytes]:
    """The password and every base64 form an AUTH exchange can carry it in."""
    forms = [password.encode()]
    for blob in (password, f"\0{user}\0{password}", f"{user}\0{user}\0{password}",
                 f"{user}\0{password}"):
        forms.append(base64.b64encode(blob.encode()))
    # Inside a longer blob only the characters fed by the password alone are stable.
    for shift in range(3):
        enc = base64.b64encode(b"\0" * shift + password.encode())
        first, last = (8 * shift + 5) // 6, (8 * (shift + len(password))) // 6
        forms.append(enc[first:last])
    return forms


class TestSecrets(HostileCase):
    def assertNoSecret(self, m: Measured, password: str = PASSWORD, user: str = USER):
        for form in secret_forms(user, password):
            self.assertNotIn(form, m.raw_stdout, f"{form!r} leaked\n{describe(m)}")
            self.assertNotIn(form.lower(), m.raw_stdout.lower(), f"{form!r} leaked\n{describe(m)}")

    def test_smtp_auth_transcripts(self):
        for mech in ("", "PLAIN", "LOGIN"):
            with self.subTest(mech=mech or "default"), FakeServer("smtp", "ok") as srv:
                extra = ["--smtp-auth-mech", mech] if mech else []
                m = self.measure("check_mail_send", smtp_target(srv, auth=True)
                                 + ["--to", "probe@mail.test", "-vvv"] + extra)
                self.assertWellBehaved(m, "MAIL SEND", "OK", r"probe accepted")
                # The transcript is there, the credentials are not.
                self.assertIn(f"C: AUTH {mech or 'PLAIN'} [redacted]", m.run.long_output,
                              describe(m))
                self.assertIn("C: DATA", m.run.long_output)
                self.assertNoSecret(m)
                # ... although they did go over the wire.
                wire = srv.transcript()
                self.assertTrue(any(f in wire for f in secret_forms(USER, PASSWORD)[1:]), wire)

    def test_failed_auth_shows_no_secret(self):
        with FakeServer("smtp", "auth_fail") as srv:
            m = self.measure("check_mail_send", smtp_target(srv, auth=True)
                             + ["--to", "probe@mail.test", "-vvv"])
        self.assertWellBehaved(m, "MAIL SEND", "CRITICAL", r"SMTP login as .* failed: 535")
        self.assertNoSecret(m)

    def test_mailbox_login_transcripts(self):
        for proto in ("imap", "pop3"):
            with self.subTest(proto=proto), FakeServer(proto, "ok") as srv:
                m = self.measure("check_mailbox_receive",
                                 mailbox_target(srv, proto) + ["--login-only", "-vvv"])
                self.assertWellBehaved(m, "MAILBOX RECEIVE", "OK", r"3 messages")
                self.assertTrue(any("[redacted]" in l for l in m.run.long_output), describe(m))
                self.assertTrue(any(l.startswith("S: ") for l in m.run.long_output), describe(m))
                self.assertNoSecret(m)

    def test_password_file_readable_by_others_gives_a_note(self):
        loose = os.path.join(self.tmp, "loose-password")
        Path(loose).write_text(PASSWORD + "\n")
        os.chmod(loose, 0o644)
        note = f"note: secret file {loose} is readable by group or others (chmod 600)"
        with FakeServer("smtp", "ok") as smtp, FakeServer("imap", "ok") as imap:
            runs = {
                "send-loose": self.measure("check_mail_send", smtp_target(smtp) + [
                    "--to", "probe@mail.test", "--smtp-user", USER, "--smtp-password-file", loose]),
                "send-tight": self.measure("check_mail_send", smtp_target(smtp, auth=True)
                                           + ["--to", "probe@mail.test"]),
                "receive-loose": self.measure("check_mailbox_receive", [
                    "--mailbox-protocol", "imap", "--mailbox-host", "127.0.0.1", "--mailbox-port",
                    str(imap.port), "--mailbox-user", USER, "--mailbox-password-file", loose,
                    "--login-only"]),
            }
        for key, m in runs.items():
            with self.subTest(run=key):
                service = "MAIL SEND" if key.startswith("send") else "MAILBOX RECEIVE"
                self.assertWellBehaved(m, service, "OK", r".")
                if key.endswith("loose"):
                    self.assertIn(note, m.run.long_output, describe(m))
                else:
                    self.assertFalse(any("readable by group" in l for l in m.run.long_output))
                self.assertNoSecret(m)

    def test_password_from_environment(self):
        with FakeServer("smtp", "ok") as srv:
            m = self.measure("check_mail_send", smtp_target(srv) + [
                "--to", "probe@mail.test", "--smtp-user", USER, "-vvv"],
                env={"MAILPROBE_SMTP_PASSWORD": PASSWORD})
        self.assertWellBehaved(m, "MAIL SEND", "OK", r"probe accepted")
        self.assertIn(base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()), srv.transcript())
        self.assertNoSecret(m)

    def test_real_stack_roundtrip_vvv(self):
        """Postfix submission with AUTH and Dovecot IMAP/POP3: the whole -vvv transcript of a
        successful round trip holds neither password."""
        stack = Stack()
        user = "t36"
        address = stack.address(user)
        password = stack.password(user)
        for proto in ("imap", "pop3"):
            with self.subTest(proto=proto):
                stack.empty(user)
                port = stack.imap_port if proto == "imap" else stack.pop3_port
                m = run_measured("check_mail_roundtrip", [
                    "-t", "20", "-vvv", "-H", stack.host, "-p", str(stack.submission_port),
                    "--smtp-tls", "starttls", "--cacert", stack.ca, "--smtp-user", address,
                    "--smtp-password-file", stack.password_file(user), "--to", address,
                    "--mailbox-protocol", proto, "--mailbox-host", stack.host, "--mailbox-port",
                    str(port), "--mailbox-tls", "starttls", "--mailbox-user", address,
                    "--mailbox-password-file", stack.password_file(user)], self.env)
                self.assertOutputValid(m, "MAIL ROUNDTRIP", "OK")
                self.assertEqual(m.leftovers, [])
                self.assertTrue(any("AUTH" in l and "[redacted]" in l for l in m.run.long_output),
                                describe(m))
                self.assertNoSecret(m, password, address)
                self.assertEqual(stack.messages(user), [], "the probe was not deleted")


if __name__ == "__main__":
    unittest.main()
