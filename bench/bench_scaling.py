"""bench: cost against mailbox size, and concurrent round trips."""

import os
import time

from bench_runs import DEFAULT_WAIT, DOMAIN, Background, run_cmd
from bench_stats import cnt, fmt_ratio, mb, med, ms, ratio, spread
from bench_watch import imap_server_times


class ScalingSections:
    # ---------------------------------------------------------------- scaling
    def fill(self, user, start, count):
        """Writes `count` ordinary messages straight into Maildir cur/ (owned by the mail user)."""
        cur = os.path.join(self.user_dir(user), "cur")
        owner = os.stat(cur)  # the mail user the stack's Dovecot runs as
        base = int(time.time()) - 86400
        pid = os.getpid()
        for i in range(start, start + count):
            date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(base + i))
            body = (f"Return-Path: <sender{i % 97}@example.net>\n"
                    f"Delivered-To: {user}@{DOMAIN}\n"
                    f"Received: from mail.example.net (mail.example.net [192.0.2.{i % 250 + 1}])\n"
                    f"\tby mx.{DOMAIN} (Postfix) with ESMTP id {i:010X}; {date}\n"
                    f"From: Sender {i % 97} <sender{i % 97}@example.net>\n"
                    f"To: {user}@{DOMAIN}\n"
                    f"Subject: Newsletter number {i}\n"
                    f"Date: {date}\n"
                    f"Message-ID: <bench-{i}@example.net>\n"
                    "MIME-Version: 1.0\n"
                    "Content-Type: text/plain; charset=us-ascii\n"
                    "\n"
                    + "".join(f"Line {k} of message {i}: nothing to see here, just filling the mailbox.\n"
                              for k in range(6)))
            data = body.encode()
            vsize = len(data) + data.count(b"\n")
            name = f"{base + i}.M{i}P{pid}.bench,S={len(data)},W={vsize}:2,S"
            fd = os.open(os.path.join(cur, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, data)
                os.fchown(fd, owner.st_uid, owner.st_gid)
            finally:
                os.close(fd)

    def bench_scaling(self):
        self.log("scaling: finding the probe in a big mailbox (IMAP and POP3)")
        u = "t10"
        rows = []
        setup = []
        have = 0
        w = self.watcher
        for size in self.sizes:
            t0 = time.monotonic()
            self.fill(u, have, size - have)
            have = size
            t_fill = time.monotonic() - t0
            t0 = time.monotonic()
            self.doveadm("index", "-u", f"{u}@{DOMAIN}", "INBOX")
            t_index = time.monotonic() - t0
            setup.append((size, t_fill, t_index))
            self.log(f"  {size} messages: written in {t_fill:.1f} s, indexed in {t_index:.1f} s")
            for proto in ("imap", "pop3"):
                relay = self.imap_relay if proto == "imap" else self.pop3_relay
                timed, counted = [], []
                for i in range(self.scaling_runs):
                    # A: direct, timed at -v 0
                    r = run_cmd(self.cmd_roundtrip(u, proto=proto), self.env(), timeout=120)
                    self.check(f"check_mail_roundtrip {proto} with {size} messages (run {i + 1})", r, 0,
                               r"^MAIL ROUNDTRIP OK")
                    timed.append(r)
                    # B: through the bench's relay, which counts commands and keeps Dovecot's timings
                    idx = w.mark()
                    r = run_cmd(self.cmd_roundtrip(u, proto=proto, port=relay), self.env(), timeout=120)
                    self.check(f"check_mail_roundtrip {proto} via relay with {size} messages (run {i + 1})", r, 0,
                               r"^MAIL ROUNDTRIP OK")
                    ev = w.since(idx)
                    counted.append({
                        "cmds": sum(1 for e in ev if e[1] == "cmd"),
                        "conns": sum(1 for e in ev if e[1] == "conn"),
                        "server": imap_server_times(ev) if proto == "imap" else None})
                if self.message_count(u) != size:
                    self.fail(f"scaling {proto} {size}", why=f"mailbox has {self.message_count(u)} messages, "
                              f"expected {size} (probe not deleted, or other mail touched)")
                rows.append((size, proto, timed, counted))
        out = ["## 5. Scaling: finding the probe in a big mailbox (ours)", "",
               "check_mail_roundtrip (defaults) against one mailbox that also holds N other messages "
               "(written into Maildir `cur/`, then `doveadm index`). Per size and protocol: "
               f"{self.scaling_runs} timed runs at -v 0 alternating with {self.scaling_runs} runs through the bench's "
               "relay, which counts the client's commands (round trips) and connections and reads Dovecot's own "
               "time for each IMAP command from its tagged replies. `search` is the plugin's `mailbox_search` "
               "figure (the search that found the probe, including the Maildir sync Dovecot does for the new "
               "message). Dovecot columns: `SELECT`; `all` = searches over the whole mailbox (the stale-probe "
               "look-up); `new` = searches limited to the new UIDs (`UID n:*`), summed over the run; `rest` = "
               "everything else (FETCH, STORE, EXPUNGE, ...).", "",
               "| messages | protocol | runs OK | wall ms | search ms | commands | connections | "
               "Dovecot SELECT ms | Dovecot all ms | Dovecot new ms | Dovecot rest ms |",
               "|---|---|---|---|---|---|---|---|---|---|---|"]
        for size, proto, timed, counted in rows:
            ok = sum(1 for r in timed if r.ok)
            search = [r.perf("mailbox_search") for r in timed if r.perf("mailbox_search") is not None]
            cmds = [c["cmds"] for c in counted]
            conns = [c["conns"] for c in counted]
            line = (f"| {size} | {proto.upper()} | {ok}/{len(timed)} | {spread([r.wall for r in timed], ms)} | "
                    f"{spread(search, lambda v: ms(v, 2))} | {spread(cmds, cnt)} | {spread(conns, cnt)} |")
            if proto == "imap":
                for k in ("select", "search_all", "search_new", "other"):
                    line += f" {spread([c['server'][k] for c in counted], ms)} |"
            else:
                line += " – | – | – | – |"
            out.append(line)
        out += ["", "Set-up (not timed above): " + "; ".join(
            f"{s} messages in place after {tf:.1f} s of writing and {ti:.1f} s of `doveadm index`"
            for s, tf, ti in setup) + "."]
        self.sections.append("\n".join(out))
        imap = {size: (timed, counted) for size, proto, timed, counted in rows if proto == "imap"}
        lo, hi = min(imap), max(imap)

        def search_med(size):
            return med([r.perf("mailbox_search") for r in imap[size][0] if r.perf("mailbox_search") is not None])

        def cmd_med(size):
            return med([c["cmds"] for c in imap[size][1]])

        def server_med(size, key):
            return med([c["server"][key] for c in imap[size][1]])

        rs = ratio(search_med(hi), search_med(lo))
        rwall = ratio(med([r.wall for r in imap[hi][0]]), med([r.wall for r in imap[lo][0]]))
        self.targets.append((f"IMAP search cost flat from {lo} to {hi} messages (within 2x)",
                             f"mailbox_search {ms(search_med(lo), 2)} -> {ms(search_med(hi), 2)} ms "
                             f"(x{fmt_ratio(rs)}); whole run x{fmt_ratio(rwall)}; IMAP commands "
                             f"{cmd_med(lo):g} -> {cmd_med(hi):g}; Dovecot's time for the new-UID searches "
                             f"{ms(server_med(lo, 'search_new'))} -> {ms(server_med(hi, 'search_new'))} ms, "
                             f"for the whole-mailbox search {ms(server_med(lo, 'search_all'))} -> "
                             f"{ms(server_med(hi, 'search_all'))} ms",
                             rs is not None and rs <= 2.0))

    # ---------------------------------------------------------------- load
    def bench_load(self):
        n = self.concurrent
        self.log(f"load: {n} concurrent round trips against one mailbox")
        u = "t20"
        self.empty(u)
        threads = [Background(self.cmd_roundtrip(u, probe_name=f"bench-load-{i:03d}"), self.env(), timeout=120)
                   for i in range(n)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        runs = []
        for i, t in enumerate(threads):
            if t.error:
                raise t.error
            self.check(f"load check {i + 1}/{n}", t.result, 0, r"^MAIL ROUNDTRIP OK")
            runs.append(t.result)
        left = self.message_count(u)
        if left:
            self.fail("load", why=f"{left} messages left in the mailbox after {n} round trips")
        ok = sum(1 for r in runs if r.ok)
        cpu = sum(r.cpu for r in runs)
        stuck = sum(1 for r in runs if r.wall >= 0.9 * DEFAULT_WAIT)
        out = [f"## 6. Load: {n} concurrent round trips, one mailbox", "",
               f"{n} check_mail_roundtrip processes started at once (defaults, distinct `--probe-name`, same "
               "mailbox). Wall: first start to last exit. CPU: all plugin processes together (the mail "
               "servers' CPU is not included). `ran to --wait`: checks that took at least "
               f"{0.9 * DEFAULT_WAIT:g} s, i.e. only found their probe when the {DEFAULT_WAIT} s `--wait` "
               "ran out.", "",
               "| checks | all OK | left in mailbox | total wall s | total CPU s | CPU per check ms | "
               "per-check wall s | ran to --wait | peak RSS MB (largest) |",
               "|---|---|---|---|---|---|---|---|---|",
               f"| {n} | {'yes' if ok == n and not left else f'NO ({ok}/{n})'} | {left} | {wall:.2f} | {cpu:.3f} | "
               f"{ms(cpu / n)} | {spread([r.wall for r in runs], lambda v: f'{v:.2f}')} | {stuck} | "
               f"{mb(max(r.rss_kb for r in runs))} |"]
        self.sections.append("\n".join(out))
