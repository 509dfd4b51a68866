"""fakeserver: the IMAP dialogue and its faults."""

from __future__ import annotations

import re

from fake_scenarios import ENDLESS_HEADER_BYTES, FLOOD_BYTES, GHOST_UIDS, UIDVALIDITY
from fake_session import Session, binary_reply, make_message, offer_starttls, split_message


# ---- IMAP ----------------------------------------------------------------

IMAP_FLAG_LINE = r"* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)"


class ImapBox:
    def __init__(self):
        self.msgs = [{"uid": i, "flags": set(), "data": make_message(i)} for i in (1, 2, 3)]
        self.uidnext = 4


def parse_seqset(spec: str, maxval: int):
    out = set()
    for part in spec.split(","):
        if not part:
            continue
        try:
            if ":" in part:
                a, b = part.split(":", 1)
                a = maxval if a == "*" else int(a)
                b = maxval if b == "*" else int(b)
                lo, hi = min(a, b), max(a, b)
                if lo <= maxval:
                    out.update(range(lo, min(hi, maxval) + 1))
            else:
                out.add(maxval if part == "*" else int(part))
        except ValueError:
            return None
    return out


_FETCH_BODY_RE = re.compile(r"(BODY(?:\.PEEK)?|BINARY(?:\.PEEK)?)\[([^\]]*)\](?:<(\d+)(?:\.(\d+))?>)?", re.I)


def imap_fetch_items(msg, seq, items: str, with_uid: bool) -> bytes:
    data = msg["data"]
    hdr, body = split_message(data)
    out = []
    if with_uid:
        out.append(b"UID %d" % msg["uid"])
    up = items.upper()
    if "FAST" in up or "ALL" in up or "FULL" in up:
        up += " FLAGS INTERNALDATE RFC822.SIZE"
    rest = _FETCH_BODY_RE.sub(" ", up)
    atoms = set(re.findall(r"[A-Z0-9.]+", rest))
    if "UID" in atoms and not with_uid:
        out.append(b"UID %d" % msg["uid"])
    if "FLAGS" in atoms:
        out.append(b"FLAGS (" + " ".join(sorted(msg["flags"])).encode() + b")")
    if "INTERNALDATE" in atoms:
        out.append(b'INTERNALDATE "01-Jan-2024 00:00:00 +0000"')
    if "RFC822.SIZE" in atoms:
        out.append(b"RFC822.SIZE %d" % len(data))
    for name, content in (("RFC822.HEADER", hdr), ("RFC822.TEXT", body), ("RFC822", data)):
        if name in atoms:
            out.append(name.encode() + b" {%d}\r\n" % len(content) + content)
    for m in _FETCH_BODY_RE.finditer(items):
        section = m.group(2)
        su = section.upper()
        if su == "":
            content = data
        elif su == "HEADER" or su.startswith("HEADER.FIELDS"):
            content = hdr
            if su.startswith("HEADER.FIELDS"):
                wanted = re.findall(r"[^\s()]+", section[len("HEADER.FIELDS"):].replace(".NOT", ""))
                wanted = {w.lower().encode() for w in wanted}
                neg = ".NOT" in su
                keep = [l for l in hdr.split(b"\r\n") if l and
                        ((l.split(b":", 1)[0].lower() in wanted) != neg)]
                content = b"".join(l + b"\r\n" for l in keep) + b"\r\n"
        elif su in ("TEXT", "1"):
            content = body
        else:
            content = b""
        name = b"BODY[" + section.encode() + b"]"
        if m.group(3) is not None:
            off = int(m.group(3))
            ln = int(m.group(4)) if m.group(4) else len(content)
            content = content[off:off + ln]
            name += b"<%d>" % off
        out.append(name + b" {%d}\r\n" % len(content) + content)
        if "PEEK" not in m.group(1).upper():
            msg["flags"].add("\\Seen")
    return b"* %d FETCH (" % seq + b" ".join(out) + b")\r\n"


def imap_read_command(s: Session) -> bytes:
    """Read one command line, resolving {n}/{n+} literals."""
    line = s.readline()
    full = b""
    while True:
        m = re.search(rb"\{(\d+)(\+?)\}\r?\n$", line)
        if not m:
            return full + line
        n = int(m.group(1))
        if not m.group(2):
            s.send_line("+ Ready for literal data")
        full += line[:m.start()] + b"{%d}\r\n" % n + s.read_exact(n)
        line = s.readline()


def imap_session(s: Session):
    sc = s.cfg.scenario
    box = ImapBox()
    selected = False

    def caps():
        c = ["IMAP4rev1", "IDLE", "UIDPLUS", "LITERAL+", "ID", "AUTH=PLAIN"]
        if offer_starttls(s):
            c.append("STARTTLS")
        return " ".join(c)

    def tagged(tag, text):
        t = (b"W" + tag) if sc == "wrong_tags" else tag
        s.send(t + b" " + text.encode() + b"\r\n")

    s.send_line("* OK mailprobe-fake IMAP4rev1 service ready")
    if sc == "greeting_stall":
        s.stall("after_greeting")
    ncmd = 0
    while True:
        line = imap_read_command(s)
        ncmd += 1
        cmdline = line.rstrip(b"\r\n")
        parts = cmdline.split(b" ", 2)
        tag = parts[0]
        if sc == "close_mid_reply":
            s.send(b"* CAPABILITY IMAP4rev1 ID")
            s.close_abruptly()
        if sc == "binary":
            binary_reply(s, ncmd)
            continue
        if len(parts) < 2:
            s.send(tag + b" BAD missing command\r\n")
            continue
        cmd = parts[1].upper().decode("latin-1")
        rest = parts[2].decode("latin-1") if len(parts) > 2 else ""
        uid = False
        if cmd == "UID":
            uid = True
            sub = rest.split(" ", 1)
            cmd = sub[0].upper()
            rest = sub[1] if len(sub) > 1 else ""

        if cmd == "CAPABILITY":
            s.send_line("* CAPABILITY " + caps())
            tagged(tag, "OK CAPABILITY completed")
        elif cmd == "NOOP" or cmd == "CHECK":
            tagged(tag, f"OK {cmd} completed")
        elif cmd == "LOGOUT":
            s.send_line("* BYE mailprobe-fake logging out")
            tagged(tag, "OK LOGOUT completed")
            s.close_abruptly()
        elif cmd == "STARTTLS":
            if not offer_starttls(s):
                tagged(tag, "BAD STARTTLS not available")
                continue
            tagged(tag, "OK Begin TLS negotiation now")
            if sc == "tls_stall":
                s.stall("tls_handshake")
            s.start_tls()
        elif cmd in ("LOGIN", "AUTHENTICATE"):
            s.auth_seen(cmd)
            if sc == "login_stall":
                s.stall(cmd.lower())
            if cmd == "AUTHENTICATE":
                a = rest.split()
                if not a or a[0].upper() != "PLAIN":
                    tagged(tag, "NO Unsupported authentication mechanism")
                    continue
                if len(a) < 2:
                    s.send_line("+ ")
                    resp = s.readline().strip()
                    if resp == b"*":
                        tagged(tag, "BAD AUTHENTICATE cancelled")
                        continue
            tagged(tag, f"OK [CAPABILITY {caps()}] {cmd} completed")
        elif cmd in ("SELECT", "EXAMINE"):
            selected = True
            s.send_lines([
                IMAP_FLAG_LINE,
                r"* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted",
                f"* {len(box.msgs)} EXISTS",
                "* 0 RECENT",
                f"* OK [UIDVALIDITY {UIDVALIDITY}] UIDs valid",
                f"* OK [UIDNEXT {box.uidnext}] Predicted next UID",
            ])
            if sc == "untagged_flood":
                imap_flood(s)
            tagged(tag, "OK [READ-%s] %s completed" % ("ONLY" if cmd == "EXAMINE" else "WRITE", cmd))
        elif cmd in ("LIST", "LSUB"):
            s.send_line(f'* {cmd} (\\HasNoChildren) "/" INBOX')
            tagged(tag, f"OK {cmd} completed")
        elif cmd == "STATUS":
            s.send_line(f"* STATUS INBOX (MESSAGES {len(box.msgs)} UIDNEXT {box.uidnext} "
                        f"UIDVALIDITY {UIDVALIDITY} UNSEEN 0 RECENT 0)")
            tagged(tag, "OK STATUS completed")
        elif cmd == "NAMESPACE":
            s.send_line('* NAMESPACE (("" "/")) NIL NIL')
            tagged(tag, "OK NAMESPACE completed")
        elif cmd == "ID":
            s.send_line('* ID ("name" "mailprobe-fake")')
            tagged(tag, "OK ID completed")
        elif cmd == "ENABLE":
            s.send_line("* ENABLED")
            tagged(tag, "OK ENABLE completed")
        elif cmd == "IDLE":
            s.send_line("+ idling")
            while s.readline().strip().upper() != b"DONE":
                pass
            tagged(tag, "OK IDLE terminated")
        elif cmd == "SEARCH":
            if not selected:
                tagged(tag, "BAD No mailbox selected")
                continue
            if sc == "search_ghost_uids":
                hits = list(GHOST_UIDS)
            elif sc == "endless_header":
                # A server that ignores the criteria: every message "matches", so a
                # client's header FETCH (where the endless header waits) is reached.
                hits = [m["uid"] if uid else seq for seq, m in enumerate(box.msgs, 1)]
            else:
                needles = [n.lower() for n in re.findall(r'"([^"]*)"', rest)]
                hits = []
                for seq, m in enumerate(box.msgs, 1):
                    if "UNDELETED" in rest.upper() and "\\Deleted" in m["flags"]:
                        continue
                    low = m["data"].decode("latin-1").lower()
                    if all(n in low for n in needles):
                        hits.append(m["uid"] if uid else seq)
            s.send_line("* SEARCH" + "".join(f" {h}" for h in hits))
            tagged(tag, f"OK {'UID ' if uid else ''}SEARCH completed")
        elif cmd == "FETCH":
            if not selected:
                tagged(tag, "BAD No mailbox selected")
                continue
            spec, _, items = rest.partition(" ")
            targets = imap_targets(box, spec, uid)
            if targets is None:
                tagged(tag, "BAD Invalid sequence set")
                continue
            if sc == "endless_header" and targets:
                imap_endless_header(s, targets[0][0], items, uid)
            else:
                for seq, m in targets:
                    s.send(imap_fetch_items(m, seq, items, uid))
            tagged(tag, f"OK {'UID ' if uid else ''}FETCH completed")
        elif cmd == "STORE":
            spec, _, what = rest.partition(" ")
            targets = imap_targets(box, spec, uid) or []
            op, _, fl = what.partition(" ")
            flags = set(re.findall(r"\\?[A-Za-z$]+", fl))
            for seq, m in targets:
                if op.upper().startswith("+"):
                    m["flags"] |= flags
                elif op.upper().startswith("-"):
                    m["flags"] -= flags
                else:
                    m["flags"] = set(flags)
                if ".SILENT" not in op.upper():
                    s.send_line(f"* {seq} FETCH ({'UID %d ' % m['uid'] if uid else ''}"
                                f"FLAGS ({' '.join(sorted(m['flags']))}))")
            tagged(tag, "OK STORE completed")
        elif cmd in ("EXPUNGE", "CLOSE", "UNSELECT"):
            if cmd == "EXPUNGE":
                seq = 1
                for m in list(box.msgs):
                    if "\\Deleted" in m["flags"]:
                        box.msgs.remove(m)
                        s.send_line(f"* {seq} EXPUNGE")
                    else:
                        seq += 1
            else:
                selected = False
            tagged(tag, f"OK {cmd} completed")
        elif cmd in ("COPY", "MOVE"):
            tagged(tag, f"OK {cmd} completed")
        elif cmd == "APPEND":
            lit = re.search(rb"\{\d+\}\r\n", line)
            data = line[lit.end():].rstrip(b"\r\n") if lit else b""
            box.msgs.append({"uid": box.uidnext, "flags": set(), "data": data})
            box.uidnext += 1
            s.event("append", bytes=len(data))
            tagged(tag, f"OK [APPENDUID {UIDVALIDITY} {box.uidnext - 1}] APPEND completed")
        else:
            tagged(tag, "BAD Command unknown or arguments invalid")


def imap_targets(box: ImapBox, spec: str, uid: bool):
    if uid:
        maxuid = max([m["uid"] for m in box.msgs] + [0])
        want = parse_seqset(spec, max(maxuid, 1))
        if want is None:
            return None
        return [(i, m) for i, m in enumerate(box.msgs, 1) if m["uid"] in want]
    want = parse_seqset(spec, max(len(box.msgs), 1))
    if want is None:
        return None
    return [(i, m) for i, m in enumerate(box.msgs, 1) if i in want]


def imap_flood(s: Session):
    pair = b"* 1 EXISTS\r\n* OK [ALERT] unsolicited status update from mailprobe-fake, please ignore me\r\n"
    block = pair * ((1 << 20) // len(pair))
    sent = 0
    s.event("flood_start")
    while sent + len(block) <= FLOOD_BYTES:
        s.send(block)
        sent += len(block)
    s.event("flood_sent", bytes=sent, lines=2 * sent // len(pair))


def imap_endless_header(s: Session, seq: int, items: str, uid: bool):
    m = _FETCH_BODY_RE.search(items)
    name = b"BODY[" + (m.group(2).encode() if m else b"HEADER") + b"]"
    lines = b"".join(
        b"Received: from relay%04d.hop.test (relay%04d.hop.test [192.0.2.%d]) by relay%04d.hop.test "
        b"with ESMTP id H%08d; Mon, 01 Jan 2024 00:00:00 +0000\r\n" % (i, i, i % 250 + 1, i + 1, i)
        for i in range(4096)
    )
    head = b"* %d FETCH (" % seq + (b"UID 1 " if uid else b"") + name + b" {%d}\r\n" % ENDLESS_HEADER_BYTES
    s.event("endless_header_start")
    s.send(head)
    left = ENDLESS_HEADER_BYTES
    while left > 0:
        chunk = lines[:left]
        if len(chunk) == left and not chunk.endswith(b"\r\n"):
            # Pad the final line so the literal still ends with CRLF.
            chunk = chunk[:-2] + b"\r\n" if len(chunk) >= 2 else chunk
        s.send(chunk)
        left -= len(chunk)
    s.send(b")\r\n")
    s.event("endless_header_sent", bytes=ENDLESS_HEADER_BYTES)
