"""Protocol injection through option values (issue 11, item 1).

Every value that reaches a server is checked once, where options are parsed: a CR, LF, CRLF
(or, where a file carries the value, NUL) is UNKNOWN, one line naming the option, and the
value is never echoed. Played on scripted servers that record every line they receive
(tests/fakeserver/scripted.py): after the refused runs not one line, not even a
connection, has arrived; a clean control run shows that the same arguments do reach them.
Plus the real case on Dovecot: --folder 'INBOX\\r\\nX1 DELETE Victim' leaves Victim in place.

argv and the environment cannot carry NUL (exec ends the string there), so NUL is tried
through the password and key files only.

Mailbox users of this file: t51.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from mailprobe_harness import run_plugin
from mp_testlib import PluginTestCase, mailbox_opts

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fakeserver"))
from scripted import (IMAP_GREETING, IMAP_SCRIPT, POP3_GREETING, POP3_SCRIPT,  # noqa: E402
                      SMTP_GREETING, SMTP_SCRIPT, ScriptedServer)

USER = "t51"
BREAKS = {"CR": "\r", "LF": "\n", "CRLF": "\r\n"}
PAYLOAD = "X1 DELETE Victim"
PLUGINS = ("check_mail_send", "check_mail_roundtrip", "check_mail_relay", "check_mailbox_receive")

# (plugin, protocol, where the value goes, option or variable). "arg": --OPTION=VALUE,
# "env": the variable, "file": FILE holds the value and --OPTION FILE names it.
TABLE = [
    ("check_mail_send", "smtp", "arg", "smtp-host"),
    ("check_mail_send", "smtp", "arg", "helo"),
    ("check_mail_send", "smtp", "arg", "from"),
    ("check_mail_send", "smtp", "arg", "return-path"),
    ("check_mail_send", "smtp", "arg", "to"),
    ("check_mail_send", "smtp", "arg", "smtp-user"),
    ("check_mail_send", "smtp", "arg", "smtp-password"),
    ("check_mail_send", "smtp", "env", "MAILPROBE_SMTP_PASSWORD"),
    ("check_mail_send", "smtp", "file", "smtp-password-file"),
    ("check_mail_send", "smtp", "arg", "smtp-auth-mech"),
    ("check_mail_send", "smtp", "arg", "subject"),
    ("check_mail_send", "smtp", "arg", "probe-name"),
    ("check_mail_send", "smtp", "file", "probe-secret-file"),
    ("check_mail_send", "smtp", "arg", "sendmail"),
    ("check_mailbox_receive", "imap", "arg", "mailbox"),
    ("check_mailbox_receive", "imap", "arg", "mailbox-host"),
    ("check_mailbox_receive", "imap", "arg", "mailbox-user"),
    ("check_mailbox_receive", "imap", "arg", "mailbox-password"),
    ("check_mailbox_receive", "imap", "env", "MAILPROBE_MAILBOX_PASSWORD"),
    ("check_mailbox_receive", "imap", "file", "mailbox-password-file"),
    ("check_mailbox_receive", "imap", "arg", "mailbox-auth-mech"),
    ("check_mailbox_receive", "imap", "arg", "folder"),
    ("check_mailbox_receive", "imap", "arg", "junk-folder"),
    ("check_mailbox_receive", "imap", "arg", "probe-name"),
    ("check_mailbox_receive", "pop3", "arg", "mailbox-user"),
    ("check_mailbox_receive", "pop3", "arg", "mailbox-password"),
    ("check_mailbox_receive", "pop3", "env", "MAILPROBE_MAILBOX_PASSWORD"),
    ("check_mailbox_receive", "pop3", "file", "mailbox-password-file"),
]

OPTION_RE = re.compile(r"^\s+(?:-\w, )?--([a-z0-9-]+) (\S+)$")
SHORT = {"smtp-host": "-H", "smtp-port": "-p", "timeout": "-t", "warning": "-w", "critical": "-c"}


def with_value(args: list[str], name: str, value: str) -> list[str]:
    """args with --name (or its short form) replaced by --name=value."""
    out, i = [], 0
    while i < len(args):
        if args[i] in (f"--{name}", SHORT.get(name)):
            i += 2
            continue
        out.append(args[i])
        i += 1
    return out + [f"--{name}={value}"]


def value_options(plugin: str) -> list[str]:
    """Every option of the plugin's --help that takes a value."""
    run = run_plugin(plugin, ["--help"])
    return [m.group(1) for line in run.stdout.splitlines() if (m := OPTION_RE.match(line))]


class OptionInjection(PluginTestCase):
    users = (USER,)

    def setUp(self):
        super().setUp()
        self.files = tempfile.mkdtemp(prefix="inject-", dir=self.tmp)
        self.good_pw = os.path.join(self.files, "good.pass")
        Path(self.good_pw).write_text("s3cret\n")
        os.chmod(self.good_pw, 0o600)

    def base(self, proto: str, port: int) -> list[str]:
        if proto == "smtp":
            return ["-t", "5", "-H", "127.0.0.1", "-p", str(port), "--to", f"{USER}@mail.test"]
        return ["-t", "5", "--login-only", "--mailbox-protocol", proto, "--mailbox-host",
                "127.0.0.1", "--mailbox-port", str(port), "--mailbox-user", USER,
                "--mailbox-password-file", self.good_pw]

    def injected(self, proto: str, port: int, where: str, name: str, value: str):
        """Arguments and environment that carry `value` through `name`, the rest valid."""
        args, env = self.base(proto, port), dict(self.env)
        password_option = "smtp-password" if proto == "smtp" else "mailbox-password"
        if name.startswith(password_option) or name.startswith("MAILPROBE_"):
            if proto != "smtp":  # the base names a good password file: drop it
                i = args.index("--mailbox-password-file")
                del args[i:i + 2]
            else:
                args += ["--smtp-user", "probe"]
        if name == "smtp-auth-mech":
            args += ["--smtp-user", "probe", "--smtp-password-file", self.good_pw]
        if where == "env":
            env[name] = value
        elif where == "file":
            path = os.path.join(self.files, f"{name}.value")
            Path(path).write_bytes(value.encode())
            os.chmod(path, 0o600)
            args += [f"--{name}", path]
        else:
            args = with_value(args, name, value)
        return args, env

    def assertRefused(self, run, named: str):
        self.assertEqual(run.code, 3, run.describe())
        self.assertEqual(run.status_word, "UNKNOWN", run.describe())
        self.assertIn(named, run.first_line, run.describe())
        self.assertNotIn("Victim", run.stdout + run.stderr, run.describe())
        self.assertEqual(len(run.stdout.splitlines()), 2, run.describe())  # status + usage

    def servers(self):
        return {"smtp": ScriptedServer(SMTP_GREETING, SMTP_SCRIPT),
                "imap": ScriptedServer(IMAP_GREETING, IMAP_SCRIPT),
                "pop3": ScriptedServer(POP3_GREETING, POP3_SCRIPT)}

    def test_no_line_reaches_the_server(self):
        servers = self.servers()
        for srv in servers.values():
            self.enterContext(srv)
        for plugin, proto, where, name in TABLE:
            breaks = dict(BREAKS)
            if where == "file":
                breaks["NUL"] = "\0"
            for label, brk in breaks.items():
                with self.subTest(plugin=plugin, proto=proto, option=name, brk=label):
                    args, env = self.injected(proto, servers[proto].port, where, name,
                                              "x" + brk + PAYLOAD)
                    run = run_plugin(plugin, args, env, timeout=30)
                    if where == "arg":
                        named = f"--{name}: the value contains a line break or NUL byte"
                    elif where == "env":
                        named = f"{name}: the value contains a line break or NUL byte"
                    elif label == "NUL":
                        named = "contains a NUL byte"
                    else:
                        named = "has more than one line"
                    self.assertRefused(run, named)
        for proto, srv in servers.items():
            self.assertEqual((srv.connections, srv.lines()), (0, []), proto)

        # Control: the same base arguments with clean values do reach the recorders.
        for proto in ("smtp", "imap", "pop3"):
            plugin = "check_mail_send" if proto == "smtp" else "check_mailbox_receive"
            run = run_plugin(plugin, self.base(proto, servers[proto].port), self.env, timeout=30)
            self.assertGreater(servers[proto].connections, 0, run.describe())
            self.assertTrue(servers[proto].lines(), run.describe())

    def test_every_value_option_of_every_plugin(self):
        servers = self.servers()
        for srv in servers.values():
            self.enterContext(srv)
        smtp = self.base("smtp", servers["smtp"].port)
        imap = self.base("imap", servers["imap"].port)[2:]  # without a second -t
        imap.remove("--login-only")
        bases = {"check_mail_send": smtp, "check_mail_roundtrip": smtp + imap,
                 "check_mail_relay": smtp + imap,
                 "check_mailbox_receive": ["--login-only", *imap]}
        for plugin in PLUGINS:
            for name in value_options(plugin):
                with self.subTest(plugin=plugin, option=name):
                    args = with_value(bases[plugin], name, f"x\r\n{PAYLOAD}")
                    run = run_plugin(plugin, args, self.env, timeout=30)
                    self.assertRefused(
                        run, f"--{name}: the value contains a line break or NUL byte")
        for proto, srv in servers.items():
            self.assertEqual((srv.connections, srv.lines()), (0, []), proto)


class DovecotFolderInjection(PluginTestCase):
    """The report's case on the real Dovecot: a folder value that would delete Victim."""
    users = (USER,)

    def doveadm(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["doveadm", "-c", self.stack.dovecot_conf, *args], check=False,
                              capture_output=True, text=True, timeout=60)

    def create_victim(self):
        if "Victim" not in self.stack.folders(USER):
            r = self.doveadm("mailbox", "create", "-u", self.stack.address(USER), "Victim")
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Victim", self.stack.folders(USER))

    def setUp(self):
        super().setUp()
        self.addCleanup(self.doveadm, "mailbox", "delete", "-u", self.stack.address(USER),
                        "Victim")

    def test_folder_line_break_leaves_victim_in_place(self):
        # A third line takes the closing quote of the quoted folder name, so that the
        # middle line is a complete command: without the check, Dovecot deletes Victim.
        evil = f"INBOX\r\n{PAYLOAD}\r\nX2 NOOP"
        url = f"imap://{self.stack.address(USER)}@{self.stack.host}:{self.stack.imap_port}/{evil}"
        runs = {
            "--folder": ("check_mailbox_receive",
                         ["--login-only", *mailbox_opts(self.stack, USER, folder=evil)]),
            "--junk-folder": ("check_mailbox_receive",
                              ["--login-only", *mailbox_opts(self.stack, USER),
                               "--junk-folder", evil]),
            "--mailbox": ("check_mailbox_receive",
                          ["--login-only", "--mailbox", url, "--mailbox-password-file",
                           self.stack.password_file(USER)]),
            "--folder (round trip)": ("check_mail_roundtrip",
                                      ["-H", self.stack.host, "-p", str(self.stack.smtp_port),
                                       "--to", self.stack.address(USER),
                                       *mailbox_opts(self.stack, USER, folder=evil)]),
        }
        for label, (plugin, args) in runs.items():
            with self.subTest(option=label):
                self.create_victim()
                run = run_plugin(plugin, ["-t", "10", *args], self.env, timeout=60)
                self.assertIn("Victim", self.stack.folders(USER), run.describe())
                self.assertEqual(run.code, 3, run.describe())
                self.assertIn("the value contains a line break", run.first_line, run.describe())
                self.assertNotIn("Victim", run.stdout, run.describe())
        self.assertEqual(self.stack.messages(USER), [])  # the round trip sent nothing

        # Control: a clean login on the same account works (the check above could fail).
        run = run_plugin("check_mailbox_receive",
                         ["-t", "10", "--login-only", *mailbox_opts(self.stack, USER)], self.env)
        self.assertEqual(run.code, 0, run.describe())


if __name__ == "__main__":
    unittest.main()
