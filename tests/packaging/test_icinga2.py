#!/usr/bin/env python3
"""Icinga 2 with the shipped CheckCommands (packaging/icinga2/).

  test_icinga2.py config   icinga2 daemon -C: mailprobe-commands.conf and
                           mailprobe-example.conf, the example's apply rules instantiated
                           for all four commands and one service per command that sets
                           every custom variable the command reads
  test_icinga2.py run      a real Icinga 2 daemon (private config, state, log and run
                           directories) runs services with our CheckCommands against the
                           test mail stack (user t31) every second, with the PerfdataWriter
                           and a GraphiteWriter pointed at a socket of this test; asserts
                           the states Icinga recorded and that it parsed every perfdata
                           value of the round trip
"""

from __future__ import annotations

import re
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pkgtest as t  # noqa: E402

HOST = "mailprobe-test"


def icinga2_binary() -> str:
    return t.ensure_tool("icinga2", "icinga2-bin")


def shipped(name: str) -> Path:
    return t.source_dir() / "packaging" / "icinga2" / name


def defines(tmp: Path) -> list[str]:
    dirs = {"DataDir": "lib", "LogDir": "log", "CacheDir": "cache", "SpoolDir": "spool",
            "InitRunDir": "run"}
    out = []
    for const, sub in dirs.items():
        (tmp / sub).mkdir(exist_ok=True)
        out.append(f"-D{const}={tmp / sub}")
    return out + ["-DRunAsUser=root", "-DRunAsGroup=root"]


def quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def base_config(plugin_dir: Path) -> str:
    return f"""
include <itl>
const PluginDir = {quote(str(plugin_dir))}
const NodeName = {quote(HOST)}
const ZoneName = NodeName
object Endpoint NodeName {{}}
object Zone ZoneName {{ endpoints = [ NodeName ] }}
include {quote(str(shipped("mailprobe-commands.conf")))}
"""


def command_vars() -> dict[str, set[str]]:
    """CheckCommand name -> the custom variables its arguments and env read."""
    text = shipped("mailprobe-commands.conf").read_text()
    out = {}
    for m in re.finditer(r'object CheckCommand "([^"]+)" \{(.*?)\n\}', text, re.S):
        out[m.group(1)] = set(re.findall(r"\$(mailprobe_[a-z0-9_]+)\$", m.group(2)))
    return out


def config() -> None:
    icinga2 = icinga2_binary()
    commands = command_vars()
    t.check(set(commands) == {"mail_send", "mail_roundtrip", "mail_relay", "mailbox_receive"},
            f"CheckCommands: {sorted(commands)}")
    with t.temp_dir("mp-icinga2-config-") as tmp:
        services = []
        for name, variables in sorted(commands.items()):
            assignments = "\n".join(f"  vars.{v} = {'true' if v in FLAGS else quote('x')}"
                                    for v in sorted(variables))
            services.append(f'object Service "every-var-{name}" {{\n  host_name = {quote(HOST)}\n'
                            f'  check_command = {quote(name)}\n{assignments}\n}}')
        conf = tmp / "icinga2.conf"
        conf.write_text(base_config(t.bin_dir()) + f"""
include {quote(str(shipped("mailprobe-example.conf")))}
object Host {quote(HOST)} {{
  check_command = "dummy"
  address = "127.0.0.1"
  vars.mailprobe_roundtrip["a"] = {{ mailprobe_to = "a@example.org" }}
  vars.mailprobe_roundtrip["mx"] = {{ mailprobe_to = "b@example.org", mailprobe_use_mx = true }}
  vars.mailprobe_relay["b"] = {{ mailprobe_to = "a@example.org", mailprobe_smtp_user = "u" }}
  vars.mailprobe_mail_send["c"] = {{ mailprobe_to = "a@example.org" }}
  vars.mailprobe_mailbox_receive["d"] = {{ mailprobe_mailbox = "imap://u@h" }}
}}
""" + "\n".join(services) + "\n")
        p = t.run([icinga2, "daemon", "-C", "-c", conf, *defines(tmp)], check_rc=False, timeout=120)
        print(p.stdout, p.stderr, sep="")
        t.check(p.returncode == 0, f"icinga2 daemon -C exited {p.returncode}")
        bad = [l for l in p.stdout.splitlines() if re.search(r"\] (warning|critical)/", l)]
        t.check(not bad, "icinga2 daemon -C warned:\n" + "\n".join(bad))
        m = re.search(r"Instantiated (\d+) Services?", p.stdout)
        t.check(m is not None and int(m.group(1)) == 5 + len(commands),
                f"expected {5 + len(commands)} services (5 from the example's apply rules)")
    one_type_only(icinga2)
    t.log(f"OK: icinga2 daemon -C accepts the shipped CheckCommands and example "
          f"({sum(len(v) for v in commands.values())} custom variables set)")


def one_type_only(icinga2: str) -> None:
    """The example's apply rules are opt-in per host variable: a host that uses one probe
    type (and one that uses none) gives no warning for the other types, and a probe sets
    its own check interval, which does not become a custom variable."""
    with t.temp_dir("mp-icinga2-optin-") as tmp:
        conf = tmp / "icinga2.conf"
        conf.write_text(base_config(t.bin_dir()) + f"""
include {quote(str(shipped("mailprobe-example.conf")))}
object Host {quote(HOST)} {{
  check_command = "dummy"
  address = "127.0.0.1"
  vars.mailprobe_mailbox_receive["site-a"] = {{ mailprobe_mailbox = "imap://u@h", check_interval = 1m }}
}}
object Host "no-probes" {{ check_command = "dummy" }}
""")
        p = t.run([icinga2, "daemon", "-C", "-c", conf, *defines(tmp)],
                  check_rc=False, timeout=120)
        print(p.stdout, p.stderr, sep="")
        t.check(p.returncode == 0, f"icinga2 daemon -C exited {p.returncode}")
        bad = [l for l in p.stdout.splitlines() if re.search(r"\] (warning|critical)/", l)]
        t.check(not bad, "icinga2 daemon -C warned for a host with one probe type:\n"
                + "\n".join(bad))
        objects = t.run([icinga2, "object", "list", "--type", "Service", *defines(tmp)],
                        quiet=True).stdout
        t.check(f"Object '{HOST}!mailbox-receive site-a'" in objects
                and objects.count("of type 'Service'") == 1, f"services:\n{objects}")
        t.check(re.search(r"^  \* check_interval = 60$", objects, re.M) is not None,
                "the probe's check_interval = 1m did not reach the service")
        t.check(re.search(r"^    \* check_interval", objects, re.M) is None,
                "check_interval became a custom variable")
        t.check(re.search(r"mailprobe_smtp_host", objects) is None,
                "a mailbox-only probe got an SMTP host")
    t.log("OK: one probe type on a host, another host with none: no warning; "
          "the probe's check_interval is the service's")


FLAGS = set()  # filled from the commands file: variables used in set_if


def load_flags() -> None:
    text = shipped("mailprobe-commands.conf").read_text()
    FLAGS.update(re.findall(r'set_if = "\$(mailprobe_[a-z0-9_]+)\$"', text))


# ---------------------------------------------------------------- run

class GraphiteSink:
    """A TCP listener that collects Graphite plaintext lines from Icinga's GraphiteWriter."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.lines: list[str] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        buf = b""
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                *complete, buf = buf.split(b"\n")
                with self.lock:
                    self.lines.extend(l.decode(errors="replace") for l in complete)

    def metrics(self, service: str, command: str) -> dict[str, list[float]]:
        prefix = f"icinga2.{HOST.replace('.', '_')}.services.{service}.{command}.perfdata."
        out: dict[str, list[float]] = {}
        with self.lock:
            for line in self.lines:
                parts = line.split()
                if len(parts) == 3 and parts[0].startswith(prefix):
                    out.setdefault(parts[0][len(prefix):], []).append(float(parts[1]))
        return out

    def close(self) -> None:
        self.sock.close()


def perfdata_records(perf_dir: Path) -> list[dict[str, str]]:
    records = []
    for f in sorted(perf_dir.glob("service-perfdata*")):
        for line in f.read_text(errors="replace").splitlines():
            fields = dict(part.split("::", 1) for part in line.split("\t") if "::" in part)
            if fields:
                records.append(fields)
    return records


STATE_NAMES = {"0": "OK", "1": "WARNING", "2": "CRITICAL", "3": "UNKNOWN"}


def state_of(record: dict[str, str]) -> str:
    s = record.get("SERVICESTATE", "")
    return STATE_NAMES.get(s, s)


def run() -> None:
    icinga2 = icinga2_binary()
    stack = t.Stack()
    user = "t31"
    stack.empty(user)
    password = stack.password(user)
    expected = {  # service -> (command, state Icinga must record)
        "roundtrip": ("mail_roundtrip", "OK"),
        "login": ("mailbox_receive", "OK"),
        "refused": ("mail_send", "CRITICAL"),
        "usage": ("mail_send", "UNKNOWN"),
    }
    sink = GraphiteSink()
    with t.temp_dir("mp-icinga2-run-") as tmp:
        perf = tmp / "perf"
        perf.mkdir()
        (tmp / "perf-tmp").mkdir()
        (tmp / "state").mkdir()
        refused_port = free_port()
        conf = tmp / "icinga2.conf"
        conf.write_text(base_config(t.bin_dir()) + f"""
object CheckerComponent "checker" {{}}
object PerfdataWriter "perfdata" {{
  host_perfdata_path = {quote(str(perf / "host-perfdata"))}
  service_perfdata_path = {quote(str(perf / "service-perfdata"))}
  host_temp_path = {quote(str(tmp / "perf-tmp" / "host-perfdata"))}
  service_temp_path = {quote(str(tmp / "perf-tmp" / "service-perfdata"))}
  rotation_interval = 1s
}}
object GraphiteWriter "graphite" {{
  host = "127.0.0.1"
  port = {sink.port}
  enable_send_thresholds = true
}}
template Service "fast" {{
  host_name = {quote(HOST)}
  check_interval = 1s
  retry_interval = 1s
  max_check_attempts = 1
  vars.mailprobe_timeout = 20
  vars.mailprobe_state_dir = {quote(str(tmp / "state"))}
}}
object Host {quote(HOST)} {{
  check_command = "dummy"
  check_interval = 1s
  address = {quote(stack.host)}
}}
object Service "roundtrip" {{
  import "fast"
  check_command = "mail_roundtrip"
  vars.mailprobe_smtp_host = "$address$"
  vars.mailprobe_smtp_port = {stack.smtp_port}
  vars.mailprobe_to = [ {quote(stack.address(user))} ]
  vars.mailprobe_mailbox = {quote(stack.imap_url(user))}
  vars.mailprobe_mailbox_password = {quote(password)}
  vars.mailprobe_probe_name = "icinga2-packaging-test"
  vars.mailprobe_wait = 15
  vars.mailprobe_warning = 10
  vars.mailprobe_critical = 30
}}
object Service "login" {{
  import "fast"
  check_command = "mailbox_receive"
  vars.mailprobe_login_only = true
  vars.mailprobe_mailbox = {quote(stack.imap_url(user))}
  vars.mailprobe_mailbox_password_file = {quote(stack.pass_file(user))}
}}
object Service "refused" {{
  import "fast"
  check_command = "mail_send"
  vars.mailprobe_smtp_host = "127.0.0.1"
  vars.mailprobe_smtp_port = {refused_port}
  vars.mailprobe_to = {quote(stack.address(user))}
}}
object Service "usage" {{
  import "fast"
  check_command = "mail_send"
  vars.mailprobe_smtp_host = "127.0.0.1"
}}
""")
        log_path = tmp / "icinga2.log"
        p = t.run([icinga2, "daemon", "-C", "-c", conf, *defines(tmp)], check_rc=False)
        t.check(p.returncode == 0, f"config invalid:\n{p.stdout}{p.stderr}")
        t0 = time.monotonic()
        try:
            # Icinga 2 writes icinga2.state (checked below) only when it shuts down cleanly.
            # SIGTERM to its umbrella process alone, which stops the worker: with the whole
            # group signalled at once it sometimes never finished shutting down.
            with t.daemon([icinga2, "daemon", "-c", conf, *defines(tmp), "-x", "notice"],
                          log_path, "icinga2", marker="/mp-icinga2-run-", stop_timeout=90,
                          term_leader_only=True):

                def done():
                    recs = perfdata_records(perf)
                    seen = {}
                    for r in recs:
                        seen.setdefault(r.get("SERVICEDESC"), []).append(r)
                    if not all(s in seen for s in expected):
                        return None
                    graphite = sink.metrics("roundtrip", "mail_roundtrip")
                    for r in seen["roundtrip"]:
                        if state_of(r) == "OK" and passed_on(r, graphite):
                            return seen, r
                    return None

                seen, rec = t.wait_for(done, 90, "Icinga 2 to run every service and write its "
                                  "perfdata (see the log below on failure)", interval=0.5)
                elapsed = time.monotonic() - t0
        finally:
            icinga_log = log_path.read_text(errors="replace") if log_path.exists() else ""
            tail = "\n".join(icinga_log.splitlines()[-40:])
            print(f"---- last lines of {log_path}\n{tail}\n----")
            sink.close()
        t.log(f"Icinga 2 ran all services within {elapsed:.1f} s of starting")

        # the states Icinga recorded (PerfdataWriter: SERVICESTATE as Icinga saw it)
        for service, (command, state) in expected.items():
            last = seen[service][-1]
            t.log(f"{service}: {state_of(last)} {last.get('SERVICEPERFDATA', '')}")
            t.check(last.get("SERVICECHECKCOMMAND") == command,
                    f"{service}: check command {last.get('SERVICECHECKCOMMAND')} != {command}")
            states = {state_of(r) for r in seen[service]}
            t.check(states == {state}, f"{service}: Icinga recorded {states}, expected {state}")

        # the same from Icinga's state file, written when the daemon shut down
        codes = {v: k for k, v in STATE_NAMES.items()}
        state = read_state_file(tmp / "lib" / "icinga2.state")
        for service, (command, want) in expected.items():
            cr = state.get(f"{HOST}!{service}", {}).get("last_check_result")
            t.check(cr is not None, f"{service}: no last_check_result in icinga2.state")
            t.check(str(int(cr["state"])) == codes[want],
                    f"{service}: icinga2.state has state {cr['state']}, expected {want}")
            t.check(password not in " ".join(cr["command"]), "password on the command line")
        t.log("icinga2.state agrees: " + ", ".join(
            f"{s}={STATE_NAMES[str(int(state[f'{HOST}!{s}']['last_check_result']['state']))]}"
            for s in expected))

        # every perfdata value of the round trip parsed by Icinga (GraphiteWriter sends only
        # values it parsed: value, and with enable_send_thresholds warn, crit, min, max)
        raw = t.parse_perfdata(rec["SERVICEPERFDATA"])
        must = {"delivery", "smtp_connect", "smtp_transaction", "mailbox_connect",
                "mailbox_login", "mailbox_search", "mailbox_delete", "stale_removed", "time"}
        t.check(must <= set(raw), f"round trip perfdata lacks {sorted(must - set(raw))}")
        graphite = sink.metrics("roundtrip", "mail_roundtrip")
        for label, d in raw.items():
            values = graphite.get(f"{label}.value", [])
            t.check(any(abs(v - d["value"]) < 1e-9 for v in values),
                    f"Icinga did not pass on {label}={d['value']} (Graphite got {values})")
            if d["min"]:
                t.check(f"{label}.min" in graphite, f"{label}: min {d['min']} not parsed")
        t.check(graphite.get("delivery.warn") and graphite["delivery.warn"][0] == 10.0,
                f"delivery warn threshold not parsed: {graphite.get('delivery.warn')}")
        t.check(graphite.get("delivery.crit") and graphite["delivery.crit"][0] == 30.0,
                f"delivery crit threshold not parsed: {graphite.get('delivery.crit')}")
        login = t.parse_perfdata(seen["login"][-1]["SERVICEPERFDATA"])
        t.check({"messages", "time"} <= set(login), f"login perfdata: {sorted(login)}")

        # Icinga's own complaints, and the secret
        bad = [l for l in icinga_log.splitlines()
               if re.search(r"invalid perfdata|critical/|warning/(PluginUtility|GraphiteWriter|"
                            r"PerfdataWriter|Checkable|PluginCheckTask)", l, re.I)]
        t.check(not bad, "Icinga 2 complained:\n" + "\n".join(bad))
        commands = [l for l in icinga_log.splitlines() if "Running command" in l]
        t.check(any("check_mail_roundtrip" in l for l in commands), "no command lines logged")
        t.check(password not in icinga_log, "the mailbox password appears in the Icinga log")
        t.check(not any("--mailbox-password'" in l for l in commands),
                "a password went on the command line")
    t.log(f"OK: Icinga 2 recorded {', '.join(f'{s}={v[1]}' for s, v in expected.items())} and "
          f"parsed all {len(raw)} perfdata values of the round trip "
          f"({', '.join(sorted(raw))})")


def read_state_file(path: Path) -> dict[str, dict]:
    """Service/Host name -> 'update' attributes, from Icinga's netstring state file."""
    import json
    data = path.read_bytes()
    out, i = {}, 0
    while i < len(data):
        j = data.index(b":", i)
        n = int(data[i:j])
        obj = json.loads(data[j + 1:j + 1 + n])
        i = j + 1 + n + 1
        if obj.get("type") in ("Service", "Host"):
            out[obj["name"]] = obj.get("update", {})
    return out


def passed_on(record: dict[str, str], graphite: dict[str, list[float]]) -> bool:
    """Did Graphite get every perfdata value of this check result?"""
    raw = t.parse_perfdata(record.get("SERVICEPERFDATA", ""))
    return bool(raw) and all(
        any(abs(v - d["value"]) < 1e-9 for v in graphite.get(f"{label}.value", []))
        for label, d in raw.items())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    load_flags()
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "config":
        config()
    elif cmd == "run":
        run()
    else:
        t.fail(__doc__)


if __name__ == "__main__":
    main()
