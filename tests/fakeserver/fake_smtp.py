"""fakeserver: the SMTP dialogue and its faults."""

from __future__ import annotations

from fake_session import Session, binary_reply, offer_starttls


# ---- SMTP ----------------------------------------------------------------

def smtp_session(s: Session):
    sc = s.cfg.scenario
    s.send_line("220 mx.test ESMTP mailprobe-fake ready")
    if sc == "greeting_stall":
        s.stall("after_greeting")
    ncmd = 0
    while True:
        line = s.readline()
        cmdline = line.rstrip(b"\r\n")
        verb = cmdline.split(b" ", 1)[0].upper().decode("latin-1")
        arg = cmdline[len(verb) + 1:].decode("latin-1")
        ncmd += 1
        if sc == "close_mid_reply":
            s.send(b"250-mx.test Hel" if verb in ("EHLO", "HELO") else b"250 2.0.0 O")
            s.close_abruptly()
        if sc == "binary":
            binary_reply(s, ncmd)
            continue
        if verb == "EHLO":
            caps = ["mx.test Hello " + arg, "PIPELINING", "SIZE 10485760", "8BITMIME",
                    "ENHANCEDSTATUSCODES", "AUTH PLAIN LOGIN"]
            if offer_starttls(s):
                caps.append("STARTTLS")
            s.send_lines([f"250-{c}" for c in caps[:-1]] + [f"250 {caps[-1]}"])
        elif verb == "HELO":
            s.send_line("250 mx.test")
        elif verb == "STARTTLS":
            if not offer_starttls(s):
                s.send_line("454 4.7.0 TLS not available")
                continue
            if sc == "tls_stall":
                s.send_line("220 2.0.0 Ready to start TLS")
                s.stall("tls_handshake")
            s.send_line("220 2.0.0 Ready to start TLS")
            s.start_tls()
        elif verb == "AUTH":
            s.auth_seen("AUTH")
            if sc == "login_stall":
                s.stall("auth")
            parts = arg.split()
            mech = parts[0].upper() if parts else ""
            if mech == "PLAIN":
                if len(parts) < 2:
                    s.send_line("334 ")
                    if s.readline().strip() == b"*":
                        s.send_line("501 5.7.0 Authentication aborted")
                        continue
            elif mech == "LOGIN":
                if len(parts) < 2:
                    s.send_line("334 VXNlcm5hbWU6")
                    if s.readline().strip() == b"*":
                        s.send_line("501 5.7.0 Authentication aborted")
                        continue
                s.send_line("334 UGFzc3dvcmQ6")
                if s.readline().strip() == b"*":
                    s.send_line("501 5.7.0 Authentication aborted")
                    continue
            else:
                s.send_line("504 5.5.4 Unrecognized authentication type")
                continue
            if sc == "auth_fail":
                s.send_line("535 5.7.8 Error: authentication failed: authentication failure")
            elif sc == "ms_basic_auth_off":  # Exchange Online, SMTP AUTH basic switched off
                s.send_line("550 5.7.30 Basic authentication is not supported for Client "
                            "Submission.")
            elif sc == "ms_auth_unsuccessful":
                s.send_line("535 5.7.3 Authentication unsuccessful [AM0PR01CA0001.eurprd01."
                            "prod.exchangelabs.com 2026-12-01T01:00:00.000Z]")
            else:
                s.send_line("235 2.7.0 Authentication successful")
        elif verb == "MAIL":
            s.send_line("250 2.1.0 Ok")
        elif verb == "RCPT":
            if sc == "reject_rcpt":
                s.send_line(f"550 5.1.1 {arg[3:].strip()}: Recipient address rejected: "
                            "User unknown in virtual mailbox table")
            elif sc == "greylist":
                s.send_line(f"451 4.7.1 {arg[3:].strip()}: Recipient address rejected: "
                            "Greylisted, see http://postgrey.schweikert.ch/help/mx.test.html")
            else:
                s.send_line("250 2.1.5 Ok")
        elif verb == "DATA":
            s.send_line("354 End data with <CR><LF>.<CR><LF>")
            size = 0
            while True:
                dl = s.readline()
                if dl in (b".\r\n", b".\n"):
                    break
                size += len(dl)
            s.event("data_received", bytes=size)
            if sc == "data_stall":
                s.stall("end_of_data")
            s.send_line("250 2.0.0 Ok: queued as 4FAKE%04d" % s.id)
        elif verb in ("RSET", "NOOP"):
            s.send_line("250 2.0.0 Ok")
        elif verb == "VRFY":
            s.send_line("252 2.0.0 Cannot VRFY user")
        elif verb == "QUIT":
            s.send_line("221 2.0.0 Bye")
            s.close_abruptly()
        else:
            s.send_line("502 5.5.2 Error: command not recognized")
