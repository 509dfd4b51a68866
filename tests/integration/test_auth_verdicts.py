"""SPF, DKIM and DMARC verdicts written by real milters on the relay chain (issue 14).

tests/stack/auth_stack.sh: the relay's signing port signs with OpenDKIM; the relay hands
mail for t73..t76 to the MX's verifying port, where policyd-spf, OpenDKIM and OpenDMARC
each prepend an Authentication-Results field (authserv-id mx.mail.test, DMARC's topmost).

- auth.test publishes SPF for 127.0.0.1, the DKIM key and DMARC p=reject: all pass.
- Mail for t74 has its body rewritten by the relay's SMTP client after signing (Postfix
  smtp_body_checks doubles a space per line): DKIM fails, the probe still verifies (its
  canonical form, like DKIM's relaxed one, ignores runs of spaces).
- spf-fail.test's SPF allows only 192.0.2.1, and the relay signs its mail as relay.test
  (not aligned): SPF fail, DMARC fail, DKIM pass.

Each case runs once with --keep to assert on the fields the milters really wrote.
Mailboxes: t73 (all pass), t74 (body altered), t75 (SPF fail); relayuser authenticates.
"""

import json
import re
import unittest

from mailprobe_harness import load_env_file
from mp_testlib import RelayChainTestCase

PASS_USER = "t73"
ALTERED_USER = "t74"
SPF_FAIL_USER = "t75"


class AuthVerdictsTestCase(RelayChainTestCase):
    users = (PASS_USER, ALTERED_USER, SPF_FAIL_USER)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.auth = load_env_file(cls.stack.dir / "auth" / "auth.env")
        cls.authserv_id = cls.auth["AUTHSERV_ID"]

    def signed_relay(self, user, sender_domain, *extra, plugin="check_mail_relay"):
        """Through the relay's signing port, from user@sender_domain."""
        return self.relay(user, *extra, port=self.auth["AUTH_RELAY_PORT"],
                          sender=f"{user}@{sender_domain}", plugin=plugin)

    def kept_header(self, user):
        """The header of the one probe left by --keep, unfolded, and its body."""
        files = self.stack.messages(user)
        self.assertEqual(len(files), 1, files)
        text = files[0].read_bytes().decode("ascii", "replace").replace("\r\n", "\n")
        head, _, body = text.partition("\n\n")
        return re.sub(r"\n[ \t]+", " ", head), body

    def auth_results(self, header):
        return [l for l in header.split("\n") if l.lower().startswith("authentication-results:")]

    def assert_auth_line(self, run, *parts):
        lines = [l for l in run.long_output if "auth: " in l]
        self.assertTrue(lines, run.describe())
        for part in parts:
            self.assertIn(part, lines[0], run.describe())

    def perf(self, run):
        return {m: run.perfdata[f"auth_{m}"].value for m in ("spf", "dkim", "dmarc")}

    # ------------------------------------------------------------------ all pass

    def test_signed_relayed_mail_passes_spf_dkim_and_dmarc(self):
        at = f" at {self.authserv_id}"
        run = self.signed_relay(PASS_USER, self.auth["AUTH_PASS_DOMAIN"], "--authserv-id",
                                self.authserv_id, "--require-auth", "spf,dkim,dmarc",
                                "--require-auth-critical", "--keep")
        self.assertEqual((run.status_word, run.code), ("OK", 0), run.describe())
        self.assertEqual(self.perf(run), {"spf": 1, "dkim": 1, "dmarc": 1}, run.describe())
        self.assert_auth_line(run, "SPF pass (sender SPF authorized)" + at,
                              "DKIM pass (2048-bit key; unprotected)" + at,
                              "DMARC pass (p=reject dis=none)" + at)
        self.assertTrue(any("3 of 3 Authentication-Results field(s) written by a --authserv-id"
                            in l for l in run.long_output), run.describe())
        # what the milters wrote, on the probe itself
        header, _ = self.kept_header(PASS_USER)
        fields = self.auth_results(header)
        self.assertEqual(len(fields), 3, header)
        self.assertRegex(fields[0], r"^Authentication-Results: mx\.mail\.test; dmarc=pass "
                                    r"\(p=reject dis=none\) header\.from=auth\.test$")
        self.assertRegex(fields[1], r"^Authentication-Results: mx\.mail\.test; dkim=pass "
                                    r"\(2048-bit key; unprotected\) header\.d=auth\.test ")
        self.assertRegex(fields[2], r"^Authentication-Results: mx\.mail\.test; spf=pass "
                                    r"\(sender SPF authorized\) smtp\.mailfrom=auth\.test ")
        self.assertRegex(header, r"\nDKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; "
                                 r"d=auth\.test; s=mp;")

    def test_json_shows_the_verdicts_and_without_authserv_id_only_the_topmost_field(self):
        domain = self.auth["AUTH_PASS_DOMAIN"]
        run = self.signed_relay(PASS_USER, domain, "--authserv-id", self.authserv_id, "--output",
                                "json", plugin="check_mail_roundtrip")
        doc = json.loads(run.stdout)
        self.assertEqual(doc["state"], "OK", run.stdout)
        self.assertEqual({m: doc["metrics"][f"auth_{m}"] for m in ("spf", "dkim", "dmarc")},
                         {"spf": 1, "dkim": 1, "dmarc": 1}, run.stdout)
        self.assertTrue(any(re.search(r"auth: SPF pass \(sender SPF authorized\) at "
                                      r"mx\.mail\.test, DKIM pass \(2048-bit key; unprotected\) "
                                      r"at mx\.mail\.test, DMARC pass \(p=reject dis=none\) at "
                                      r"mx\.mail\.test", d) for d in doc["details"]), run.stdout)

        # without --authserv-id only the topmost field counts: OpenDMARC's, written last
        run = self.signed_relay(PASS_USER, domain)
        self.assertEqual(run.status_word, "OK", run.describe())
        self.assertEqual(self.perf(run), {"spf": 0, "dkim": 0, "dmarc": 1}, run.describe())
        self.assert_auth_line(run, "SPF absent, DKIM absent, DMARC pass (p=reject dis=none) "
                                   "at mx.mail.test")
        self.assertTrue(any("only the topmost of 3 Authentication-Results field(s) is trusted"
                            in l for l in run.long_output), run.describe())
        self.assertEqual(self.stack.messages(PASS_USER), [])

    # ------------------------------------------------------------------ body altered

    def test_body_altered_after_signing_fails_dkim(self):
        domain = self.auth["AUTH_PASS_DOMAIN"]
        run = self.signed_relay(ALTERED_USER, domain, "--authserv-id", self.authserv_id,
                                "--require-auth", "dkim", "--keep")
        self.assertEqual((run.status_word, run.code), ("WARNING", 1), run.describe())
        self.assertRegex(run.first_line, r"^MAIL RELAY WARNING - DKIM fail \(signature "
                                         r"verification failed\) at mx\.mail\.test; probe "
                                         r"delivered in ")
        self.assertEqual(self.perf(run), {"spf": 1, "dkim": 0, "dmarc": 1}, run.describe())
        header, body = self.kept_header(ALTERED_USER)
        self.assertIn("This  is an automatic delivery probe", body)  # the relay's rewrite
        self.assertTrue(any(re.match(r"Authentication-Results: mx\.mail\.test; dkim=fail "
                                     r"reason=\"signature verification failed\" .*"
                                     r"header\.d=auth\.test", f)
                            for f in self.auth_results(header)), header)
        self.stack.empty(ALTERED_USER)

        run = self.signed_relay(ALTERED_USER, domain, "--authserv-id", self.authserv_id,
                                "--require-auth", "dkim", "--require-auth-critical")
        self.assertEqual((run.status_word, run.code), ("CRITICAL", 2), run.describe())
        self.assertRegex(run.first_line, r"^MAIL RELAY CRITICAL - DKIM fail \(signature "
                                         r"verification failed\) at mx\.mail\.test; ")
        self.assertEqual(self.stack.messages(ALTERED_USER), [])

    # ------------------------------------------------------------------ SPF excludes relay

    def test_sender_domain_whose_spf_excludes_the_relay_fails_spf_and_dmarc(self):
        run = self.signed_relay(SPF_FAIL_USER, self.auth["AUTH_SPF_FAIL_DOMAIN"], "--authserv-id",
                                self.authserv_id, "--require-auth", "spf,dmarc", "--keep")
        self.assertEqual((run.status_word, run.code), ("WARNING", 1), run.describe())
        self.assertRegex(run.first_line, r"^MAIL RELAY WARNING - SPF fail \(SPF fail - not "
                                         r"authorized\) at mx\.mail\.test; probe delivered in ")
        # signed, but by the relay's own domain: DKIM passes, DMARC finds it not aligned
        self.assertEqual(self.perf(run), {"spf": 0, "dkim": 1, "dmarc": 0}, run.describe())
        self.assert_auth_line(run, "DMARC fail (p=reject dis=none) at mx.mail.test")
        header, _ = self.kept_header(SPF_FAIL_USER)
        fields = self.auth_results(header)
        self.assertRegex(fields[0], r"^Authentication-Results: mx\.mail\.test; dmarc=fail "
                                    r"\(p=reject dis=none\) header\.from=spf-fail\.test$")
        self.assertTrue(any(re.match(r"Authentication-Results: mx\.mail\.test; spf=fail "
                                     r"\(SPF fail - not authorized\) "
                                     r"smtp\.mailfrom=spf-fail\.test", f) for f in fields),
                        header)
        self.assertTrue(any("dkim=pass" in f and "header.d=relay.test" in f for f in fields),
                        header)
        self.stack.empty(SPF_FAIL_USER)


if __name__ == "__main__":
    unittest.main()
