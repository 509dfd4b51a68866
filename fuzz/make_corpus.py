#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ (checked in; rerun after changing the
seeds). One file per seed, named by its SHA-1 like libFuzzer names its own finds."""
import hashlib
import hmac
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import probe_canon  # noqa: E402  (the independent Python reading of the v=2 tag)

# The identity fuzz_probe_tag.cpp verifies against.
NAME = "fuzz-check:probe@example.org"
KEY = b"0123456789abcdef0123456789abcdef"


def tag(name, pid, t_ms, key=KEY):
    """The old v=1 tag (never ours again: seeds of what must not verify)."""
    return hmac.new(key, f"mailprobe-v1\n{name}\n{pid}\n{t_ms}".encode(), hashlib.sha256).hexdigest()


def v2_probe(body="This is a probe.\r\nPlease leave it alone.\r\n"):
    """A genuine v=2 probe of NAME (CRLF)."""
    head = (f"Date: Fri, 27 Nov 2026 17:32:05 +0000\r\nSubject: [mailprobe] probe {PID}\r\n"
            f"Message-ID: <mailprobe.{PID}@monitor.test>\r\nContent-Transfer-Encoding: 7bit\r\n")
    length = len(probe_canon.canonical_text(body.encode()))
    t = probe_canon.tag(KEY, NAME, PID, T, length, (head + "\r\n" + body).encode())
    value = f"v=2; n={digest(NAME)}; id={PID}; t={T}; l={length}; tag={t}"
    return head + f"X-Mailprobe: {value}\r\n\r\n" + body


def digest(name):
    return hashlib.sha256(name.encode()).hexdigest()[:16]


PID = "0123456789abcdef0123456789abcdef"
T = 1795800000000
GOOD = f"v=1; n={digest(NAME)}; id={PID}; t={T}; tag={tag(NAME, PID, T)}"
OTHER = f"v=1; n={digest('other')}; id={PID}; t={T}; tag={tag('other', PID, T)}"
WRONG_KEY = f"v=1; n={digest(NAME)}; id={PID}; t={T}; tag={tag(NAME, PID, T, b'x' * 32)}"

POSTFIX_HEADER = (
    "Return-Path: <probe@mail.test>\r\n"
    "Delivered-To: t01@mail.test\r\n"
    "Received: from mx.mail.test\r\n\tby vm with LMTP\r\n\tid kN8FBw6iR2mWJQAAYg (envelope-from <probe@mail.test>)"
    "\r\n\tfor <t01@mail.test>; Fri, 27 Nov 2026 17:32:05 +0000\r\n"
    "Received: from relay.test (localhost [127.0.0.1])\r\n\tby mx.mail.test (Postfix) with ESMTP id 4F1C2A7203E"
    "\r\n\tfor <t01@mail.test>; Fri, 27 Nov 2026 17:32:05 +0000 (UTC)\r\n"
    "Received: from vm (localhost [127.0.0.1])\r\n\tby relay.test (Postfix) with ESMTPSA id 4F1C2A7203D;"
    "\r\n\tFri, 27 Nov 2026 17:32:04 +0000 (UTC)\r\n"
    f"X-Mailprobe: {GOOD}\r\n"
    "Subject: [mailprobe] probe\r\n"
    "\r\n"
    "body\r\n")

SEEDS = {
    "fuzz_range": ["10", "10:", "~:10", "10:20", "@10:20", "-5:-1", "1e3", "@~:0", ":", "1:2:3",
                   "inf", "nan", " 5", "+3", "0.5:1.5", "@", "~:", "20:10", "-0", "1e400"],
    "fuzz_probe_tag": [GOOD, OTHER, WRONG_KEY, POSTFIX_HEADER,
                       f"X-Mailprobe: {OTHER}\nX-Mailprobe: {GOOD}\n\nbody",
                       f"x-mailprobe:\n {GOOD}\n\n", GOOD.replace("v=1", "v=2"),
                       GOOD.replace("; ", ";"), "v=1; n=; id=; t=0; tag=",
                       f"X-Mailprobe: {GOOD}; extra=1\n\n"],
    "fuzz_received": [POSTFIX_HEADER,
                      "Received: from a (b [1.2.3.4]) by c with SMTP id X; 1 Jan 2024 00:00 -0500\n\n",
                      "Received: (qmail 1234 invoked by uid 0); 27 Nov 2026 17:32:05 -0000\n\n",
                      "Received: by x; Thu, 13 Feb 69 23:32 EST (comment (nested) \\) )\n\n",
                      "Received: from x ((((((((((((((((\n\n",
                      "Received: from a by b; Sat, 31 Dec 1999 23:59:60 +1400; x; y; z\n\n",
                      "Date: Fri, 27 Nov 2026 17:32:05 Z\n"
                      "Received: from a\n\tby b\n\t(via c) with ESMTPS (TLS1.3) id q for <x@y>; Mon, 1 Jan 2024 0:0:0 A\n\n",
                      "Received: from a by b; 29 Feb 2023 10:00:00 +0000\n\n",
                      "Received: from a (b [1.2.3.4]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))"
                      " by c (Postfix) with ESMTPS id X; 1 Jan 2024 00:00 -0500\n\n",
                      "Received: from a by b with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_X) id 15.2; "
                      "1 Jan 2024 00:00 -0500\n\n",
                      "Received: from a by b with esmtps (TLS1.2:ECDHE_RSA:256) (TLS1.3) tls X (TLS) (SSL; x\n\n"],
    "fuzz_auth_results": [
        "Authentication-Results: mx.example.org; dkim=pass header.d=a.example header.b=\"x/y\";\r\n"
        "\tspf=pass (mx.example.org: domain of a@a.example designates 192.0.2.1) smtp.mailfrom=a@a.example;\r\n"
        "\tdmarc=fail (p=reject dis=none) header.from=a.example\r\n\r\n",
        "Authentication-Results: spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=a.example; dkim=none "
        "(message not signed) header.d=none;dmarc=none action=none header.from=a.example;compauth=pass reason=100\n\n",
        "ARC-Authentication-Results: i=1; mx.google.com; arc=none; dkim/1=pass; spf=pass reason=\"a;b\"\n"
        "Authentication-Results: example.org 1; none\n\n",
        "Authentication-Results: (c) \"q\\\"id\" (c) ; (c) = ; ; a.b=c ; x=y (unclosed; z=w\n\n"],
    "fuzz_dsn": [
        "From: MAILER-DAEMON@relay.test\nContent-Type: multipart/report; report-type=delivery-status;"
        " boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\nsorry\n--B\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; relay.test\n\nFinal-Recipient: rfc822; x@y\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no\n\n--B\nContent-Type: message/rfc822\n\n" + POSTFIX_HEADER + "--B--\n",
        "X-Failed-Recipients: x@y\nFrom: Mail Delivery System <Mailer-Daemon@mx.test>\nSubject: Mail delivery failed\n\n"
        "  x@y\n    550 5.1.1 <x@y>: rejected\n------ This is a copy of the message, including all the headers. ------\n\n"
        + POSTFIX_HEADER,
        "To: probe+0123456789abcdef0123456789abcdef@example.org\nSubject: Undeliverable: x\n"
        "Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/alternative; boundary=b\n\n"
        "--b\n\nx\n--b--\n--a\nContent-Type: message/global-delivery-status\n\nAction: delayed\nStatus: 4.4.1\n--a\n"],
    "fuzz_imap": ["* SEARCH 1 2 3\n* SEARCH\n* SEARCH 4000000000 4294967295\n* SEARCH 0",
                  "* 3 FETCH (UID 17 INTERNALDATE \"27-Nov-2026 17:32:05 +0000\" BODY[HEADER] {345}",
                  "* 3 FETCH (FLAGS (\\Seen) UID 4 BODY[HEADER] {0}\n* 1 FETCH (UID 99999999999)",
                  "* OK [UIDNEXT 42] Predicted next UID\n* OK [UIDVALIDITY 1700000000] UIDs valid",
                  "* CAPABILITY IMAP4rev1 IDLE UIDPLUS\nmp1 OK [CAPABILITY IMAP4rev1 LITERAL+] done",
                  "* 12 EXISTS\n* 3 EXPUNGE\n* 0 RECENT\n* BYE shutting down",
                  "* 1 FETCH (UID 1 BODY[HEADER] {20971520}\n* 1 FETCH (BODY[] {12+}",
                  "* SEARCH 1 2 (MODSEQ 917162500)\n* ESEARCH (TAG \"a\") UID ALL 1:3",
                  "\"quoted \\\\ \\\" name\"\n{123}\n{}\n{+}\n{99999999999999}"],
    "fuzz_sanitize": ["\x01" + "250 2.0.0 Ok: queued as 4F1C2A7203E",
                      "\x07\x00\xff\xfe||||| OK |perf=1;2;3;; |\x1b[31mRED\x1b[0m\x07\x08\x7f",
                      "\x05" + "Grüße aus Köln — 日本語 — 🙂 and \xed\xa0\x80 surrogate",
                      "\x00" + "  leading   and trailing   spaces   ",
                      "\x03" + "\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc\xc0\xaf\xf4\x90\x80\x80"],
    "fuzz_state": ["mailprobe-state 1\nidentity imap%20check\ndelivered_total 3\nlost_total 0\n"
                   "last_delivery id=abc sent=1000 seen=3500 delay_ms=2500\n"
                   "probe id=def sent=2000 via=mx%3D1\nend\n",
                   "mailprobe-state 1\nlost_total 0\nidentity imap%20check\n"
                   "last_delivery  seen=3500 id=abc delay_ms=2500 sent=1000\n"
                   "delivered_total 3\nprobe via=mx%3D1 sent=2000 id=def\nend\n",
                   "mailprobe-state 2\nwhatever\n",
                   "mailprobe-state 1\nidentity x\ndelivered_total 1\nlost_total 0\n",
                   "mailprobe-state 1\nidentity a%zz\ndelivered_total 18446744073709551615\n"
                   "lost_total 0\nprobe id=a sent=-9223372036854775808 via=%25%20%3D%7F\nend\n",
                   "caf%C3%A9%20%0A%25"],
    "fuzz_secrets": ["hunter22\nAUTH PLAIN AGJvYgBodW50ZXIyMg==\nC: PASS hunter22\n",
                     "****\nsecret ******** stars",
                     "p@ss w0rd|x\nlogin \"bob\" \"p@ss w0rd|x\" cEBzcyB3MHJkfHg=",
                     "aaaa\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa YWFhYQ=="],
    "fuzz_transcript": [
        "\x00\x00220 mx ESMTP\n\x01EHLO me\n\x00250-mx\n\x00250 AUTH PLAIN LOGIN\n\x01AUTH LOGIN\n"
        "\x00334 VXNlcm5hbWU6\n\x01dXNlcg==\n\x00334 UGFzc3dvcmQ6\n\x01cGFzcw==\n\x00235 ok\n"
        "\x01MAIL FROM:<a@b>\n\x00250 ok\n\x01DATA\n\x00354 go\n\x00250 queued as X\n\x01QUIT\n\x00221 bye",
        "\x01\x00* OK ready\n\x01A001 CAPABILITY\n\x00* CAPABILITY IMAP4rev1\n\x00WA001 OK\n"
        "\x01A002 AUTHENTICATE PLAIN\n\x00+ \n\x01AHVzZXIAcGFzcw==\n\x00A002 OK\n\x01A003 LOGIN u p",
        "\x02\x00+OK ready\n\x01USER bob\n\x00+OK\n\x01PASS secret\n\x00-ERR no\n\x01STLS\n\x00+OK go",
        "\x00\x00\x01\x02 junk\n\x00" + "x" * 2000 + "\n\x01" + "A" * 5000],
    "fuzz_certinfo": ["Nov 27 17:32:05 2036 GMT", "Jan  1 00:00:00 1970 GMT", "2036-11-27 17:32:05 GMT",
                      " Mar  7 08:09:10.5 2030 GMT", "30,14", "30", "0,0", "14,30", "99999,1",
                      "Feb 30 10:00:00 2030 GMT", "2036-00-00 99:99:99 UTC"],
    "fuzz_sasl_error": [
        "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==",
        "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0",
        "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2] hi\n250-AUTH PLAIN XOAUTH2 OAUTHBEARER\n",
        "550 5.7.30 Basic authentication is not supported for Client Submission.",
        "* OK ACIPBA[LITY\"IR AUTH=P OK [CAPABILITY IMAP4rev1 SASL-IR AUTH="],
    "fuzz_token_reply": [
        '{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0.eyJ1.c2ln"}',
        '{"access_token":"ya29.a0Af","expires_in":"3599","token_type":"Bearer","refresh_token":"1//0g"}',
        '{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.",'
        '"error_codes":[7000215],"trace_id":"x"}',
        '{"error":"invalid_grant","error_description":"Bad Request"}',
        "<html><body>502 Bad Gateway</body></html>",
        '{"access_token":"a\\r\\nA1 LOGOUT","token_type":"mac","expires_in":1e308}',
        "mailprobe-oauth2-token 1\nexpires 1764560000\ntoken eyJ0.eyJ1.c2ln\n",
        "mailprobe-oauth2-token 1\nexpires -99999999999999999999\ntoken a\n"],
}


def v2_seeds():
    probe = v2_probe()
    qp = probe_canon.reencode_qp_with_footer(probe.encode(), b"\n-- \nfooter\n").decode()
    b64 = probe.replace("7bit", "base64").split("\r\n\r\n")[0] + "\r\n\r\n" + \
        "VGhpcyBpcyBhIHByb2JlLg0KUGxlYXNlIGxlYXZlIGl0IGFsb25lLg0K\r\n"
    return [probe, qp, b64, probe.replace("\r\n", "\n"), "=?UTF-8?B?w7w=?= Pr\u00fcfung " * 5,
            "soft=\r\nbreak =3D =3d =G1 =\r\n", "aGVsbG8=\r\naGVs\r\n"]


def main():
    SEEDS["fuzz_probe_tag"] += v2_seeds()  # v=2 probes, as sent and as transformed
    for target, seeds in SEEDS.items():
        d = os.path.join(HERE, "corpus", target)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for seed in seeds:
            # "\xff" in a seed is the raw byte 0xff; text with wider characters is UTF-8.
            try:
                data = seed.encode("latin-1")
            except UnicodeEncodeError:
                data = seed.encode("utf-8")
            with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
                f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
