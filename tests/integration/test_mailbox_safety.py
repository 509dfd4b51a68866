"""Safety of the mailbox side (issue 3, "Safety" and "Concurrency"): a mailbox pre-filled with
1,000+ other messages, among them look-alikes of every kind (genuine probe headers of ours
copied over other bodies and old v=1 probes of ours too), survives round trips over IMAP
and POP3 and check_mailbox_receive runs byte for byte; 20 round trips at once with several
probe names each delete only their own probe. Mailbox users of this file: t21 (t22 unused)."""

import hashlib
import hmac
import imaplib
import random
import re
import secrets
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

from mailprobe_harness import run_plugin
from mp_testlib import (PluginTestCase, dovecot_saved_folder, files_with, full_state, mailbox_opts,
                        mailbox_url, make_message, name_digest, new_key_file, probe_header, probe_id_of,
                        signed_probe, smtp_args, wait_for_id)

USER = "t21"
ADDR = "t21@mail.test"
OUR_NAMES = ["safety-a", "safety-stale"] + [f"safety-c{i}" for i in range(4)]
OTHER_NAME = "other-site:t21@mail.test"
N_PLAIN = 480
N_LOOKALIKE = 540  # 1,020 messages in INBOX, plus some in Junk


def lookalikes(our_key: bytes, rng: random.Random):
    """(kind, message bytes) of every look-alike kind, round robin over kinds and our names."""
    other_key = secrets.token_hex(32).encode()
    wrong_key = secrets.token_hex(32).encode()
    now = int(time.time() * 1000)
    ages = [-2 * 86400_000, -3600_000, -60_000, -5_000, 0, 3600_000]
    kinds = ["subject-only", "wrong-tag", "no-tag", "other-name", "wrong-key", "tampered-t",
             "tampered-id", "tampered-n", "bounce", "malformed", "two-headers", "body-only",
             "copied-header", "copied-x-only", "v1"]
    i = 0
    while True:
        kind = kinds[i % len(kinds)]
        name = OUR_NAMES[i % len(OUR_NAMES)]
        t = now + ages[i % len(ages)] + rng.randrange(1000)
        pid = secrets.token_hex(16)
        subj = f"[mailprobe] probe {pid}"
        body = (f"This is an automatic delivery probe of check '{name}',\nsent by mailprobe on elsewhere\n"
                f"It is deleted by the check that sent it; please leave it alone.\n")
        x, extra = None, ""
        signed, _ = signed_probe(our_key, name, ADDR, t_ms=t, probe_id=pid)
        signed_x = signed.split(b"X-Mailprobe: ")[1].split(b"\n")[0].decode()
        if kind == "subject-only":
            pass
        elif kind == "wrong-tag":
            x, _ = probe_header(our_key, name, pid, t, tag=secrets.token_hex(32))
        elif kind == "no-tag":
            x = f"v=2; n={name_digest(name)}; id={pid}; t={t}; l=100"
        elif kind == "other-name":  # genuine probe of another name with its own key
            yield kind, signed_probe(other_key, OTHER_NAME, ADDR, t_ms=t, probe_id=pid)[0]
            i += 1
            continue
        elif kind == "wrong-key":  # correct-looking probe of our name, tag made with another key
            yield kind, signed_probe(wrong_key, name, ADDR, t_ms=t, probe_id=pid)[0]
            i += 1
            continue
        elif kind in ("tampered-t", "tampered-id", "tampered-n"):  # changed after tagging
            field = {"tampered-t": f"t={t}", "tampered-id": f"id={pid}",
                     "tampered-n": f"n={name_digest(name)}"}[kind]
            changed = {"tampered-t": f"t={t + 1}", "tampered-id": f"id={secrets.token_hex(16)}",
                       "tampered-n": f"n={name_digest(OUR_NAMES[0] if name != OUR_NAMES[0] else OUR_NAMES[1])}"}[kind]
            yield kind, signed.replace(field.encode(), changed.encode(), 1)
            i += 1
            continue
        elif kind == "copied-header":  # all of a genuine probe's header over a user's text
            yield kind, signed.split(b"\n\n")[0] + b"\n\nMy own words, not the probe's.\n"
            i += 1
            continue
        elif kind == "copied-x-only":  # only its X-Mailprobe field, in an ordinary mail
            x = signed_x
        elif kind == "v1":  # the old format, genuine under the old rule
            v1 = hmac.new(our_key, f"mailprobe-v1\n{name}\n{pid}\n{t}".encode(), hashlib.sha256)
            x = f"v=1; n={name_digest(name)}; id={pid}; t={t}; tag={v1.hexdigest()}"
        elif kind == "bounce":  # a bounce quoting a genuine probe of ours: not a probe itself
            subj = f"Undelivered Mail Returned to Sender: [mailprobe] probe {pid}"
            body = ("This is the mail system.\n\n--- original message follows ---\n"
                    + signed.decode())
        elif kind == "malformed":
            x = rng.choice([f"v=2; n={name_digest(name)}; id={pid}; t=abc; l=1; tag={'0' * 64}",
                            f"v=2; n={name_digest(name)}; id={pid[:10]}; t={t}; l=1; tag={'f' * 64}",
                            f"v=9; n={name_digest(name)}; id={pid}; t={t}; l=1; tag={'a' * 64}",
                            "", "garbage", f"id={pid}"])
        elif kind == "two-headers":
            x, _ = probe_header(other_key, OTHER_NAME, pid, t)
            extra = f"X-Mailprobe: {signed_x.replace('tag=', 'tag=1')[:-1]}"
        elif kind == "body-only":  # a genuine header line of ours, but in the body
            body = f"X-Mailprobe: {signed_x}\n\n{body}"
        yield kind, make_message(ADDR, subj, xmailprobe=x, extra=extra, body=body, sender=ADDR)
        i += 1


def plain_messages(rng: random.Random):
    i = 0
    while True:
        shape = i % 4
        if shape == 0:
            lines = "".join(f"line {j}\n" for j in range(rng.randrange(1, 60)))
            msg = make_message(ADDR, f"meeting notes {i}", body=lines)
        elif shape == 1:
            msg = make_message(ADDR, f"Re: [mailprobe] weekly report {i}", extra="X-Mailer: something")
        elif shape == 2:
            msg = (f"From: <a{i}@x.test>\nTo: <{ADDR}>\nSubject: multipart {i}\nMIME-Version: 1.0\n"
                   f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\nContent-Type: text/plain\n\n"
                   f"hello\n--b{i}\nContent-Type: application/octet-stream\n\n{secrets.token_hex(200)}\n"
                   f"--b{i}--\n").encode()
        else:
            msg = make_message(ADDR, f"probe results {i}", extra="X-Mailprobe-Report: yes")
        yield msg
        i += 1


class MailboxSafetyTests(PluginTestCase):
    users = ()  # the pre-filled mailbox is set up once for the class

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.stack
        s.empty(USER)
        _, cls.our_key = new_key_file(cls.state_dir)
        rng = random.Random(20261127)
        looks, plains = lookalikes(cls.our_key, rng), plain_messages(rng)
        items = [("plain", next(plains)) for _ in range(N_PLAIN)]
        items += [next(looks) for _ in range(N_LOOKALIKE - 120)]
        rng.shuffle(items)
        items += [next(looks) for _ in range(120)]  # the newest ones (POP3 scans the newest first)
        cls.kinds: dict[str, int] = {}
        for n, (kind, data) in enumerate(items):
            cls.kinds[kind] = cls.kinds.get(kind, 0) + 1
            flags_seen = n % 3 == 0
            s.deliver_raw(USER, data, seen=flags_seen)
        for n in range(40):
            s.deliver_raw(USER, next(looks)[1] if n % 2 else next(plains), folder="Junk")
        cls.before = full_state(s, USER)
        assert len(cls.before) == N_PLAIN + N_LOOKALIKE + 40, len(cls.before)
        # let Dovecot index the pre-fill once, outside the timed runs
        with imaplib.IMAP4(s.host, s.imap_port, timeout=60) as c:
            c.login(ADDR, s.password(USER))
            typ, data = c.select("INBOX", readonly=True)
            assert int(data[0]) == N_PLAIN + N_LOOKALIKE, data

    # ------------------------------------------------------------------ helpers
    def roundtrip(self, *args):
        return run_plugin("check_mail_roundtrip", list(args), env=self.env, timeout=120)

    def receive(self, *args):
        return run_plugin("check_mailbox_receive", list(args), env=self.env, timeout=120)

    def assertUntouched(self, context=""):
        """Everything but our own probes is exactly as pre-filled: same files (content), same
        folders, same flags, nothing flagged \\Deleted, nothing else present."""
        s = self.stack
        after = full_state(s, USER)
        missing = sorted(set(self.before) - set(after))
        extra = sorted(set(after) - set(self.before))
        self.assertEqual(missing, [], f"{context}: pre-filled messages gone")
        self.assertEqual(extra, [], f"{context}: unexpected messages left (our probes?)")
        changed = [k for k in self.before if after[k][0] != self.before[k][0]]
        self.assertEqual(changed, [], f"{context}: content changed")
        deleted = [k for k, (_, fl) in after.items() if "T" in fl]
        self.assertEqual(deleted, [], f"{context}: flagged \\Deleted")
        flags = [(k, self.before[k][1], after[k][1]) for k in self.before
                 if after[k][1] != self.before[k][1]]
        self.assertEqual(flags, [], f"{context}: flags changed (not even \\Seen may be set)")
        with imaplib.IMAP4(s.host, s.imap_port, timeout=60) as c:
            c.login(ADDR, s.password(USER))
            for folder, n in (("INBOX", N_PLAIN + N_LOOKALIKE), ("Junk", 40)):
                typ, data = c.select(folder, readonly=True)
                self.assertEqual(int(data[0]), n, f"{context}: {folder} count")
                typ, data = c.uid("SEARCH", None, "DELETED")
                self.assertEqual(data[0].split(), [], f"{context}: {folder} has \\Deleted messages")

    # ------------------------------------------------------------------ tests
    def test_prefill_has_every_lookalike_kind(self):
        self.assertGreaterEqual(len(self.before), 1000)
        for kind in ("plain", "subject-only", "wrong-tag", "no-tag", "other-name", "wrong-key",
                     "tampered-t", "tampered-id", "tampered-n", "bounce", "malformed", "two-headers",
                     "body-only", "copied-header", "copied-x-only", "v1"):
            self.assertGreaterEqual(self.kinds.get(kind, 0), 20, kind)

    def test_sequential_runs_imap_and_pop3(self):
        s = self.stack
        smtp = [*smtp_args(s), "--to", ADDR, "--probe-name", "safety-a", "-v"]
        imap_runs = [
            ("imap", mailbox_opts(s, USER, "imap")),
            ("imap no-idle", mailbox_opts(s, USER, "imap") + ["--no-idle", "--poll-interval", "0.3"]),
            ("imaps junk", ["--mailbox", mailbox_url(s, USER, "imap", "tls"), "--cacert", s.ca,
                            "--mailbox-password-file", s.password_file(USER), "--junk-folder", "Junk"]),
        ]
        pop3_runs = [
            ("pop3", mailbox_opts(s, USER, "pop3")),
            ("pop3s", mailbox_opts(s, USER, "pop3", "tls")),
        ]
        for what, mbox in imap_runs + pop3_runs:
            with self.subTest(what):
                run = self.roundtrip(*smtp, *mbox, "-t", "30", "--wait", "20")
                self.assertStatus(run, "OK", "MAIL ROUNDTRIP")
                self.assertEqual(run.perfdata["stale_removed"].value, 0, run.describe())
                pid = probe_id_of(run)
                self.assertEqual(dovecot_saved_folder(s, pid), "INBOX")
                self.assertUntouched(what)

    def test_stale_scans_skip_lookalikes(self):
        # -t 3: every look-alike of our names older than 3 s is a stale candidate, none verifies
        s = self.stack
        for proto in ("imap", "pop3"):
            with self.subTest(proto):
                run = self.roundtrip(*smtp_args(s), "--to", ADDR, "--probe-name", "safety-stale",
                                     *mailbox_opts(s, USER, proto), "-t", "3", "--wait", "2", "-v")
                self.assertStatus(run, "OK", "MAIL ROUNDTRIP")
                self.assertEqual(run.perfdata["stale_removed"].value, 0, run.describe())
                self.assertNotIn("stale", run.first_line.split("|")[0])
                self.assertUntouched(f"stale {proto}")

    def test_mailbox_receive_runs(self):
        s = self.stack
        for proto, extra in (("imap", []), ("pop3", []), ("imap", ["--junk-folder", "Junk"])):
            with self.subTest(proto=proto, extra=extra):
                # no probe of ours: none of the look-alikes counts
                run = self.receive(*mailbox_opts(s, USER, proto), "--probe-name", "safety-a", *extra)
                self.assertStatus(run, "CRITICAL", "MAILBOX RECEIVE")
                self.assertEqual(run.perfdata["probes_found"].value, 0, run.describe())
                self.assertUntouched(f"receive {proto} empty")
                # one real probe: exactly that one is found, and kept as the newest (setup 5)
                r = run_plugin("check_mail_send", [*smtp_args(s), "--to", ADDR, "--probe-name", "safety-a", "-v"],
                               env=self.env)
                self.assertStatus(r, "OK", "MAIL SEND")
                pid = probe_id_of(r)
                wait_for_id(s, USER, pid)
                run = self.receive(*mailbox_opts(s, USER, proto), "--probe-name", "safety-a", "-v", *extra)
                self.assertStatus(run, "OK", "MAILBOX RECEIVE")
                self.assertEqual(run.perfdata["probes_found"].value, 1, run.describe())
                self.assertIn(f"probe {pid} sent", run.stdout)
                kept = files_with(s, USER, pid)
                self.assertEqual(len(kept), 1, run.describe())
                for path in kept:  # the next case starts from the look-alikes alone
                    path.unlink()
                self.assertUntouched(f"receive {proto}")
        run = self.receive(*mailbox_opts(s, USER, "pop3"), "--login-only")
        self.assertStatus(run, "OK", "MAILBOX RECEIVE")
        self.assertEqual(run.perfdata["messages"].value, N_PLAIN + N_LOOKALIKE)
        self.assertUntouched("login-only")

    def test_twenty_concurrent_roundtrips(self):
        s = self.stack
        variants = {
            "safety-c0": mailbox_opts(s, USER, "imap"),
            "safety-c1": ["--mailbox", mailbox_url(s, USER, "imap", "tls"), "--cacert", s.ca,
                          "--mailbox-password-file", s.password_file(USER)],
            "safety-c2": mailbox_opts(s, USER, "imap") + ["--no-idle", "--poll-interval", "0.5"],
            "safety-c3": mailbox_opts(s, USER, "pop3"),
        }
        jobs = [(name, args) for name, args in variants.items() for _ in range(5)]

        def one(job):
            name, mbox = job
            # -vvv: the IMAP transcript shows which UIDs each run flagged \Deleted (a POP3 run's
            # transcript is cut short by its scans, and message numbers say nothing anyway)
            verbose = "-v" if name == "safety-c3" else "-vvv"
            return name, self.roundtrip(*smtp_args(s), "--to", ADDR, "--probe-name", name, *mbox,
                                        "-t", "50", "--wait", "40", "-w", "20", "-c", "35", verbose)

        with ThreadPoolExecutor(len(jobs)) as pool:
            results = list(pool.map(one, jobs))
        ids = []
        stored_uids: list[str] = []
        for name, run in results:
            self.assertStatus(run, "OK", "MAIL ROUNDTRIP")
            self.assertEqual(run.perfdata["stale_removed"].value, 0, run.describe())
            pid = probe_id_of(run)
            self.assertIn(f"check '{name}'", run.stdout)
            ids.append(pid)
            self.assertEqual(dovecot_saved_folder(s, pid), "INBOX")
            self.assertIn(f"probe {pid} of check '{name}' deleted", run.stdout)
            if name == "safety-c3":
                continue
            # every UID this run flagged \Deleted was returned by a search for its own probe id
            own = set()
            for m in re.finditer(rf"C: (\S+) UID SEARCH [^\n]*id={pid}\"?\n((?:  S: \* [^\n]*\n)*)", run.stdout):
                for line in m.group(2).splitlines():
                    mm = re.match(r"\s*S: \* SEARCH ((?:\d+ ?)+)$", line)
                    if mm:
                        own.update(mm.group(1).split())
            stores = re.findall(r"C: \S+ UID STORE (\S+) \+FLAGS", run.stdout)
            self.assertEqual(len(stores), 1, run.describe())
            self.assertIn(stores[0], own, run.describe())
            stored_uids.append(stores[0])
        self.assertEqual(len(set(ids)), 20)
        self.assertEqual(len(set(stored_uids)), 15, "two runs deleted the same message")
        for pid in ids:
            self.assertEqual(files_with(s, USER, pid), [])
        self.assertUntouched("concurrent")


if __name__ == "__main__":
    unittest.main()
