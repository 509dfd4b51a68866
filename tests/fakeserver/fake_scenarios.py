"""fakeserver: protocols, scenarios and the sizes of the faults they produce."""

from __future__ import annotations

import random


PROTOS = ("smtp", "imap", "pop3")
TLS_MODES = ("none", "implicit", "starttls")
CERT_KINDS = ("good", "expired", "notyet", "selfsigned", "wronghost", "untrusted")

COMMON_SCENARIOS = (
    "ok", "silent", "greeting_stall", "trickle", "tls_stall", "close_mid_reply",
    "garbage_greeting", "huge_line", "binary", "starttls_downgrade",
)
PROTO_SCENARIOS = {
    "smtp": ("data_stall", "reject_rcpt", "greylist", "auth_fail", "login_stall",
             "ms_basic_auth_off", "ms_auth_unsuccessful"),
    "imap": ("login_stall", "wrong_tags", "untagged_flood", "search_ghost_uids",
             "endless_header"),
    "pop3": ("login_stall", "lying_sizes", "endless_top"),
}
SCENARIOS = {p: COMMON_SCENARIOS + PROTO_SCENARIOS[p] for p in PROTOS}

HOST = "127.0.0.1"
HUGE_LINE_BYTES = 10 * 1024 * 1024          # huge_line payload (plus prefix)
ENDLESS_HEADER_BYTES = 20 * 1024 * 1024     # endless_header literal size
FLOOD_BYTES = 50 * 1024 * 1024              # untagged_flood total
GHOST_UIDS = (4000000000, 4000000001)
UIDVALIDITY = 1700000000
CERT_CACHE_VERSION = "v1"
CERT_MAX_AGE = 7 * 86400                    # regenerate cached certs after this

# Deterministic junk so failures are reproducible.
_rng = random.Random(0x6D70)
GARBAGE_GREETING = (
    b"\x00\xff\xfe\xfd||||| OK |perf=1;2;3;; |\x1b[31mRED\x1b[0m\x07\x08\x7f"
    b"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc\xed\xa0\x80 \xc0\xaf|\r\n"
    + bytes(_rng.randrange(256) for _ in range(384))
    + b"\r\n\x01\x02\x03|\x1b]0;pwned\x07\x00\r\n"
)
BINARY_REPLIES = [
    b"\x00\x00\x01\x02" + bytes(_rng.randrange(256) for _ in range(61)) + b"\x00\r\n"
    for _ in range(8)
]
