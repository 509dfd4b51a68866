"""Delivery verdicts on the real relay chain (issue 14): TLS on every hop from the probe's
Received fields, and the SPF/DKIM/DMARC verdicts from its Authentication-Results fields.

Postfix #2 (relay.test) hands mail for t41 to the MX over STARTTLS (smtp_tls_security_level
= may; the MX records "(using TLSv1.3 with cipher ...)"), and mail for t42 without TLS (its
transport_maps routes t42 through a client with smtp_tls_security_level = none). Mail
through the relay's submission port is neither signed nor verified, so no
Authentication-Results field is written (test_auth_verdicts.py: the signing port).

A probe to an unknown recipient through the relay bounces: the relay generates the DSN to the
envelope sender t43.

Mailboxes: t41, t42, t43 (read and emptied here); relayuser only authenticates.
"""

import json
import re
import time
import unittest

from mp_testlib import RelayChainTestCase

TLS_USER = "t41"
PLAIN_USER = "t42"
BOUNCE_USER = "t43"


class VerdictsTestCase(RelayChainTestCase):
    users = (TLS_USER, PLAIN_USER)

    def tls_hops(self, lines):
        return [l.strip() for l in lines if re.match(r"\s*tls hop \d+: ", l)]

    # ------------------------------------------------------------------ TLS per hop

    def test_relay_hop_with_tls(self):
        run = self.relay(TLS_USER, "--require-tls", "--min-tls-version", "1.2")
        self.assertEqual(run.status_word, "OK", run.describe())
        hops = self.tls_hops(run.long_output)
        self.assertGreaterEqual(len(hops), 2, run.describe())
        self.assertRegex(hops[0], r"^tls hop 1: \S+ -> relay\.test: TLS", run.describe())
        self.assertRegex(hops[1], r"^tls hop 2: relay\.test -> mx\.mail\.test: TLSv1\.[23] \S+",
                         run.describe())
        self.assertEqual(run.perfdata["hops_without_tls"].value, 0)
        self.assertEqual(self.stack.messages(TLS_USER), [])

    def test_relay_hop_without_tls(self):
        run = self.relay(PLAIN_USER)  # reported, not judged
        self.assertEqual(run.status_word, "OK", run.describe())
        hops = self.tls_hops(run.long_output)
        self.assertRegex(hops[1], r"^tls hop 2: relay\.test -> mx\.mail\.test: no TLS$",
                         run.describe())
        self.assertEqual(run.perfdata["hops_without_tls"].value, 1)

        run = self.relay(PLAIN_USER, "--require-tls")
        self.assertEqual((run.status_word, run.code), ("WARNING", 1), run.describe())
        self.assertRegex(run.first_line, r"^MAIL RELAY WARNING - hop 2 \(relay\.test -> "
                                         r"mx\.mail\.test\) without TLS; probe delivered in ")
        run = self.relay(PLAIN_USER, "--require-tls-critical")
        self.assertEqual((run.status_word, run.code), ("CRITICAL", 2), run.describe())
        self.assertIn("hop 2 (relay.test -> mx.mail.test) without TLS", run.first_line)
        # --min-tls-version alone does not judge a hop that has no TLS version at all
        run = self.relay(PLAIN_USER, "--min-tls-version", "1.3")
        self.assertEqual(run.status_word, "OK", run.describe())
        self.assertEqual(self.stack.messages(PLAIN_USER), [])

    def test_json_carries_hops_and_verdicts_for_the_round_trip_too(self):
        run = self.relay(TLS_USER, "--output", "json", plugin="check_mail_roundtrip")
        doc = json.loads(run.stdout)
        self.assertEqual(doc["state"], "OK", run.stdout)
        self.assertTrue(any(re.search(r"tls hop 2: relay\.test -> mx\.mail\.test: TLSv1", d)
                            for d in doc["details"]), run.stdout)
        for label in ("auth_spf", "auth_dkim", "auth_dmarc", "hops_without_tls"):
            self.assertIn(label, doc["metrics"], run.stdout)
        self.assertEqual(doc["metrics"]["auth_dkim"], 0)

    # ------------------------------------------------------------------ SPF/DKIM/DMARC

    def test_auth_verdicts_without_authentication_results(self):
        run = self.relay(TLS_USER)
        self.assertEqual(run.status_word, "OK", run.describe())
        for label in ("auth_spf", "auth_dkim", "auth_dmarc"):
            self.assertEqual(run.perfdata[label].value, 0, run.describe())
        self.assertTrue(any("SPF absent, DKIM absent, DMARC absent" in l
                            for l in run.long_output), run.describe())
        self.assertTrue(any("no Authentication-Results field" in l for l in run.long_output),
                        run.describe())

        run = self.relay(TLS_USER, "--require-auth", "dkim,spf")
        self.assertEqual((run.status_word, run.code), ("WARNING", 1), run.describe())
        self.assertRegex(run.first_line, r"^MAIL RELAY WARNING - SPF absent; probe delivered in ")
        run = self.relay(TLS_USER, "--require-auth", "dmarc", "--require-auth-critical")
        self.assertEqual((run.status_word, run.code), ("CRITICAL", 2), run.describe())
        self.assertRegex(run.first_line, r"^MAIL RELAY CRITICAL - DMARC absent; ")
        self.assertEqual(self.stack.messages(TLS_USER), [])

    # ------------------------------------------------------------------ bounces

    def test_bounce_from_the_relay_ends_the_wait_and_is_removed(self):
        # The relay accepts the probe, the MX refuses the recipient: the relay returns a DSN
        # to the envelope sender (--from BOUNCE_USER), whose mailbox the plugin reads.
        self.stack.empty(BOUNCE_USER)
        started = time.monotonic()
        run = self.relay(BOUNCE_USER, to="nosuchuser@mail.test",
                         sender=self.stack.address(BOUNCE_USER), wait=25)
        took = time.monotonic() - started
        self.assertEqual((run.status_word, run.code), ("CRITICAL", 2), run.describe())
        self.assertRegex(run.first_line, r"^MAIL RELAY CRITICAL - probe bounced by relay\.test: "
                                         r"5\.1\.1 550 5\.1\.1 <nosuchuser@mail\.test>")
        self.assertLess(took, 20, "the bounce must end the 25 s wait early")
        self.assertTrue(any("removed 1 delivery status notification" in l
                            for l in run.long_output), run.describe())
        self.assertEqual(self.stack.messages(BOUNCE_USER), [])

    def test_bad_verdict_options_are_unknown(self):
        for bad in (["--require-auth", "spf,ptr"], ["--min-tls-version", "1.4"],
                    ["--min-tls-version", "SSLv3"], ["--authserv-id", "mx\r\nRCPT TO:<x@y>"],
                    ["--authserv-id", ""]):
            run = self.relay(TLS_USER, *bad)
            self.assertEqual((run.status_word, run.code), ("UNKNOWN", 3), run.describe())
            self.assertNotIn("\r", run.stdout)
            self.assertEqual(len([l for l in run.stdout.splitlines() if l.strip()]) <= 3, True)


if __name__ == "__main__":
    unittest.main()
