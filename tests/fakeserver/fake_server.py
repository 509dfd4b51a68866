"""fakeserver: the listening server (one thread per connection) and its command line."""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import socket
import ssl
import sys
import threading
import time

from fake_certs import cert_paths, ensure_certs
from fake_imap import imap_session
from fake_pop3 import pop3_session
from fake_scenarios import CERT_KINDS, GARBAGE_GREETING, HOST, PROTOS, SCENARIOS, TLS_MODES
from fake_session import ClientGone, Session, Stop, send_huge_line
from fake_smtp import smtp_session

HANDLERS = {"smtp": smtp_session, "imap": imap_session, "pop3": pop3_session}


class Server:
    def __init__(self, cfg):
        self.cfg = cfg
        self.stop_event = threading.Event()
        self.transcript_dir = cfg.transcript_dir
        self._ev_lock = threading.Lock()
        self._ev_file = None
        if self.transcript_dir:
            os.makedirs(self.transcript_dir, exist_ok=True)
            self._ev_file = open(os.path.join(self.transcript_dir, "events.jsonl"), "a")
        self.ssl_ctx = None
        if cfg.tls != "none":
            certdir = ensure_certs(cfg.certdir)
            cert, key = cert_paths(certdir)[cfg.cert_kind]
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            self.ssl_ctx = ctx
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((HOST, cfg.port))
        self.lsock.listen(64)
        self.lsock.setblocking(False)
        self.port = self.lsock.getsockname()[1]
        self.threads = []
        self._next_id = 0
        self._sessions = set()
        self._sessions_lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)

    def event(self, conn, name, **kw):
        rec = {"t": round(time.time(), 3), "conn": conn, "event": name, **kw}
        if self.cfg.verbose:
            print(json.dumps(rec), file=sys.stderr, flush=True)
        if self._ev_file:
            with self._ev_lock:
                self._ev_file.write(json.dumps(rec) + "\n")
                self._ev_file.flush()

    def request_stop(self):
        """Async-signal/thread safe: make serve() return promptly."""
        self.stop_event.set()
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def serve(self, deadline: float):
        while not self.stop_event.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([self.lsock, self._wake_r], [], [], min(left, 1.0))
            if self.lsock not in r:
                continue
            try:
                conn, addr = self.lsock.accept()
            except (socket.timeout, BlockingIOError):
                continue
            self._next_id += 1
            t = threading.Thread(target=self._handle, args=(conn, self._next_id), daemon=True)
            t.start()
            self.threads = [x for x in self.threads if x.is_alive()] + [t]
        self.shutdown()

    def shutdown(self):
        self.stop_event.set()
        try:
            self.lsock.close()
        except OSError:
            pass
        with self._sessions_lock:
            sessions = list(self._sessions)
        for sess in sessions:   # wake threads blocked in recv/send
            try:
                socket.socket.shutdown(sess.sock, socket.SHUT_RDWR)  # bypass SSLSocket.shutdown
            except (OSError, ValueError):
                pass
        for t in self.threads:
            t.join(timeout=1)

    def _handle(self, conn: socket.socket, cid: int):
        s = Session(self, conn, cid)
        sc = self.cfg.scenario
        self.event(cid, "connect")
        with self._sessions_lock:
            self._sessions.add(s)
        try:
            if self.cfg.tls == "implicit":
                if sc == "tls_stall":
                    s.stall("tls_handshake")
                s.start_tls()
            if sc == "silent":
                s.stall("silent")
            if sc == "garbage_greeting":
                s.send(GARBAGE_GREETING)
                s.close_abruptly()
            if sc == "huge_line":
                send_huge_line(s)
            HANDLERS[self.cfg.proto](s)
        except (ClientGone, Stop):
            pass
        except Exception as e:  # keep the server alive, but make it visible
            self.event(cid, "handler_error", error=repr(e))
        finally:
            with self._sessions_lock:
                self._sessions.discard(s)
            self.event(cid, "close")
            s.close_files()
            try:
                s.sock.close()
            except OSError:
                pass


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--proto", required=True, choices=PROTOS)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--tls", default="none", choices=TLS_MODES)
    ap.add_argument("--cert-kind", default="good", choices=CERT_KINDS)
    ap.add_argument("--certdir", default=None)
    ap.add_argument("--max-seconds", type=float, default=120.0)
    ap.add_argument("--port", type=int, default=0, help="default: ephemeral")
    ap.add_argument("--transcript-dir", default=None,
                    help="write conn-NNNN.all/.clear (client bytes) and events.jsonl here")
    ap.add_argument("--trickle-interval", type=float, default=1.0)
    ap.add_argument("--exit-on-stdin-eof", action="store_true",
                    help="exit when stdin closes (used by FakeServer so a dead parent leaves no server)")
    ap.add_argument("--make-certs", action="store_true",
                    help="only create/refresh certificates in --certdir, print the dir and exit")
    ap.add_argument("--verbose", action="store_true", help="log events to stderr")
    a = ap.parse_args(argv)
    if a.scenario not in SCENARIOS[a.proto]:
        ap.error(f"scenario {a.scenario!r} not available for {a.proto}; "
                 f"choose from: {', '.join(SCENARIOS[a.proto])}")
    if a.scenario == "tls_stall" and a.tls == "none":
        ap.error("tls_stall needs --tls implicit (or starttls)")
    return a


def main(argv=None):
    cfg = parse_args(argv)
    if cfg.make_certs:
        print(ensure_certs(cfg.certdir), flush=True)
        return 0
    srv = Server(cfg)

    def on_signal(signum, frame):
        srv.request_stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if cfg.exit_on_stdin_eof:
        def watch_stdin():
            try:
                while os.read(0, 4096):
                    pass
            except OSError:
                pass
            srv.request_stop()
        threading.Thread(target=watch_stdin, daemon=True).start()
    sys.stdout.write(f"PORT {srv.port}\n")
    sys.stdout.flush()
    srv.serve(time.monotonic() + cfg.max_seconds)
    return 0
