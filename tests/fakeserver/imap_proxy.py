"""A scripted IMAP proxy in front of a real IMAP server (Dovecot), for protocol faults that
real servers produce only rarely, played with real mail arriving (issue 11):

  exists_first   Holds the server's "+ idling" back until the server announces new mail,
                 then sends that untagged "* N EXISTS" first and the continuation after it
                 (legal: untagged data may come at any time, RFC 3501 §7).
  noop_announces Behaves like servers that update a session's view of the mailbox only on
                 NOOP, CHECK or IDLE: UID SEARCH results never show messages that arrived
                 after the SELECT (or the last NOOP/CHECK) until the client sends NOOP/CHECK.
  utf8_accept    Adds UTF8=ACCEPT (RFC 6855) to the capabilities, answers ENABLE itself and
                 passes mailbox names the client then sends in UTF-8 on in modified UTF-7
                 (Dovecot 2.3 has no UTF8=ACCEPT).

Plain text only, 127.0.0.1 only. Library use:
    with ImapProxy(upstream_port, "exists_first") as proxy:
        proxy.port; proxy.events (list of str); proxy.wait_for("client IDLE")
"""

from __future__ import annotations

import base64
import re
import socket
import threading
import time

HOST = "127.0.0.1"
MODES = ("exists_first", "noop_announces", "utf8_accept")
HOLD_LIMIT_S = 20.0  # "+ idling" is never held longer than this
LITERAL_RE = re.compile(rb"\{(\d+)\+?\}\r\n$")
UIDNEXT_RE = re.compile(rb"\[UIDNEXT (\d+)\]")


def mutf7(name: str) -> str:
    """Modified UTF-7 (RFC 3501 §5.1.3), for the proxy's own use."""
    out, run = [], ""
    for ch in name + "\0":
        if ch != "\0" and not 0x20 <= ord(ch) <= 0x7E:
            run += ch
            continue
        if run:
            b64 = base64.b64encode(run.encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + b64.replace("/", ",") + "-")
            run = ""
        if ch != "\0":
            out.append("&-" if ch == "&" else ch)
    return "".join(out)


class _Lines:
    """Reads CRLF lines (with their literals attached) from a socket."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""

    def _more(self) -> bool:
        data = self.sock.recv(65536)
        self.buf += data
        return bool(data)

    def line(self) -> bytes | None:
        while b"\r\n" not in self.buf:
            if not self._more():
                return None
        end = self.buf.index(b"\r\n") + 2
        out, self.buf = self.buf[:end], self.buf[end:]
        m = LITERAL_RE.search(out)
        if m:  # the literal and the rest of the response belong to this line
            n = int(m.group(1))
            while len(self.buf) < n:
                if not self._more():
                    return None
            out, self.buf = out + self.buf[:n], self.buf[n:]
            rest = self.line()
            return None if rest is None else out + rest
        return out


class ImapProxy:
    def __init__(self, upstream_port: int, mode: str):
        if mode not in MODES:
            raise ValueError(mode)
        self.upstream_port = upstream_port
        self.mode = mode
        self.events: list[str] = []
        self._cond = threading.Condition()
        self._listener = socket.create_server((HOST, 0))
        self.port = self._listener.getsockname()[1]
        self._stop = False

    # ---- events
    def event(self, text: str) -> None:
        with self._cond:
            self.events.append(text)
            self._cond.notify_all()

    def wait_for(self, text: str, timeout: float = 20.0) -> bool:
        end = time.monotonic() + timeout
        with self._cond:
            while text not in self.events:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    # ---- life cycle
    def __enter__(self) -> "ImapProxy":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection((HOST, self.upstream_port))
            _Session(self, client, upstream).start()


class _Session:
    def __init__(self, proxy: ImapProxy, client: socket.socket, upstream: socket.socket):
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.lock = threading.Lock()
        self.idle_tag: bytes | None = None
        self.held: bytes | None = None  # a "+" continuation not yet passed on
        self.held_since = 0.0
        self.visible_max = 0  # noop_announces: highest UID the session may see
        self.reveal = False

    def start(self) -> None:
        threading.Thread(target=self._client_to_server, daemon=True).start()
        threading.Thread(target=self._server_to_client, daemon=True).start()
        threading.Thread(target=self._release_stale_hold, daemon=True).start()

    def _close(self) -> None:
        for s in (self.client, self.upstream):
            try:
                s.close()
            except OSError:
                pass

    def _client_to_server(self) -> None:
        lines = _Lines(self.client)
        try:
            while (line := lines.line()) is not None:
                words = line.split(b" ", 2)
                verb = words[1].strip().upper() if len(words) > 1 else b""
                if self.proxy.mode == "utf8_accept":
                    line = self._utf8_accept(words, line)
                    if not line:
                        continue
                if verb == b"IDLE":
                    with self.lock:
                        self.idle_tag = words[0]
                    self.proxy.event("client IDLE")
                elif verb in (b"NOOP", b"CHECK"):
                    with self.lock:
                        self.reveal = True
                    self.proxy.event("client " + verb.decode())
                self.upstream.sendall(line)
        except OSError:
            pass
        self._close()

    def _utf8_accept(self, words: list[bytes], line: bytes) -> bytes:
        if len(words) > 2 and words[1].upper() == b"ENABLE" and b"UTF8=ACCEPT" in words[2].upper():
            self.proxy.event("client ENABLE UTF8=ACCEPT")
            self.client.sendall(b"* ENABLED UTF8=ACCEPT\r\n" + words[0] + b" OK Enabled\r\n")
            return b""
        def recode(m: re.Match) -> bytes:
            self.proxy.event("client sent UTF-8 name " + m.group(1).decode())
            return b'"' + mutf7(m.group(1).decode()).encode() + b'"'
        return re.sub(rb'"([^"]*[\x80-\xff][^"]*)"', recode, line)

    def _server_to_client(self) -> None:
        lines = _Lines(self.upstream)
        try:
            while (line := lines.line()) is not None:
                out = self._rewrite(line)
                if out:
                    self.client.sendall(out)
        except OSError:
            pass
        self._close()

    def _rewrite(self, line: bytes) -> bytes:
        with self.lock:
            if self.proxy.mode == "exists_first":
                return self._exists_first(line)
            if self.proxy.mode == "utf8_accept":
                if line.upper().startswith(b"* CAPABILITY "):
                    return line[:-2] + b" UTF8=ACCEPT\r\n"
                return line
            return self._noop_announces(line)

    def _exists_first(self, line: bytes) -> bytes:
        if self.idle_tag is not None and self.held is None and line.startswith(b"+"):
            self.held, self.held_since = line, time.monotonic()
            return b""
        if self.held is not None and re.match(rb"\* \d+ EXISTS\r\n$", line):
            out, self.held, self.idle_tag = line + self.held, None, None
            self.proxy.event("EXISTS before continuation")
            return out
        if self.held is not None:  # the rest waits behind the continuation
            self.held += line
            return b""
        return line

    def _noop_announces(self, line: bytes) -> bytes:
        m = UIDNEXT_RE.search(line)
        if m:
            self.visible_max = int(m.group(1)) - 1
        if not line.upper().startswith(b"* SEARCH"):
            return line
        uids = [int(u) for u in line[8:].split() if u.isdigit()]
        if self.reveal:  # what exists now becomes visible
            self.visible_max = max([self.visible_max, *uids])
            self.reveal = False
        shown = [u for u in uids if u <= self.visible_max]
        if len(shown) < len(uids):
            self.proxy.event("hid new mail from SEARCH")
        return b"* SEARCH" + b"".join(b" %d" % u for u in shown) + b"\r\n"

    def _release_stale_hold(self) -> None:
        while True:
            time.sleep(0.1)
            with self.lock:
                if self.held is not None and time.monotonic() - self.held_since > HOLD_LIMIT_S:
                    out, self.held, self.idle_tag = self.held, None, None
                else:
                    out = b""
            try:
                if out:
                    self.client.sendall(out)
            except OSError:
                return
            if self.client.fileno() < 0:
                return
