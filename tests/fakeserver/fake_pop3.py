"""fakeserver: the POP3 dialogue and its faults."""

from __future__ import annotations

from fake_session import Session, Stop, binary_reply, make_message, offer_starttls, split_message


# ---- POP3 ----------------------------------------------------------------

def dot_stuff(data: bytes) -> bytes:
    out = []
    for l in data.split(b"\r\n"):
        out.append(b"." + l if l.startswith(b".") else l)
    res = b"\r\n".join(out)
    if not res.endswith(b"\r\n"):
        res += b"\r\n"
    return res


def pop3_session(s: Session):
    sc = s.cfg.scenario
    msgs = {1: make_message(1), 2: make_message(2), 3: make_message(3)}
    if sc == "lying_sizes":
        msgs[1] = make_message(1, (b"Y" * 998 + b"\r\n") * 200)   # ~200 KB real
        claimed = {1: 5, 2: 987654321, 3: 0}
        claimed_total = 17
    deleted = set()
    authed = False
    s.send_line("+OK mailprobe-fake POP3 server ready")
    if sc == "greeting_stall":
        s.stall("after_greeting")

    def size(n):
        return claimed[n] if sc == "lying_sizes" else len(msgs[n])

    def live():
        return [n for n in sorted(msgs) if n not in deleted]

    def msgnum(a):
        try:
            n = int(a)
        except (ValueError, TypeError):
            return None
        return n if n in msgs and n not in deleted else None

    ncmd = 0
    while True:
        line = s.readline()
        ncmd += 1
        cmdline = line.rstrip(b"\r\n").decode("latin-1")
        verb, _, arg = cmdline.partition(" ")
        verb = verb.upper()
        args = arg.split()
        if sc == "close_mid_reply":
            s.send(b"+OK Capabil" if verb == "CAPA" else b"+OK mailpro")
            s.close_abruptly()
        if sc == "binary":
            binary_reply(s, ncmd)
            continue
        if verb == "CAPA":
            caps = ["USER", "UIDL", "TOP", "SASL PLAIN", "RESP-CODES", "PIPELINING"]
            if offer_starttls(s):
                caps.append("STLS")
            s.send_lines(["+OK Capability list follows"] + caps + ["."])
        elif verb == "STLS":
            if not offer_starttls(s):
                s.send_line("-ERR STLS not available")
                continue
            s.send_line("+OK Begin TLS negotiation")
            if sc == "tls_stall":
                s.stall("tls_handshake")
            s.start_tls()
        elif verb == "USER":
            s.auth_seen("USER")
            s.send_line("+OK send PASS")
        elif verb in ("PASS", "AUTH", "APOP"):
            s.auth_seen(verb)
            if sc == "login_stall":
                s.stall(verb.lower())
            if verb == "AUTH":
                if not args:
                    s.send_lines(["+OK", "PLAIN", "."])
                    continue
                if args[0].upper() != "PLAIN":
                    s.send_line("-ERR unsupported mechanism")
                    continue
                if len(args) < 2:
                    s.send_line("+ ")
                    if s.readline().strip() == b"*":
                        s.send_line("-ERR authentication cancelled")
                        continue
            authed = True
            s.send_line("+OK mailbox locked and ready")
        elif verb == "QUIT":
            s.send_line("+OK mailprobe-fake signing off")
            s.close_abruptly()
        elif verb == "NOOP":
            s.send_line("+OK")
        elif not authed:
            s.send_line("-ERR [AUTH] authenticate first")
        elif verb == "STAT":
            total = claimed_total if sc == "lying_sizes" else sum(len(msgs[n]) for n in live())
            s.send_line(f"+OK {len(live())} {total}")
        elif verb in ("LIST", "UIDL"):
            val = (lambda n: size(n)) if verb == "LIST" else (lambda n: f"fakeuid-{n:04d}")
            if args:
                n = msgnum(args[0])
                if n is None:
                    s.send_line("-ERR no such message")
                else:
                    s.send_line(f"+OK {n} {val(n)}")
            else:
                s.send_lines([f"+OK {len(live())} messages"] + [f"{n} {val(n)}" for n in live()] + ["."])
        elif verb in ("RETR", "TOP"):
            n = msgnum(args[0] if args else None)
            if n is None:
                s.send_line("-ERR no such message")
                continue
            data = msgs[n]
            if verb == "TOP":
                try:
                    k = int(args[1])
                except (IndexError, ValueError):
                    s.send_line("-ERR syntax: TOP msg n")
                    continue
                hdr, body = split_message(data)
                if sc == "endless_top" and k == 0:
                    pop3_endless_top(s, hdr)
                blines = body[:-2].split(b"\r\n") if body.endswith(b"\r\n") else body.split(b"\r\n")
                data = hdr + b"".join(l + b"\r\n" for l in blines[:k])
                s.send(b"+OK top of message follows\r\n" + dot_stuff(data) + b".\r\n")
                continue
            s.send(b"+OK %d octets\r\n" % size(n) + dot_stuff(data) + b".\r\n")
        elif verb == "DELE":
            n = msgnum(args[0] if args else None)
            if n is None:
                s.send_line("-ERR no such message")
            else:
                deleted.add(n)
                s.send_line(f"+OK message {n} deleted")
        elif verb == "RSET":
            deleted.clear()
            s.send_line("+OK")
        else:
            s.send_line("-ERR unknown command")


def pop3_endless_top(s: Session, hdr: bytes):
    """Send the header block, then one more header line per second, never '.'."""
    s.event("endless_top_start")
    s.send(b"+OK top of message follows\r\n" + dot_stuff(hdr.rstrip(b"\r\n") + b"\r\n"))
    i = 0
    while True:
        if s.server.stop_event.wait(1.0):
            raise Stop()
        i += 1
        s.send(b"X-Endless-%d: this header block never ends\r\n" % i)
