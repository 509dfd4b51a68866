"""The fake server's life: nothing left after stop, the command line (--max-seconds, SIGTERM,
bad arguments), and every scenario of fakeserver.SCENARIOS starts.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

from fake_testlib import HERE, Base, FakeServer, check_nothing_left, child_pids, connect, fs


class TestLifecycle(Base):
    def test_no_process_or_thread_left(self):
        threads = threading.active_count()
        srv = FakeServer("imap", "silent")
        with srv:
            pid = srv.proc.pid
            s = connect(srv)  # a connection still open while we stop
            os.kill(pid, 0)
        s.close()
        self.assertIsNone(srv.proc)
        self.assertEqual(srv.returncode, 0)
        with self.assertRaises(ProcessLookupError):
            os.kill(pid, 0)
        self.assertEqual(threading.active_count(), threads)
        self.assertEqual(child_pids(), [])
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()
        self.assertEqual(srv.transcript(), b"")  # still readable after stop

    def cli(self, *args):
        return subprocess.Popen([sys.executable, os.path.join(HERE, "fakeserver.py"), *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)

    def test_cli_max_seconds_and_sigterm(self):
        p = self.cli("--proto", "pop3", "--scenario", "ok", "--max-seconds", "1")
        first = p.stdout.readline()
        self.assertRegex(first, rb"^PORT \d+\n$")
        t0 = time.monotonic()
        self.assertEqual(p.wait(timeout=5), 0)
        self.assertLess(time.monotonic() - t0, 3)
        p.stdout.close(), p.stderr.close()
        p = self.cli("--proto", "smtp", "--scenario", "greeting_stall")
        port = int(p.stdout.readline().split()[1])
        c = socket.create_connection(("127.0.0.1", port), timeout=2)
        self.assertTrue(c.recv(100).startswith(b"220 "))
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=5), 0)
        self.assertLess(time.monotonic() - t0, 3)
        c.close()
        p.stdout.close(), p.stderr.close()

    def test_cli_rejects_bad_args(self):
        for args in (("--proto", "smtp", "--scenario", "wrong_tags"),
                     ("--proto", "imap", "--scenario", "nope"),
                     ("--proto", "pop3", "--scenario", "tls_stall")):
            p = self.cli(*args)
            out, err = p.communicate(timeout=10)
            self.assertEqual(p.returncode, 2, args)
            self.assertEqual(out, b"")

    def test_every_scenario_starts(self):
        for proto, scs in fs.SCENARIOS.items():
            for sc in scs:
                with self.subTest(proto=proto, sc=sc):
                    tls = "implicit" if sc == "tls_stall" else "none"
                    with FakeServer(proto, sc, tls=tls) as srv:
                        self.assertGreater(srv.port, 0)
                    self.assertRaises(ValueError, FakeServer, proto, sc + "x")


def tearDownModule():
    check_nothing_left()


if __name__ == "__main__":
    unittest.main()
