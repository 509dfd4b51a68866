#!/usr/bin/env python3
"""Tiny greylisting policy server for the throwaway test mail stack.

Implements the Postfix policy delegation protocol (SMTPD_POLICY_README) over
TCP.  A (client_address, sender, recipient) triplet seen for the first time is
answered with ``action=defer_if_permit 4.7.1 greylisted, try again later``
(Postfix turns that into "450 4.7.1 ...").  The same triplet retried at least
``--delay`` seconds (default 1) after its first sighting gets ``action=DUNNO``
and stays whitelisted.  A retry that comes too early is deferred again.

Only the Python standard library is used.  Started and stopped by
tests/stack/mailstack.sh; writes its pid file once it listens.
"""

import argparse
import os
import signal
import socketserver
import sys
import threading
import time

DEFER = "defer_if_permit 4.7.1 greylisted, try again later"


class State:
    def __init__(self, delay):
        self.delay = delay
        self.lock = threading.Lock()
        self.first_seen = {}  # triplet -> monotonic time of first sighting
        self.passed = set()  # triplets that waited long enough

    def decide(self, attrs):
        if attrs.get("request") != "smtpd_access_policy":
            return "DUNNO"
        recipient = attrs.get("recipient", "").lower()
        if not recipient:  # e.g. a check at MAIL FROM or DATA stage
            return "DUNNO"
        triplet = (attrs.get("client_address", ""), attrs.get("sender", "").lower(), recipient)
        now = time.monotonic()
        with self.lock:
            if triplet in self.passed:
                return "DUNNO"
            first = self.first_seen.get(triplet)
            if first is None:
                self.first_seen[triplet] = now
                verdict = DEFER
            elif now - first >= self.delay:
                self.passed.add(triplet)
                verdict = "DUNNO"
            else:
                verdict = DEFER
        log("%s sender=<%s> rcpt=<%s> -> %s" % (triplet[0], triplet[1], triplet[2], verdict))
        return verdict


def log(msg):
    sys.stderr.write("%s greylist_policy: %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), msg))
    sys.stderr.flush()


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        attrs = {}
        while True:
            line = self.rfile.readline(65536)
            if not line:
                return  # client closed the connection
            line = line.decode("utf-8", "replace").rstrip("\r\n")
            if line:
                name, sep, value = line.partition("=")
                if sep:
                    attrs[name] = value
                continue
            # empty line: end of one request; the connection may carry more
            action = self.server.state.decide(attrs)
            self.wfile.write(("action=%s\n\n" % action).encode())
            self.wfile.flush()
            attrs = {}


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--delay", type=float, default=1.0, help="seconds before a retry is accepted")
    ap.add_argument("--pidfile")
    args = ap.parse_args()

    server = Server((args.host, args.port), Handler)
    server.state = State(args.delay)

    def on_term(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.replace(tmp, args.pidfile)
    log("listening on %s:%d, delay %.1fs" % (args.host, args.port, args.delay))
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except FileNotFoundError:
                pass
        log("stopped")


if __name__ == "__main__":
    main()
