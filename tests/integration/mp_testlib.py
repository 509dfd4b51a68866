"""Small helpers shared by the plugin integration tests (test_mail_send.py, test_roundtrip.py,
test_mailbox_receive.py, test_mailbox_safety.py, the relay chain's test_verdicts.py and
test_auth_verdicts.py). Python 3.11 stdlib only.

* probe headers: parse X-Mailprobe, compute/verify the v=2 HMAC tag over the message as the
  plugins do, written independently here (probe_canon.py), key = the hex text of
  STATE_DIR/probe.key used as raw bytes
* Maildir look-ups by probe id, Dovecot's delivery log
* argument builders for the SMTP and mailbox options of the stack
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import hmac
import os
import re
import secrets
import shutil
import tempfile
import time
import unittest
from pathlib import Path

import probe_canon
from mailprobe_harness import PluginRun, Stack, run_plugin

PROBE_RE = re.compile(r"\bprobe ([0-9a-f]{32}) of check '([^']*)'")
QUEUE_ID_RE = re.compile(r"queued as ([0-9A-Za-z]+)\)")
HEADER_RE = re.compile(
    r"v=2; n=(?P<n>[0-9a-f]{16}); id=(?P<id>[0-9a-f]{32}); t=(?P<t>[0-9]+); l=(?P<l>[0-9]+); "
    r"tag=(?P<tag>[0-9a-f]{64})")


# --------------------------------------------------------------------------- probe tags

def name_digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:16]


def probe_tag(key: bytes, name: str, probe_id: str, t_ms: int, message: bytes = b"",
              body_length: int = 1) -> str:
    """The v=2 tag of (name, id, time, body length) for a message (see probe_canon.py)."""
    return probe_canon.tag(key, name, probe_id, t_ms, body_length, message) or "0" * 64


def probe_header(key: bytes, name: str, probe_id: str | None = None, t_ms: int | None = None,
                 tag: str | None = None, body_length: int = 200) -> tuple[str, str]:
    """An X-Mailprobe value of our format for (key, name); returns (value, id). Its tag is
    the right one only for a message it was computed for: alone it makes nothing ours."""
    probe_id = probe_id or secrets.token_hex(16)
    t_ms = int(time.time() * 1000) if t_ms is None else t_ms
    tag = tag or secrets.token_hex(32)
    return (f"v=2; n={name_digest(name)}; id={probe_id}; t={t_ms}; l={body_length}; tag={tag}",
            probe_id)


def signed_probe(key: bytes, name: str, to: str, *, t_ms: int | None = None,
                 probe_id: str | None = None, body: str | None = None) -> tuple[bytes, str]:
    """A genuine probe message of (key, name), as the plugins would send it (LF line endings,
    as in a Maildir); returns (message, id)."""
    probe_id = probe_id or secrets.token_hex(16)
    t_ms = int(time.time() * 1000) if t_ms is None else t_ms
    body = body or (f"This is an automatic delivery probe of check '{name}',\n"
                    "It is deleted by the check that sent it; please leave it alone.\n")
    date = email.utils.formatdate(t_ms / 1000, usegmt=False).replace("-0000", "+0000")
    head = (f"Date: {date}\nFrom: mailprobe <probe@mail.test>\nTo: <{to}>\n"
            f"Subject: [mailprobe] probe {probe_id}\nMessage-ID: <mailprobe.{probe_id}@test>\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n"
            "Content-Transfer-Encoding: 7bit\n")
    unsigned = (head + "\n" + body).encode()
    length = len(probe_canon.canonical_text(body.encode()))
    tag = probe_canon.tag(key, name, probe_id, t_ms, length, unsigned)
    value = f"v=2; n={name_digest(name)}; id={probe_id}; t={t_ms}; l={length}; tag={tag}"
    return (head + f"X-Mailprobe: {value}\n\n" + body).encode(), probe_id


def read_key(state_dir: str | os.PathLike) -> bytes:
    """The probe key as the plugins use it: the hex text of probe.key without the newline."""
    return Path(state_dir, "probe.key").read_bytes().strip()


def new_key_file(directory: str | os.PathLike, name: str = "probe.key") -> tuple[str, bytes]:
    """A fresh key file (hex text, mode 0600) usable as --probe-secret-file or STATE_DIR/probe.key."""
    key = secrets.token_hex(32).encode()
    path = Path(directory, name)
    path.write_bytes(key + b"\n")
    path.chmod(0o600)
    return str(path), key


def parse_message(data: bytes) -> email.message.Message:
    return email.message_from_bytes(data, policy=email.policy.compat32)


def x_mailprobe(data: bytes) -> dict | None:
    """Parsed X-Mailprobe header of a message (n, id, t, tag), None when absent/malformed."""
    value = parse_message(data).get("X-Mailprobe")
    if value is None:
        return None
    m = HEADER_RE.fullmatch(" ".join(str(value).split()))
    return m.groupdict() if m else None


def verify_probe(data: bytes, key: bytes, name: str) -> dict:
    """Assert that a message is a genuine probe of (key, name); returns its header fields."""
    h = x_mailprobe(data)
    if h is None:
        raise AssertionError(f"no well-formed X-Mailprobe header in:\n{data[:2000]!r}")
    if h["n"] != name_digest(name):
        raise AssertionError(f"X-Mailprobe n={h['n']} is not the digest of {name!r}")
    want = probe_canon.tag(key, name, h["id"], int(h["t"]), int(h["l"]), data)
    if want is None or not hmac.compare_digest(want, h["tag"]):
        raise AssertionError(f"X-Mailprobe tag does not verify against the message for {name!r}")
    return h


def make_message(to: str, subject: str, *, xmailprobe: str | None = None, extra: str = "",
                 body: str = "hello\n", sender: str = "someone@elsewhere.test") -> bytes:
    lines = [f"Return-Path: <{sender}>", f"Delivered-To: {to}",
             "Date: Fri, 27 Nov 2026 10:00:00 +0000", f"From: <{sender}>", f"To: <{to}>",
             f"Subject: {subject}", f"Message-ID: <{secrets.token_hex(12)}@elsewhere.test>",
             "MIME-Version: 1.0", "Content-Type: text/plain; charset=us-ascii"]
    if xmailprobe is not None:
        lines.append(f"X-Mailprobe: {xmailprobe}")
    if extra:
        lines.append(extra.rstrip("\n"))
    return ("\n".join(lines) + "\n\n" + body).encode()


# --------------------------------------------------------------------------- Maildir

def files_with(stack: Stack, user: str, token: str | bytes) -> list[Path]:
    """Message files (any folder) containing token."""
    if isinstance(token, str):
        token = token.encode()
    out = []
    for folder in stack.folders(user):
        for p in stack.messages(user, folder):
            try:
                if token in p.read_bytes():
                    out.append(p)
            except FileNotFoundError:
                pass
    return out


def wait_for_id(stack: Stack, user: str, probe_id: str, folder: str = "INBOX",
                timeout: float = 15) -> Path:
    return stack.wait_for_message(user, f"id={probe_id}", folder=folder, timeout=timeout)


def dovecot_saved_folder(stack: Stack, probe_id: str, timeout: float = 10) -> str:
    """Folder Dovecot's LMTP saved the probe to, from its log (proves delivery even when the
    probe was deleted right after)."""
    pat = re.compile(rf"msgid=<mailprobe\.{probe_id}@[^>]*>: saved mail to (\S+)")
    deadline = time.monotonic() + timeout
    log = stack.log_dir / "dovecot.log"
    while True:
        m = pat.search(log.read_text(errors="replace"))
        if m:
            return m.group(1)
        if time.monotonic() >= deadline:
            raise AssertionError(f"dovecot.log: probe {probe_id} never saved")
        time.sleep(0.05)


def flags_of(path: Path) -> str:
    """Maildir flags of a file name ('' for new/)."""
    return path.name.split(":2,", 1)[1] if ":2," in path.name else ""


def full_state(stack: Stack, user: str) -> dict[str, tuple[bytes, str]]:
    """snapshot() plus the flags of each message: key -> (content, flags)."""
    out = {}
    for folder in stack.folders(user):
        for p in stack.messages(user, folder):
            out[f"{folder}/{stack._base_name(p.name)}"] = (p.read_bytes(), flags_of(p))
    return out


# --------------------------------------------------------------------------- arguments

def smtp_args(stack: Stack, mode: str = "plain") -> list[str]:
    """-H/-p/--smtp-tls for Postfix #1: plain, starttls (port 25 + STARTTLS, CA trusted), tls
    (implicit, port 465), submission (587 STARTTLS, no AUTH options)."""
    h = ["-H", stack.host]
    if mode == "plain":
        return h + ["-p", str(stack.smtp_port)]
    if mode == "starttls":
        return h + ["-p", str(stack.smtp_port), "--smtp-tls", "starttls", "--cacert", stack.ca]
    if mode == "tls":
        return h + ["-p", str(stack.smtps_port), "--smtp-tls", "tls", "--cacert", stack.ca]
    if mode == "submission":
        return h + ["-p", str(stack.submission_port), "--smtp-tls", "starttls", "--cacert", stack.ca]
    raise ValueError(mode)


def mailbox_url(stack: Stack, user: str, proto: str = "imap", tls: str = "none",
                folder: str | None = None) -> str:
    """URL form: imap://user@127.0.0.1:PORT/FOLDER, imaps://, pop3://, pop3s:// (STARTTLS has no
    URL scheme: use mailbox_opts)."""
    port = {("imap", "none"): stack.imap_port, ("imap", "tls"): stack.imaps_port,
            ("pop3", "none"): stack.pop3_port, ("pop3", "tls"): stack.pop3s_port}[(proto, tls)]
    scheme = proto + ("s" if tls == "tls" else "")
    url = f"{scheme}://{user}@{stack.host}:{port}"
    if proto == "imap":
        url += "/" + (folder or "INBOX")
    return url


def mailbox_opts(stack: Stack, user: str, proto: str = "imap", tls: str = "none",
                 login: str | None = None, folder: str | None = None,
                 password_file: bool = True) -> list[str]:
    """Separate --mailbox-* options; CA trusted when TLS is used."""
    port = {("imap", "none"): stack.imap_port, ("imap", "starttls"): stack.imap_port,
            ("imap", "tls"): stack.imaps_port, ("pop3", "none"): stack.pop3_port,
            ("pop3", "starttls"): stack.pop3_port, ("pop3", "tls"): stack.pop3s_port}[(proto, tls)]
    args = ["--mailbox-protocol", proto, "--mailbox-host", stack.host, "--mailbox-port", str(port),
            "--mailbox-tls", tls, "--mailbox-user", login or stack.address(user)]
    if tls != "none":
        args += ["--cacert", stack.ca]
    if password_file:
        args += ["--mailbox-password-file", stack.password_file(user)]
    if folder:
        args += ["--folder", folder]
    return args


def join_args(*parts: list[str]) -> list[str]:
    """Concatenate argument lists, keeping only the first --cacert FILE (SMTP and mailbox
    share the trust option)."""
    out: list[str] = []
    for part in parts:
        i = 0
        while i < len(part):
            if part[i] == "--cacert" and "--cacert" in out:
                i += 2
                continue
            out.append(part[i])
            i += 1
    return out


def probe_id_of(run: PluginRun) -> str:
    """The probe id a run reports in its long output (needs -v)."""
    m = PROBE_RE.search(run.stdout)
    if not m:
        raise AssertionError("no 'probe <id> of check' line in the output\n" + run.describe())
    return m.group(1)


# --------------------------------------------------------------------------- test base

# The deadline contract (common/core/deadline.hpp, Deadline::for_timeout): a plugin's answer is
# out before -t, because its network stages end a reserve (a quarter of -t, at most 0.5 s)
# earlier. DEADLINE_SLACK is what the plugin's own clock cannot see: process start and exit
# (dynamic loading) on a loaded 2-core machine. Sanitized builds pay more there (ASan's shadow
# memory, LeakSanitizer's scan at exit): scripts/ci-extra.sh sets MAILPROBE_DEADLINE_SLACK.
DEADLINE_SLACK = float(os.environ.get("MAILPROBE_DEADLINE_SLACK", "0.5"))


def deadline_reserve(timeout: float) -> float:
    return min(0.5, timeout / 4)


class PluginTestCase(unittest.TestCase):
    """Base class: one Stack, a private MAILPROBE_STATE_DIR per class, the class' users emptied
    before each test. `service` is the status line's prefix that assertStatus expects."""
    users: tuple[str, ...] = ()
    service = "MAIL ROUNDTRIP"

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack()
        cls.tmp = tempfile.mkdtemp(prefix="mp-it-")
        cls.state_dir = os.path.join(cls.tmp, "state")
        os.mkdir(cls.state_dir, 0o700)
        cls.env = {"MAILPROBE_STATE_DIR": cls.state_dir, "MAILPROBE_SMTP_PASSWORD": None,
                   "MAILPROBE_MAILBOX_PASSWORD": None}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        for u in self.users:
            self.stack.empty(u)

    def key(self) -> bytes:
        return read_key(self.state_dir)

    def new_state_dir(self) -> str:
        return tempfile.mkdtemp(prefix="state-", dir=self.tmp)

    # ---- assertions
    def assertStatus(self, run: PluginRun, word: str, service: str | None = None):
        service = service or self.service
        code = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}[word]
        self.assertEqual(run.code, code, run.describe())
        self.assertTrue(run.first_line.startswith(f"{service} {word} - "), run.describe())
        self.assertEqual(run.status_word, word, run.describe())

    def assertPerf(self, run: PluginRun, present, absent=()):
        """Perfdata parse strictly; labels present (seconds unless counter) and absent."""
        pd = run.perfdata
        for label in present:
            self.assertIn(label, pd, run.describe())
            v = pd[label]
            self.assertGreaterEqual(v.value, 0, f"{label}\n{run.describe()}")
        for label in absent:
            self.assertNotIn(label, pd, run.describe())
        return pd

    def assertWithinDeadline(self, run: PluginRun, timeout: float):
        """The run answered before -t (plus DEADLINE_SLACK for process start and exit)."""
        self.assertLess(run.elapsed, timeout + DEADLINE_SLACK, run.describe())

    def assertUsedDeadline(self, run: PluginRun, timeout: float):
        """The run waited until its network deadline: -t minus the reserve."""
        self.assertGreaterEqual(run.elapsed, timeout - deadline_reserve(timeout), run.describe())

    def summary(self, run: PluginRun) -> str:
        return run.first_line.split("|", 1)[0]


class RelayChainTestCase(PluginTestCase):
    """Base class for probes through the relay chain: Postfix #2 (relay.test) takes the probe
    from relayuser over STARTTLS and hands it to the MX; the plugin reads the user's INBOX."""
    service = "MAIL RELAY"

    def relay(self, user: str, *extra: str, port: int | str | None = None,
              sender: str | None = None, to: str | None = None, wait: float = 20,
              plugin: str = "check_mail_relay") -> PluginRun:
        """Runs `plugin` through the relay's submission port (or `port`) to `to` (default: the
        user's address), --from `sender` when given, reading the user's mailbox."""
        s = self.stack
        args = ["-H", s.host, "-p", port or s.relay_submission_port, "--smtp-tls", "starttls",
                "--cacert", s.ca, "--to", to or s.address(user),
                "--mailbox", f"imap://{s.address(user)}@{s.host}:{s.imap_port}/INBOX",
                "--mailbox-password-file", s.password_file(user),
                "--smtp-user", s.address("relayuser"),
                "--smtp-password-file", s.password_file("relayuser"),
                "--state-dir", self.state_dir, "-t", "30", "--wait", str(wait)]
        if sender:
            args += ["--from", sender]
        return run_plugin(plugin, args + list(extra), timeout=60)
