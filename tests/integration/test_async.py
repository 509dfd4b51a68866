"""--async: probes judged across runs, with a locked, atomically replaced state file (issue 5).

Delivery is held back on purpose with Stack.hold() (Postfix #1 defers its LMTP transport,
mail stays queued) and let go with Stack.release(). hold() stops delivery for the whole
stack, so CTest runs this file alone (RUN_SERIAL, see tests/integration/CMakeLists.txt).

Every test has its own --state-dir. Mailboxes: t26 (hold: OK -> WARNING -> CRITICAL -> OK),
t27 (lost probes), t28 (first runs, concurrent runs), t29 (SIGKILL), t30 (state directory
errors, check_mailbox_receive --async).

State file format (common/state/model.hpp): "mailprobe-state 1", "identity X",
"delivered_total N", "lost_total N", optional "last_delivery id= sent= seen= delay_ms=",
"probe id= sent= via=" per outstanding probe, "end".
"""

import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import uuid
from pathlib import Path

from mailprobe_harness import _tool, run_plugin
from mp_testlib import PluginTestCase


def read_state(path):
    """Strict reader of a version 1 state file; raises AssertionError when malformed."""
    text = Path(path).read_text()
    lines = text.split("\n")
    assert text.endswith("\n"), f"{path}: no final newline: {text!r}"
    lines.pop()
    assert lines and lines[0] == "mailprobe-state 1", f"{path}: bad header: {text!r}"
    assert lines[-1] == "end", f"{path}: no 'end' line: {text!r}"
    st = {"probes": {}, "last_delivery": None}
    for line in lines[1:-1]:
        key, _, rest = line.partition(" ")
        if key == "identity":
            st["identity"] = rest
        elif key in ("delivered_total", "lost_total"):
            assert key not in st, f"{path}: duplicate {key}"
            st[key] = int(rest)
        elif key in ("probe", "last_delivery"):
            fields = dict(f.split("=", 1) for f in rest.split(" "))
            if key == "probe":
                assert fields["id"] not in st["probes"], f"{path}: duplicate probe {fields['id']}"
                st["probes"][fields["id"]] = int(fields["sent"])
            else:
                st["last_delivery"] = {k: (v if k == "id" else int(v)) for k, v in fields.items()}
        else:
            raise AssertionError(f"{path}: unexpected line {line!r}")
    for key in ("identity", "delivered_total", "lost_total"):
        assert key in st, f"{path}: no {key} line"
    return st


class AsyncBase(PluginTestCase):
    USER = ""

    def setUp(self):
        self.state_dir = tempfile.mkdtemp(prefix=f"mp-async-{self.USER}-")
        self.addCleanup(shutil.rmtree, self.state_dir, True)
        self.name = f"async-{self.USER}-{uuid.uuid4().hex[:10]}"
        self.settle()
        self.addCleanup(self.settle)

    def settle(self):
        """No mail of this user in flight, and an empty mailbox: a probe sent by the end of
        one test must not turn up in the next."""
        self.wait_queue_empty()
        time.sleep(0.1)
        self.stack.empty(self.USER)

    def args(self, *extra, user=None, state_dir=None, timeout="20"):
        s = self.stack
        user = user or self.USER
        return ["-H", s.host, "-p", s.smtp_port, "--to", s.address(user),
                "--mailbox", f"imap://{s.address(user)}@{s.host}:{s.imap_port}/INBOX",
                "--mailbox-password-file", s.password_file(user),
                "--state-dir", state_dir or self.state_dir, "--probe-name", self.name,
                "--async", "-t", timeout, *extra]

    def run_async(self, *extra, plugin="check_mail_roundtrip", **kw):
        return run_plugin(plugin, self.args(*extra, **kw), timeout=60)

    def state_path(self, state_dir=None):
        files = list(Path(state_dir or self.state_dir).glob("*.state"))
        self.assertEqual(len(files), 1, files)
        return files[0]

    def state(self, state_dir=None):
        return read_state(self.state_path(state_dir))

    def queued_for(self, user=None):
        """Queue ids of Postfix #1 with a recipient of this test's user."""
        addr = self.stack.address(user or self.USER)
        r = subprocess.run([_tool("postqueue"), "-c", self.stack.postfix1_config, "-j"],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)
        ids = []
        for line in r.stdout.splitlines():
            entry = json.loads(line)
            if any(rc.get("address") == addr for rc in entry.get("recipients", [])):
                ids.append(entry["queue_id"])
        return ids

    def wait_queue_empty(self, user=None, timeout=20):
        deadline = time.monotonic() + timeout
        while self.queued_for(user):
            self.assertLess(time.monotonic(), deadline, "Postfix #1 did not deliver the queue")
            time.sleep(0.1)

    @staticmethod
    def sleep_until_age(sent_ms, age_s):
        delay = sent_ms / 1000 + age_s - time.time()
        if delay > 0:
            time.sleep(delay)

    def probe_files(self, user=None):
        return [p for p in self.stack.messages(user or self.USER)
                if b"X-Mailprobe: v=2;" in p.read_bytes()]


# ---------------------------------------------------------------------- the first runs

class FirstRunsTest(AsyncBase):
    USER = "t28"

    def test_first_run_then_the_next_collects(self):
        run = self.run_async("-w", "5", "-c", "10")
        self.assertStatus(run, "OK")
        self.assertRegex(run.first_line, r"^MAIL ROUNDTRIP OK - no delivery measured yet; 1 outstanding")
        pd = run.perfdata
        self.assertEqual(pd["outstanding"].value, 1)
        self.assertEqual((pd["lost"].value, pd["lost"].uom), (0, "c"))
        self.assertEqual(pd["delivered_now"].value, 0)
        self.assertNotIn("last_delivery", pd)
        self.assertTrue(any(l.startswith("[OK] send: accepted by") for l in run.long_output))
        st = self.state()
        self.assertEqual(st["identity"], self.name)
        self.assertEqual((st["delivered_total"], st["lost_total"]), (0, 0))
        self.assertEqual(len(st["probes"]), 1)
        first_id = next(iter(st["probes"]))
        self.assertIn(f"state in {self.state_path()}", run.stdout)
        self.assertEqual(oct(self.state_path().stat().st_mode & 0o777), "0o600")

        self.stack.wait_for_messages(self.USER, 1)
        run = self.run_async("-w", "5", "-c", "10")
        self.assertStatus(run, "OK")
        self.assertRegex(run.first_line, r"^MAIL ROUNDTRIP OK - last probe delivered in [\d.]+ m?s "
                                         r"\(sent \d\d:\d\d:\d\d UTC\); 1 outstanding")
        pd = run.perfdata
        self.assertEqual(pd["delivered_now"].value, 1)
        self.assertEqual(pd["outstanding"].value, 1)
        self.assertEqual((pd["last_delivery"].warn, pd["last_delivery"].crit), ("5", "10"))
        self.assertGreaterEqual(pd["last_delivery"].value, 0)
        self.assertLess(pd["last_delivery"].value, 3)
        st = self.state()
        self.assertEqual(st["delivered_total"], 1)
        self.assertEqual(st["last_delivery"]["id"], first_id)
        self.assertNotIn(first_id, st["probes"])
        self.assertEqual(len(st["probes"]), 1)
        # the collected probe is gone from the mailbox; only the fresh one arrives
        for p in self.stack.wait_for_messages(self.USER, 1):
            self.assertNotIn(first_id.encode(), p.read_bytes())

    def test_hybrid_wait_reports_the_current_latency(self):
        run = self.run_async("--wait", "10")
        self.assertStatus(run, "OK")
        self.assertIn("last probe delivered in", run.first_line)
        self.assertIn("+ the fresh probe", run.stdout)
        self.assertEqual(run.perfdata["delivered_now"].value, 1)
        self.assertEqual(run.perfdata["outstanding"].value, 0)
        st = self.state()
        self.assertEqual((st["delivered_total"], len(st["probes"])), (1, 0))
        time.sleep(0.3)
        self.assertEqual(self.probe_files(), [])

    def test_ten_concurrent_runs_keep_the_state_consistent(self):
        runs = [None] * 10

        def one(i):
            runs[i] = run_plugin("check_mail_roundtrip", self.args("-w", "5", "-c", "10"), timeout=60)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for r in runs:
            self.assertIsNotNone(r)
            self.assertIn(r.status_word, ("OK", "WARNING"), r.describe())
            self.assertNotIn("locked", r.stdout)
        sent = sum(1 for r in runs if any(l.startswith("[OK] send: accepted by") for l in r.long_output))
        self.assertEqual(sent, 10)
        collected = sum(int(r.perfdata["delivered_now"].value) for r in runs)
        st = self.state()
        self.assertEqual(st["delivered_total"], collected)
        self.assertEqual(st["delivered_total"] + len(st["probes"]) + st["lost_total"], 10, st)
        # the last run's count is the state's
        self.assertIn(len(st["probes"]), [int(r.perfdata["outstanding"].value) for r in runs])
        # let everything arrive, then one run collects the rest: each probe counted once
        self.wait_queue_empty()
        self.stack.wait_for_messages(self.USER, len(st["probes"]))
        final = self.run_async("--wait", "10")
        self.assertStatus(final, "OK")
        self.assertEqual(final.perfdata["delivered_now"].value, len(st["probes"]) + 1, final.describe())
        st = self.state()
        self.assertEqual((st["delivered_total"], len(st["probes"]), st["lost_total"]), (11, 0, 0))
        time.sleep(0.3)
        self.assertEqual(self.probe_files(), [])


# ---------------------------------------------------------------------- held delivery

class HeldDeliveryTest(AsyncBase):
    USER = "t26"

    def test_ok_warning_critical_then_ok_after_release(self):
        thresholds = ("-w", "2", "-c", "4")
        self.stack.hold()
        try:
            r1 = self.run_async(*thresholds)
            self.assertStatus(r1, "OK")
            self.assertIn("no delivery measured yet; 1 outstanding", r1.first_line)
            (p1, sent1), = self.state()["probes"].items()

            self.sleep_until_age(sent1, 2.6)
            r2 = self.run_async(*thresholds)
            self.assertStatus(r2, "WARNING")
            self.assertRegex(r2.first_line, r"^MAIL ROUNDTRIP WARNING - probe sent \d\d:\d\d:\d\d UTC "
                                            r"not delivered after [23](\.\d)? s; 2 outstanding")
            self.assertEqual(r2.perfdata["outstanding"].value, 2)

            self.sleep_until_age(sent1, 4.6)
            r3 = self.run_async(*thresholds)
            self.assertStatus(r3, "CRITICAL")
            self.assertRegex(r3.first_line, r"^MAIL ROUNDTRIP CRITICAL - probe sent \d\d:\d\d:\d\d UTC "
                                            r"not delivered after [45](\.\d)? s; 3 outstanding")
            st = self.state()
            self.assertEqual(len(st["probes"]), 3)
            self.assertIn(p1, st["probes"])
            self.assertEqual(st["delivered_total"], 0)
            self.assertEqual(self.probe_files(), [])  # really held back
            self.assertEqual(len(self.queued_for()), 3)
        finally:
            self.stack.release()
        held = set(st["probes"])
        self.wait_queue_empty()
        self.stack.wait_for_messages(self.USER, 3)

        # the late probes are collected and the fresh one found within --wait: OK again
        r4 = self.run_async(*thresholds, "--wait", "10")
        self.assertStatus(r4, "OK")
        self.assertIn("last probe delivered in", r4.first_line)
        self.assertEqual(r4.perfdata["delivered_now"].value, 4, r4.describe())
        self.assertEqual(r4.perfdata["outstanding"].value, 0)
        st = self.state()
        self.assertEqual((st["delivered_total"], len(st["probes"]), st["lost_total"]), (4, 0, 0))
        self.assertNotIn(st["last_delivery"]["id"], held)
        time.sleep(0.3)
        self.assertEqual(self.probe_files(), [])  # the held probes were deleted

        # counted once: the next run finds nothing more to count
        r5 = self.run_async(*thresholds)
        self.assertStatus(r5, "OK")
        self.assertEqual(r5.perfdata["delivered_now"].value, 0)
        self.assertEqual(self.state()["delivered_total"], 4)

    def test_late_probes_collected_without_wait_report_the_newest(self):
        self.stack.hold()
        try:
            for _ in range(3):
                self.assertStatus(self.run_async("-w", "100", "-c", "200"), "OK")
            sent = self.state()["probes"]
            self.assertEqual(len(sent), 3)
        finally:
            self.stack.release()
        self.wait_queue_empty()
        self.stack.wait_for_messages(self.USER, 3)
        run = self.run_async("-w", "100", "-c", "200")
        self.assertStatus(run, "OK")
        self.assertEqual(run.perfdata["delivered_now"].value, 3)
        st = self.state()
        newest = max(sent, key=sent.get)
        self.assertEqual(st["last_delivery"]["id"], newest)  # not whichever arrived last
        self.assertEqual(st["last_delivery"]["sent"], sent[newest])
        self.assertEqual(st["delivered_total"], 3)


class LostProbeTest(AsyncBase):
    USER = "t27"

    def test_lost_once_then_recovers(self):
        opts = ("-w", "10", "-c", "20", "--give-up", "3")
        self.stack.hold()
        try:
            r1 = self.run_async(*opts)
            self.assertStatus(r1, "OK")
            (p1, sent1), = self.state()["probes"].items()
            self.sleep_until_age(sent1, 3.3)
            r2 = self.run_async(*opts)
            self.assertStatus(r2, "CRITICAL")
            self.assertRegex(r2.first_line, r"^MAIL ROUNDTRIP CRITICAL - 1 probe\(s\) lost; ")
            self.assertTrue(any(re.fullmatch(rf"probe {p1} sent \d\d:\d\d:\d\d UTC lost "
                                             r"\(not delivered within 3 s\)", l)
                                for l in r2.long_output), r2.describe())
            self.assertEqual((r2.perfdata["lost"].value, r2.perfdata["lost"].uom), (1, "c"))
            st = self.state()
            self.assertEqual(st["lost_total"], 1)
            self.assertNotIn(p1, st["probes"])
            self.assertEqual(len(st["probes"]), 1)

            # reported once: the next run is OK again, the counter stays
            r3 = self.run_async(*opts)
            self.assertStatus(r3, "OK")
            self.assertNotIn("lost", r3.first_line.split("|")[0])
            self.assertEqual(r3.perfdata["lost"].value, 1)
            self.assertEqual(self.state()["lost_total"], 1)
            pending = set(self.state()["probes"])
        finally:
            self.stack.release()
        # clean up: the late deliveries arrive; the lost one is not counted as delivered
        self.wait_queue_empty()
        self.stack.wait_for_messages(self.USER, 3)
        self.sleep_until_age(sent1, 6.2)
        r4 = self.run_async("-w", "10", "-c", "20", "--give-up", "30", "--wait", "3", timeout="5")
        self.assertStatus(r4, "OK")
        self.assertEqual(r4.perfdata["delivered_now"].value, len(pending) + 1, r4.describe())
        st = self.state()
        self.assertEqual((st["delivered_total"], st["lost_total"], len(st["probes"])),
                         (len(pending) + 1, 1, 0))
        time.sleep(0.3)
        self.assertEqual(self.probe_files(), [])  # the lost probe, older than -t, removed too


# ---------------------------------------------------------------------- SIGKILL

class KillTest(AsyncBase):
    USER = "t29"

    def postfix_sent_ids(self, log_offset):
        """Probe ids that Postfix #1 delivered to t29 since log_offset (message-id + lmtp lines)."""
        log = (self.stack.log_dir / "postfix1.log").read_bytes()[log_offset:].decode(errors="replace")
        msgid = dict(re.findall(r"cleanup\[\d+\]: (\w+): message-id=<mailprobe\.([0-9a-f]{32})@", log))
        sent = re.findall(r"lmtp\[\d+\]: (\w+): to=<t29@mail\.test>.*status=sent", log)
        return [msgid[q] for q in sent if q in msgid]

    def test_sigkill_at_random_moments(self):
        seed = random.randrange(1 << 30)
        rng = random.Random(seed)
        log_path = self.stack.log_dir / "postfix1.log"
        log_offset = log_path.stat().st_size
        binary = Path(os.environ["MAILPROBE_BIN_DIR"]) / "check_mail_roundtrip"
        killed_alive = 0
        for i in range(50):
            extra = ("--wait", "3") if i % 2 else ()
            # runs take 30-80 ms here: 0.3 * u^2 puts about half the kills inside a run
            delay = 0.3 * rng.random() ** 2
            proc = subprocess.Popen([str(binary), *map(str, self.args(*extra))], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            if proc.poll() is None:
                killed_alive += 1
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            files = list(Path(self.state_dir).glob("*.state"))
            if files:  # always readable, whatever the moment of the kill
                try:
                    read_state(files[0])
                except (AssertionError, ValueError, KeyError) as e:
                    self.fail(f"run {i} (seed {seed}, killed after {delay:.3f} s): {e}")
            if i % 10 == 9:
                run = self.run_async()
                self.assertIn(run.status_word, ("OK", "WARNING"), f"seed {seed}: " + run.describe())
        self.assertGreaterEqual(killed_alive, 10, f"seed {seed}: too few kills hit a running plugin")
        # no temp files of killed writers are left once a normal run has saved
        run = self.run_async()
        self.assertIn(run.status_word, ("OK", "WARNING"), run.describe())
        self.assertEqual([p.name for p in Path(self.state_dir).iterdir() if ".tmp." in p.name], [])

        # everything sent gets delivered; one last run collects it all
        self.wait_queue_empty()
        time.sleep(0.5)
        final = self.run_async("--wait", "10")
        self.assertStatus(final, "OK")
        st = self.state()
        time.sleep(0.5)  # postlogd writes asynchronously
        delivered_ids = self.postfix_sent_ids(log_offset)
        self.assertEqual(len(delivered_ids), len(set(delivered_ids)))
        # every probe that reached the mailbox was counted exactly once ...
        self.assertEqual(st["delivered_total"], len(delivered_ids), f"seed {seed}: {st}")
        # ... and what is still outstanding was recorded but never sent (killed in time)
        self.assertEqual(set(st["probes"]) & set(delivered_ids), set(), f"seed {seed}")
        self.assertEqual(st["lost_total"], 0)
        self.assertLessEqual(len(st["probes"]), killed_alive)
        # a probe still in the mailbox was counted already (its run died before deleting it)
        for p in self.probe_files():
            m = re.search(rb"id=([0-9a-f]{32});", p.read_bytes())
            self.assertIn(m.group(1).decode(), delivered_ids)
            self.assertNotIn(m.group(1).decode(), st["probes"])


# ---------------------------------------------------------------------- state directory

class StateDirTest(AsyncBase):
    USER = "t30"

    def assert_unknown_naming(self, run, path, *words):
        self.assertStatus(run, "UNKNOWN")
        self.assertIn(str(path), run.first_line)
        for w in words:
            self.assertIn(w, run.first_line)
        self.assertEqual(run.stdout.count("\n"), 1, run.describe())  # one clear line

    def assert_nothing_sent(self):
        time.sleep(0.3)
        self.assertEqual(self.queued_for(), [])
        self.assertEqual(self.probe_files(), [])

    def test_state_dir_is_a_regular_file(self):
        path = Path(self.state_dir) / "not-a-dir"
        path.write_text("x")
        run = self.run_async(state_dir=str(path))
        self.assert_unknown_naming(run, path, "Not a directory")
        self.assertEqual(path.read_text(), "x")
        self.assert_nothing_sent()

    def test_state_dir_cannot_be_created(self):
        blocker = Path(self.state_dir) / "file"
        blocker.write_text("x")
        path = blocker / "state"
        run = self.run_async(state_dir=str(path))
        self.assert_unknown_naming(run, path, "cannot create state directory", "Not a directory")
        self.assert_nothing_sent()

    def test_state_dir_not_writable(self):
        # root passes every permission check; /proc/1 is a directory nobody can create files in
        run = self.run_async(state_dir="/proc/1")
        self.assert_unknown_naming(run, "/proc/1", "state directory is not writable")
        self.assert_nothing_sent()

    def test_missing_state_dir_is_created_private(self):
        path = Path(self.state_dir) / "a" / "b"
        run = self.run_async(state_dir=str(path))
        self.assertStatus(run, "OK")
        self.assertTrue(path.is_dir())
        self.assertEqual(oct(path.stat().st_mode & 0o777), "0o700")
        self.assertEqual(len(self.state(path)["probes"]), 1)

    def _corrupt(self, content, *words):
        run = self.run_async()  # a valid state first
        self.assertStatus(run, "OK")
        self.wait_queue_empty()
        self.stack.wait_for_messages(self.USER, 1)
        self.stack.empty(self.USER)
        path = self.state_path()
        path.write_bytes(content)
        run = self.run_async()
        self.assert_unknown_naming(run, path, *words)
        self.assertEqual(path.read_bytes(), content, "a corrupt state file must not be overwritten")
        self.assert_nothing_sent()
        run = self.run_async()  # still refused: the evidence is kept
        self.assertStatus(run, "UNKNOWN")
        return run

    def test_garbage_state_file(self):
        self._corrupt(os.urandom(64) + b"\n\x00garbage\n", "corrupt state file")

    def test_truncated_state_file(self):
        self._corrupt(b"mailprobe-state 1\nidentity x\ndelivered_total 3\n",
                      "corrupt state file", "truncated")

    def test_future_version(self):
        self._corrupt(b"mailprobe-state 2\nwhatever\n", "unsupported state file version 2")

    def test_foreign_identity(self):
        self._corrupt(b"mailprobe-state 1\nidentity someone-else\ndelivered_total 0\nlost_total 0\nend\n",
                      "belongs to identity 'someone-else'")

    # ------------------------------------------------------------------ mailbox only

    def test_mailbox_receive_async_judges_the_newest_probe_age(self):
        s = self.stack
        send_args = ["-H", s.host, "-p", s.smtp_port, "--to", s.address(self.USER),
                     "--probe-name", self.name, "--state-dir", self.state_dir, "-t", "20"]
        recv_args = ["--mailbox", f"imap://{s.address(self.USER)}@{s.host}:{s.imap_port}/INBOX",
                     "--mailbox-password-file", s.password_file(self.USER),
                     "--state-dir", self.state_dir, "--probe-name", self.name, "--async",
                     "-w", "2", "-c", "4", "-t", "20"]
        # a probe of another check in the same mailbox is never touched
        other = f"{self.name}-other"
        other_args = list(send_args)
        other_args[other_args.index("--probe-name") + 1] = other
        r = run_plugin("check_mail_send", other_args)
        self.assertStatus(r, "OK", "MAIL SEND")
        self.stack.wait_for_messages(self.USER, 1)

        run = run_plugin("check_mailbox_receive", recv_args)
        self.assertStatus(run, "CRITICAL", "MAILBOX RECEIVE")
        self.assertIn(f"no probe of check '{self.name}' seen yet", run.first_line)

        r = run_plugin("check_mail_send", send_args)
        self.assertStatus(r, "OK", "MAIL SEND")
        self.stack.wait_for_messages(self.USER, 2)
        run = run_plugin("check_mailbox_receive", recv_args)
        self.assertStatus(run, "OK", "MAILBOX RECEIVE")
        self.assertRegex(run.first_line, r"^MAILBOX RECEIVE OK - newest probe [\d.]+ m?s old "
                                         r"\(sent \d\d:\d\d:\d\d UTC\)")
        self.assertEqual(run.perfdata["delivered_now"].value, 1)
        self.assertNotIn("send:", run.stdout)  # watching only: nothing sent
        st = self.state_path(self.state_dir)
        state = read_state(st)
        self.assertEqual((state["delivered_total"], state["probes"]), (1, {}))
        remaining = self.probe_files()
        self.assertEqual(len(remaining), 1)  # the other check's probe
        self.assertIn(b"other", remaining[0].read_bytes())
        sent = state["last_delivery"]["sent"]

        self.sleep_until_age(sent, 2.6)
        run = run_plugin("check_mailbox_receive", recv_args)
        self.assertStatus(run, "WARNING", "MAILBOX RECEIVE")
        self.assertRegex(run.first_line, r"newest probe [23](\.\d)? s old")
        self.assertEqual(run.perfdata["delivered_now"].value, 0)

        self.sleep_until_age(sent, 4.6)
        run = run_plugin("check_mailbox_receive", recv_args)
        self.assertStatus(run, "CRITICAL", "MAILBOX RECEIVE")
        self.assertRegex(run.first_line, r"newest probe [45](\.\d)? s old")

        r = run_plugin("check_mail_send", send_args)
        self.assertStatus(r, "OK", "MAIL SEND")
        self.stack.wait_for_messages(self.USER, 2)
        run = run_plugin("check_mailbox_receive", recv_args)
        self.assertStatus(run, "OK", "MAILBOX RECEIVE")
        self.assertEqual(read_state(st)["delivered_total"], 2)
        self.assertEqual(len(self.probe_files()), 1)


if __name__ == "__main__":
    unittest.main()
