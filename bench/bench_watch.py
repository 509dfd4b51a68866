"""bench: when mail lands (inotify) and what the IMAP/POP3 server spent (a timing proxy)."""

import ctypes
import ctypes.util
import os
import re
import selectors
import socket
import struct
import threading
import time

from bench_runs import BenchError


# --------------------------------------------------------------------------- inotify + IMAP proxy

IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
_EVENT = struct.Struct("iIII")


class Watcher(threading.Thread):
    """One event loop thread that (a) watches Maildir new/ directories with inotify and
    (b) relays IMAP/POP3 connections to Dovecot, noting every client command line and, for
    IMAP, every server line that names search hits and Dovecot's own timing of each command.
    Everything is time-stamped with time.monotonic() in this one thread, so "the probe
    landed" and "the server told the plugin which message is the probe" share one clock."""

    SEARCH_HIT = re.compile(rb"^\* SEARCH( \d+)+\s*$")
    TAGGED_OK = re.compile(rb"^(\S+) OK .*\((\d+\.\d+) \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)")

    def __init__(self):
        super().__init__(daemon=True)
        self.sel = selectors.DefaultSelector()
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.libc = libc
        self.ifd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.ifd < 0:
            raise BenchError("inotify_init1 failed: " + os.strerror(ctypes.get_errno()))
        self.sel.register(self.ifd, selectors.EVENT_READ, ("inotify", None))
        self.wds = {}
        self.wake_r, self.wake_w = os.pipe()
        self.sel.register(self.wake_r, selectors.EVENT_READ, ("wake", None))
        self.lock = threading.Lock()
        # (t, kind, key, detail): ("land", user, file name), ("conn", conn id, proxy name),
        # ("cmd", conn id, client line), ("hit", conn id, server line), ("took", conn id, (tag, secs))
        self.events = []
        self.stopping = False
        self.conn_seq = 0

    def add_proxy(self, name, upstream_port, imap):
        """Listens on a free local port and relays to 127.0.0.1:upstream_port; returns the port."""
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", 0))
        ls.listen(256)
        ls.setblocking(False)
        self.sel.register(ls, selectors.EVENT_READ, ("listen", (name, int(upstream_port), imap)))
        os.write(self.wake_w, b"x")
        return ls.getsockname()[1]

    def watch(self, path, label):
        wd = self.libc.inotify_add_watch(self.ifd, path.encode(), IN_CREATE | IN_MOVED_TO)
        if wd < 0:
            raise BenchError(f"inotify_add_watch {path}: " + os.strerror(ctypes.get_errno()))
        self.wds[wd] = label

    def mark(self):
        with self.lock:
            return len(self.events)

    def since(self, idx):
        with self.lock:
            return list(self.events[idx:])

    def stop(self):
        self.stopping = True
        os.write(self.wake_w, b"x")
        self.join(5)

    def _record(self, t, kind, key, detail):
        with self.lock:
            self.events.append((t, kind, key, detail))

    def run(self):
        while not self.stopping:
            for key, _ in self.sel.select():
                t = time.monotonic()
                kind, data = key.data
                if kind == "inotify":
                    self._inotify(t)
                elif kind == "listen":
                    self._accept(key.fileobj, data, t)
                elif kind == "wake":
                    os.read(self.wake_r, 64)
                elif kind in ("c2s", "s2c"):
                    self._pump(key.fileobj, data, kind == "c2s", t)
        for key in list(self.sel.get_map().values()):
            if key.data[0] in ("c2s", "s2c", "listen"):
                key.fileobj.close()

    def _inotify(self, t):
        try:
            buf = os.read(self.ifd, 65536)
        except BlockingIOError:
            return
        off = 0
        while off + _EVENT.size <= len(buf):
            wd, mask, _cookie, length = _EVENT.unpack_from(buf, off)
            name = buf[off + _EVENT.size:off + _EVENT.size + length].rstrip(b"\0").decode(errors="replace")
            off += _EVENT.size + length
            if wd in self.wds and mask & (IN_CREATE | IN_MOVED_TO):
                self._record(t, "land", self.wds[wd], name)

    def _accept(self, lsock, spec, t):
        name, port, imap = spec
        try:
            c, _ = lsock.accept()
        except BlockingIOError:
            return
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            c.close()
            return
        for sock in (c, s):
            sock.setblocking(True)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn_seq += 1
        conn = {"id": self.conn_seq, "c": c, "s": s, "cbuf": b"", "sbuf": b"", "imap": imap}
        self._record(t, "conn", conn["id"], name)
        self.sel.register(c, selectors.EVENT_READ, ("c2s", conn))
        self.sel.register(s, selectors.EVENT_READ, ("s2c", conn))

    def _pump(self, sock, conn, to_server, t):
        try:
            data = sock.recv(262144)
        except OSError:
            data = b""
        if not data:
            for x in (conn["c"], conn["s"]):
                try:
                    self.sel.unregister(x)
                except (KeyError, ValueError):
                    pass
                x.close()
            return
        try:
            (conn["s"] if to_server else conn["c"]).sendall(data)
        except OSError:
            pass
        if to_server:
            *lines, conn["cbuf"] = (conn["cbuf"] + data).split(b"\n")
            for line in lines:
                self._record(t, "cmd", conn["id"], line.rstrip(b"\r")[:80].decode(errors="replace"))
        elif conn["imap"]:
            *lines, conn["sbuf"] = (conn["sbuf"] + data).split(b"\n")
            for line in lines:
                line = line.rstrip(b"\r")
                if self.SEARCH_HIT.match(line):
                    self._record(t, "hit", conn["id"], line.decode(errors="replace"))
                else:
                    m = self.TAGGED_OK.match(line)
                    if m:
                        self._record(t, "took", conn["id"], (m.group(1).decode(), float(m.group(2))))
            if len(conn["sbuf"]) > 65536:
                conn["sbuf"] = conn["sbuf"][-65536:]


def imap_server_times(events):
    """Dovecot's own time per IMAP command class, from a relay's events of one run."""
    cmds = {}
    for _, kind, conn, detail in events:
        if kind == "cmd":
            parts = detail.split(" ", 1)
            if len(parts) == 2:
                cmds[(conn, parts[0])] = parts[1].upper()
    out = {"select": 0.0, "search_all": 0.0, "search_new": 0.0, "other": 0.0}
    for _, kind, conn, detail in events:
        if kind != "took":
            continue
        tag, secs = detail
        cmd = cmds.get((conn, tag), "")
        if cmd.startswith("SELECT") or cmd.startswith("EXAMINE"):
            out["select"] += secs
        elif cmd.startswith("UID SEARCH UID ") or cmd.startswith("SEARCH UID "):
            out["search_new"] += secs
        elif "SEARCH" in cmd.split(" ", 2)[:2]:
            out["search_all"] += secs
        else:
            out["other"] += secs
    return out
