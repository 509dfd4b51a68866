#!/usr/bin/env python3
"""Self-test for fakeserver.py: every scenario does what it promises.

The cases live in one module per concept (test_fake_*.py, helpers in fake_testlib.py); this
module gathers them for CTest's fakeserver.selftest (python3 -m unittest test_fakeserver).

Run: python3 tests/fakeserver/test_fakeserver.py [-v]
Needs: python3 stdlib, openssl CLI, curl CLI (curl tests are skipped without it).
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

MODULES = (
    "test_fake_clients",          # certificates, the ok scenario with real clients
    "test_fake_common_faults",    # faults every protocol offers
    "test_fake_protocol_faults",  # IMAP, POP3 and SMTP faults of their own
    "test_fake_lifecycle",        # stop, command line, every scenario starts
)


def load_tests(loader, tests, pattern):
    # Under "unittest discover" the modules are found on their own: do not run them twice.
    if pattern is not None:
        return tests
    return loader.loadTestsFromNames(MODULES)


if __name__ == "__main__":
    unittest.main()
