"""A scripted line server that records every line it receives (issue 11).

Where fakeserver.py plays fixed fault scenarios, ScriptedServer answers by a small script
given by the test, and keeps each received line, so that a test can assert exactly which
commands arrived (none at all, for a usage error caught before connecting). Python stdlib
only, 127.0.0.1 only, plain TCP (no TLS).

    script = [(r"^(\\S+) LOGIN", ["* BYE [UNAVAILABLE] maintenance"], CLOSE)]
    with ScriptedServer("* OK ready", script) as srv:
        ... run a plugin against srv.port ...
        srv.lines()        # every line received, CRLF removed, in order (all connections)
        srv.connections    # how many connections were accepted

A rule is (regex, replies, action): the first rule whose regex matches the received line
answers with its replies; "{1}", "{2}" ... in a reply are the regex's groups (an IMAP tag).
action CLOSE closes the connection after the replies. Unmatched lines get `default`.
"""

from __future__ import annotations

import re
import socket
import threading

CLOSE = "close"
KEEP = "keep"
HOST = "127.0.0.1"

# Minimal conversations of each protocol, enough for a login (and a SELECT).
SMTP_SCRIPT = [
    (r"(?i)^EHLO ", ["250-scripted.test", "250-AUTH PLAIN LOGIN", "250 8BITMIME"], KEEP),
    (r"(?i)^AUTH ", ["235 2.7.0 Authentication successful"], KEEP),
    (r"(?i)^(MAIL|RCPT)", ["250 2.1.0 Ok"], KEEP),
    (r"(?i)^DATA", ["354 End data with <CR><LF>.<CR><LF>"], KEEP),
    (r"^\.$", ["250 2.0.0 Ok: queued as SCRIPTED1"], KEEP),
    (r"(?i)^QUIT", ["221 2.0.0 Bye"], CLOSE),
]
SMTP_GREETING = "220 scripted.test ESMTP"
IMAP_SCRIPT = [
    (r"(?i)^(\S+) CAPABILITY", ["* CAPABILITY IMAP4rev1 AUTH=PLAIN", "{1} OK done"], KEEP),
    (r"(?i)^(\S+) (LOGIN|AUTHENTICATE)", ["{1} OK logged in"], KEEP),
    (r"(?i)^(\S+) (SELECT|EXAMINE)", ["* 0 EXISTS", "* OK [UIDNEXT 1] next",
                                      "* OK [UIDVALIDITY 1] v", "{1} OK [READ-WRITE] done"], KEEP),
    (r"(?i)^(\S+) LOGOUT", ["* BYE bye", "{1} OK done"], CLOSE),
    (r"(?i)^(\S+) ", ["{1} OK done"], KEEP),
]
IMAP_GREETING = "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] scripted ready"
POP3_SCRIPT = [
    (r"(?i)^CAPA", ["+OK", "USER", "SASL PLAIN", "."], KEEP),
    (r"(?i)^(USER|PASS|AUTH|NOOP)", ["+OK"], KEEP),
    (r"(?i)^STAT", ["+OK 0 0"], KEEP),
    (r"(?i)^(UIDL|LIST)", ["+OK", "."], KEEP),
    (r"(?i)^QUIT", ["+OK bye"], CLOSE),
]
POP3_GREETING = "+OK scripted ready"


class ScriptedServer:
    def __init__(self, greeting: str, script, default: str | None = None):
        self.greeting = greeting
        self.script = [(re.compile(rx), replies, action) for rx, replies, action in script]
        self.default = default
        self.connections = 0
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.host, self.port = HOST, self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _answer(self, line: str):
        for rx, replies, action in self.script:
            m = rx.search(line)
            if m:
                groups = [m.group(0), *m.groups()]
                return [r.format(*groups) for r in replies], action
        return ([self.default] if self.default else []), KEEP

    def _session(self, conn: socket.socket):
        conn.settimeout(10)
        buf = b""
        try:
            conn.sendall(self.greeting.encode() + b"\r\n")
            while not self._stop.is_set():
                while b"\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                raw, buf = buf.split(b"\n", 1)
                line = raw.rstrip(b"\r").decode("utf-8", "replace")
                with self._lock:
                    self._lines.append(line)
                replies, action = self._answer(line)
                if replies:
                    conn.sendall(b"".join(r.encode() + b"\r\n" for r in replies))
                if action == CLOSE:
                    return
        except OSError:
            pass
        finally:
            conn.close()

    def __enter__(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
