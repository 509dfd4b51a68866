"""Never lose mail (issue 7): a property test.

Rounds of: a random mailbox (0 to 5,000 messages, with look-alikes of every kind: the probe
subject, wrong or missing tags, malformed X-Mailprobe fields, genuine probes of other probe
names with their own keys, our probe name with a wrong key, genuine headers of ours copied
over another body, old v=1 probes of ours, messages already flagged
\\Deleted, and genuine probes of ours, some in the Junk folder), then a random run sequence of
check_mail_roundtrip, check_mailbox_receive and check_mail_send over IMAP and POP3, some
killed with SIGKILL at a random moment. Afterwards every message that is not one of our
verified probes must still be there byte for byte, with exactly its flags (so never flagged
\\Deleted, Maildir flag 'T').

Seedable: MAILPROBE_PROPERTY_SEED (printed on failure), MAILPROBE_PROPERTY_SECONDS (time
budget for the rounds, default 90), MAILPROBE_PROPERTY_ROUNDS (at most, default 25).
Mailbox users of this file: t37 (t38 unused).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import secrets
import signal
import subprocess
import time
import unittest
from pathlib import Path

from mailprobe_harness import MAIL_GID, MAIL_UID, Stack
from mp_testlib import (PluginTestCase, flags_of, make_message, name_digest, new_key_file,
                        probe_header, signed_probe, x_mailprobe)

USER = "t37"
OUR_NAME = "never-lose:t37"
OTHER_NAMES = ["never-lose:other-a", "site-b:t37@mail.test", "never-lose:t37 "]
SUBJECT = "[mailprobe] probe"


class Mailbox:
    """Fills the Maildir of USER straight on disk (fast enough for 5,000 messages)."""

    def __init__(self, stack: Stack, rng: random.Random, our_key: bytes):
        self.stack = stack
        self.rng = rng
        self.our_key = our_key
        self.other_keys = {n: secrets.token_hex(32).encode() for n in OTHER_NAMES}
        self.counter = 0
        self.ours: set[str] = set()  # snapshot keys of genuine probes of ours
        self.kind_of: dict[str, str] = {}

    def _write(self, folder: str, data: bytes, flags: str | None, mtime: float) -> str:
        md = self.stack.maildir(USER, folder)
        if not md.is_dir():
            for sub in ("cur", "new", "tmp"):
                (md / sub).mkdir(parents=True, exist_ok=True)
                os.chown(md / sub, MAIL_UID, MAIL_GID)
            if folder != "INBOX":
                (md / "maildirfolder").touch()
                os.chown(md / "maildirfolder", MAIL_UID, MAIL_GID)
            os.chown(md, MAIL_UID, MAIL_GID)
        self.counter += 1
        base = f"{int(mtime)}.M{self.counter}P{os.getpid()}Q{self.counter}.never-lose,S={len(data)}"
        tmp = md / "tmp" / base
        tmp.write_bytes(data)
        os.chown(tmp, MAIL_UID, MAIL_GID)
        os.utime(tmp, (mtime, mtime))
        final = md / "new" / base if flags is None else md / "cur" / f"{base}:2,{flags}"
        os.rename(tmp, final)
        return f"{folder}/{self.stack._base_name(base)}"

    def message(self) -> tuple[str, bytes]:
        """(kind, bytes) of one random message."""
        rng = self.rng
        to = self.stack.address(USER)
        now_ms = int(time.time() * 1000)
        t_ms = now_ms - rng.choice([0, 5_000, 60_000, 3_600_000, 86_400_000 * 30])
        kind = rng.choices(
            ["plain", "subject", "wrong_tag", "missing_tag", "malformed", "other_name",
             "wrong_key", "copied_header", "v1", "ours"],
            weights=[40, 10, 10, 8, 8, 12, 8, 8, 4, 4])[0]
        body = "".join(rng.choice("abcdefghij \n") for _ in range(rng.choice([10, 200, 3000])))
        if kind == "plain":
            return kind, make_message(to, f"hello {rng.random()}", body=body)
        if kind == "subject":
            return kind, make_message(to, SUBJECT + " " + secrets.token_hex(4), body=body)
        if kind == "wrong_tag":
            value, _ = probe_header(self.our_key, OUR_NAME, t_ms=t_ms, tag=secrets.token_hex(32))
            return kind, make_message(to, SUBJECT, xmailprobe=value, body=body)
        if kind == "missing_tag":
            value, _ = probe_header(self.our_key, OUR_NAME, t_ms=t_ms)
            value = value.rsplit("; tag=", 1)[0]
            return kind, make_message(to, SUBJECT, xmailprobe=value, body=body)
        if kind == "malformed":
            value, _ = probe_header(self.our_key, OUR_NAME, t_ms=t_ms)
            value = rng.choice([value.replace("v=2", "v=3"), value.upper(), value[:-1],
                                value.replace("; ", ";;"), value + "0", "v=2", ""])
            return kind, make_message(to, SUBJECT, xmailprobe=value, body=body)
        if kind == "other_name":
            name = rng.choice(OTHER_NAMES)
            return kind, signed_probe(self.other_keys[name], name, to, t_ms=t_ms)[0]
        if kind == "wrong_key":
            return kind, signed_probe(secrets.token_hex(32).encode(), OUR_NAME, to, t_ms=t_ms)[0]
        if kind == "copied_header":  # a genuine probe of ours whose body was replaced
            data, _ = signed_probe(self.our_key, OUR_NAME, to, t_ms=t_ms)
            return kind, data.split(b"\n\n", 1)[0] + b"\n\n" + body.encode()
        if kind == "v1":  # the old format, genuine under the old rule: never ours again
            pid = secrets.token_hex(16)
            tag = hmac.new(self.our_key, f"mailprobe-v1\n{OUR_NAME}\n{pid}\n{t_ms}".encode(),
                           hashlib.sha256).hexdigest()
            value = f"v=1; n={name_digest(OUR_NAME)}; id={pid}; t={t_ms}; tag={tag}"
            return kind, make_message(to, SUBJECT, xmailprobe=value, body=body)
        return kind, signed_probe(self.our_key, OUR_NAME, to, t_ms=t_ms)[0]

    def fill(self, count: int) -> dict[str, int]:
        kinds: dict[str, int] = {}
        start = time.time() - 86_400
        for i in range(count):
            kind, data = self.message()
            folder = "Junk" if self.rng.random() < 0.1 else "INBOX"
            flags = self.rng.choice([None, None, "", "S", "ST", "T", "FS"])
            key = self._write(folder, data, flags, start + i)
            if kind == "ours":
                self.ours.add(key)
            self.kind_of[key] = f"{kind} flags={flags!r}"
            if flags and "T" in flags:
                kind += "+T"
            kinds[kind] = kinds.get(kind, 0) + 1
        return kinds


def state_of(stack: Stack) -> dict[str, tuple[bytes, str]]:
    out = {}
    for folder in stack.folders(USER):
        for p in stack.messages(USER, folder):
            try:
                out[f"{folder}/{stack._base_name(p.name)}"] = (p.read_bytes(), flags_of(p))
            except FileNotFoundError:  # renamed new/ -> cur/ meanwhile: read again
                return state_of(stack)
    return out


class TestNeverLoseMail(PluginTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key_file, cls.key = new_key_file(cls.tmp)
        cls.bin = Path(os.environ["MAILPROBE_BIN_DIR"])

    # ---- one plugin run, maybe killed
    def plugin_args(self, rng: random.Random, kind: str, proto: str) -> list[str]:
        s = self.stack
        address = s.address(USER)
        mailbox = ["--mailbox-protocol", proto, "--mailbox-host", s.host, "--mailbox-port",
                   str(s.imap_port if proto == "imap" else s.pop3_port), "--mailbox-user",
                   address, "--mailbox-password-file", s.password_file(USER)]
        if proto == "imap" and rng.random() < 0.5:
            mailbox += ["--junk-folder", "Junk"]
        if proto == "imap" and rng.random() < 0.3:
            mailbox += ["--no-idle"]
        probe = ["--probe-name", OUR_NAME, "--probe-secret-file", self.key_file,
                 "--state-dir", self.state_dir]
        smtp = ["-H", s.host, "-p", str(s.smtp_port), "--to", address]
        if kind == "roundtrip":
            return ["check_mail_roundtrip", "-t", "10", "--wait", "8", *smtp, *mailbox, *probe]
        if kind == "receive":
            keep = ["--keep"] if rng.random() < 0.2 else []
            return ["check_mailbox_receive", "-t", "10", *mailbox, *probe, *keep]
        if kind == "login":
            return ["check_mailbox_receive", "-t", "10", "--login-only", *mailbox]
        return ["check_mail_send", "-t", "10", *smtp, *probe]

    def run_one(self, rng: random.Random, kind: str, proto: str, kill_after: float | None):
        args = self.plugin_args(rng, kind, proto)
        env = dict(os.environ, MAILPROBE_STATE_DIR=self.state_dir)
        proc = subprocess.Popen([str(self.bin / args[0]), *args[1:]], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        if kill_after is not None:
            try:
                out, err = proc.communicate(timeout=kill_after)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                out, err = proc.communicate()
        else:
            out, err = proc.communicate(timeout=60)
        return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    def settle(self):
        """Probes of killed runs may still be on their way: let the queue drain."""
        deadline = time.monotonic() + 20
        while self.stack.queue_ids() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)

    # ---- the property
    def test_no_foreign_message_is_ever_deleted_or_flagged(self):
        seed = int(os.environ.get("MAILPROBE_PROPERTY_SEED") or secrets.randbits(32))
        budget = float(os.environ.get("MAILPROBE_PROPERTY_SECONDS", "90"))
        max_rounds = int(os.environ.get("MAILPROBE_PROPERTY_ROUNDS", "25"))
        rng = random.Random(seed)
        sizes = [5000, 0, 1] + [rng.choice([0, 2, 10, 50, 200, 1000, 5000]) for _ in range(100)]
        t_start = time.monotonic()
        stats = {"rounds": 0, "runs": 0, "killed": 0, "ok": 0, "ours_deleted": 0,
                 "foreign_checked": 0}
        log: list[str] = []
        for rnd in range(max_rounds):
            if rnd >= 2 and time.monotonic() - t_start > budget:
                break
            self.stack.empty(USER)
            box = Mailbox(self.stack, rng, self.key)
            kinds = box.fill(sizes[rnd])
            before = state_of(self.stack)
            self.assertEqual(len(before), sizes[rnd])
            runs = []
            for i in range(rng.randint(1, 3)):
                kind = rng.choices(["roundtrip", "receive", "login", "send"], [5, 3, 1, 1])[0]
                proto = rng.choice(["imap", "pop3"])
                # Runs take 20-300 ms: kill within that, at any stage (login, search, delete).
                kill = rng.uniform(0.0, rng.choice([0.03, 0.1, 0.3])) if rng.random() < 0.4 else None
                if rnd == 0 and i == 0:  # the big mailbox is searched to the end once
                    kind, proto, kill = "receive", "imap", None
                code, out, err = self.run_one(rng, kind, proto, kill)
                killed = code == -signal.SIGKILL
                stats["runs"] += 1
                stats["killed"] += killed
                stats["ok"] += code == 0
                runs.append(f"{kind}/{proto} kill={kill and round(kill, 2)} -> {code}: "
                            f"{out.splitlines()[0] if out else err.strip()[:200]}")
            self.settle()
            after = state_of(self.stack)
            context = (f"seed {seed} round {rnd}: {sizes[rnd]} messages {kinds}\n  "
                       + "\n  ".join(runs))
            log.append(context)
            for key, (content, flags) in before.items():
                if key in box.ours:
                    if key not in after:
                        stats["ours_deleted"] += 1
                    continue
                stats["foreign_checked"] += 1
                what = f"{key} ({box.kind_of.get(key)})"
                self.assertTrue(key in after, f"foreign message {what} deleted\n{context}")
                self.assertTrue(after[key][0] == content, f"{what} changed\n{context}")
                self.assertEqual(after[key][1], flags, f"{what} flags changed\n{context}")
            # Whatever else is there now arrived during the round: only our own probes.
            for key, (content, _) in after.items():
                if key not in before:
                    h = x_mailprobe(content)
                    self.assertIsNotNone(h, f"unexpected new message {key}\n{context}")
            stats["rounds"] += 1
        self.stack.empty(USER)
        summary = f"seed {seed}: {stats}\n" + "\n".join(log)
        if os.environ.get("MAILPROBE_PROPERTY_REPORT"):
            print(summary)
        # The runs really worked on these mailboxes (else the property holds vacuously).
        self.assertGreaterEqual(stats["rounds"], 2, summary)
        self.assertGreater(stats["ok"], 0, summary)
        self.assertGreater(stats["ours_deleted"], 0, summary)
        self.assertGreater(stats["foreign_checked"], 1000, summary)


if __name__ == "__main__":
    unittest.main()
