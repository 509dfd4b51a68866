#!/usr/bin/env python3
"""The Zabbix 6.0 templates in a real Zabbix server (Debian 12's zabbix-server-pgsql).

A private PostgreSQL cluster, zabbix_server and the frontend's API (zbxserver.py); then, as
an admin would do it in the web interface, through the API:
  * configuration.import of packaging/zabbix/mailprobe_templates.yaml: all four templates;
  * host "mailprobe-stack" linking all four, its macros set for the test mail stack
    (round trip, send and receive on t77 with one shared probe key, the relay's
    authenticated submission into t78 with the stack's CA through an OPTION macro);
  * host "mailprobe-refused" linking the send template with a closed SMTP port.
zabbix_server (ExternalScripts: links to the built plugins, Timeout=30) polls the external
checks; the test reads what Zabbix stored (item.get lastvalue of the master and dependent
items, trigger.get) and asserts: every state item 0 (OK) on the good host with the
metrics the plugin measured, no trigger in PROBLEM there, the receiver found the
sender's probe, the relay's hop discovery rule created one item per hop; the refused send
stored state 2 and its CRITICAL trigger is PROBLEM.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pkgtest as t  # noqa: E402
import zbxserver as z  # noqa: E402

TEMPLATES = t.source_dir() / "packaging" / "zabbix" / "mailprobe_templates.yaml"
WAIT_VALUES = 90  # s for the server to poll every check (intervals: host_macros)
SHORT = {"check_mail_send": "mail_send", "check_mail_roundtrip": "roundtrip",
         "check_mail_relay": "relay", "check_mailbox_receive": "receive"}
IMPORT_RULES = {
    "groups": {"createMissing": True},
    "templates": {"createMissing": True, "updateExisting": True},
    "items": {"createMissing": True, "updateExisting": True},
    "triggers": {"createMissing": True, "updateExisting": True},
    "discoveryRules": {"createMissing": True, "updateExisting": True},
    "valueMaps": {"createMissing": True, "updateExisting": True},
    "templateLinkage": {"createMissing": True},
}


def ports(stack: t.Stack) -> tuple[int, int, int, int]:
    """PostgreSQL, zabbix_server, php -S, a closed port: offsets 900-903 of the stack's
    port base, which the stack itself does not use (its ports end at +995)."""
    base = int(stack.env["MS_PORT_BASE"])
    return base + 900, base + 901, base + 902, base + 903


def secrets(tmp: Path, stack: t.Stack, user: str) -> dict[str, str]:
    """Copies of the stack's password files and a probe key, readable by USER only (as
    README.integration.md has the admin do it in /etc/zabbix/mailprobe)."""
    d = z.own(tmp / "secrets", user, 0o700)
    files = {}
    for name in ("t77", "t78", "relayuser"):
        files[name] = d / f"{name}.pass"
        shutil.copyfile(stack.pass_file(name), files[name])
    files["key"] = d / "probe.key"
    files["key"].write_text(os.urandom(32).hex() + "\n")  # openssl rand -hex 32
    files["ca"] = d / "ca.pem"
    shutil.copyfile(stack.ca, files["ca"])
    for f in files.values():
        z.own(f, user, 0o600)
    return {k: str(v) for k, v in files.items()}


def host_macros(stack: t.Stack, files: dict[str, str]) -> dict[str, str]:
    m = {"{$MAILPROBE.PROBE.NAME}": "zabbix-server-test",
         "{$MAILPROBE.PROBE.KEY.FILE}": files["key"],
         # the receiver polls often, so it also runs after the first send
         "{$MAILPROBE.RECEIVE.INTERVAL}": "10s",
         "{$MAILPROBE.RELAY.SMTP.PORT}": str(stack.relay_submission_port),
         "{$MAILPROBE.RELAY.SMTP.USER}": "relayuser",
         "{$MAILPROBE.RELAY.SMTP.PASSWORD.FILE}": files["relayuser"],
         "{$MAILPROBE.RELAY.OPTION1}": f"--cacert={files['ca']}",
         "{$MAILPROBE.RELAY.TO}": stack.address("t78"),
         "{$MAILPROBE.RELAY.MAILBOX}": stack.imap_url("t78"),
         "{$MAILPROBE.RELAY.MAILBOX.PASSWORD.FILE}": files["t78"]}
    for short in ("SEND", "ROUNDTRIP", "RELAY"):
        m.setdefault(f"{{$MAILPROBE.{short}.INTERVAL}}", "30s")
    for short in ("SEND", "ROUNDTRIP"):
        m[f"{{$MAILPROBE.{short}.TO}}"] = stack.address("t77")
        m[f"{{$MAILPROBE.{short}.SMTP.PORT}}"] = str(stack.smtp_port)
    for short in ("ROUNDTRIP", "RECEIVE"):
        m[f"{{$MAILPROBE.{short}.MAILBOX}}"] = stack.imap_url("t77")
        m[f"{{$MAILPROBE.{short}.MAILBOX.PASSWORD.FILE}}"] = files["t77"]
    return m


def create_host(api: z.Api, name: str, ip: str, templates: dict[str, str],
                macros: dict[str, str]) -> str:
    group = api.call("hostgroup.get", {"filter": {"name": ["Linux servers"]},
                                       "output": ["groupid"]})
    t.check(len(group) == 1, f"host group 'Linux servers': {group}")
    result = api.call("host.create", {
        "host": name,
        "interfaces": [{"type": 1, "main": 1, "useip": 1, "ip": ip, "dns": "", "port": "10050"}],
        "groups": [{"groupid": group[0]["groupid"]}],
        "templates": [{"templateid": i} for i in templates.values()],
        "macros": [{"macro": k, "value": v} for k, v in macros.items()]})
    return result["hostids"][0]


def items(api: z.Api, hostid: str) -> dict[str, dict]:
    got = api.call("item.get", {"hostids": hostid, "output": ["key_", "lastvalue", "lastclock",
                                                              "state", "error", "type"]})
    return {i["key_"]: i for i in got}


def polled(api: z.Api, hostid: str, want: dict[str, str]) -> dict | None:
    """Items of HOSTID once every state key in WANT stored the wanted value, else None."""
    got = items(api, hostid)
    for key, value in want.items():
        item = got.get(key)
        if not item or item["lastclock"] == "0" or item["lastvalue"] != value:
            return None
    return got


def master(got: dict[str, dict], plugin: str) -> dict:
    keys = [k for k, i in got.items() if k.startswith(plugin + "[") and i["type"] == "10"]
    t.check(len(keys) == 1, f"{plugin}: master item keys {keys}")
    item = got[keys[0]]
    t.check(item["state"] == "0", f"{plugin}: master item not supported: {item['error']}")
    return json.loads(item["lastvalue"])


def problems(api: z.Api, hostid: str) -> dict[str, str]:
    trig = api.call("trigger.get", {"hostids": hostid, "output": ["description", "value",
                                                                   "state", "error"]})
    for tr in trig:
        t.check(tr["state"] == "0", f"trigger '{tr['description']}' unknown: {tr['error']}")
    return {tr["description"]: tr["value"] for tr in trig}


def configure(api: z.Api, stack: t.Stack, files: dict[str, str], closed_port: int):
    """What an admin does in the web interface: import the templates, link them to hosts
    and set the macros. Returns the host ids (good, refused)."""
    t.wait_for(api.reachable, 30, "the Zabbix API (php -S)")
    api.login()
    t.log(f"Zabbix API {api.call('apiinfo.version', [])}: logged in as Admin")
    t.check(api.call("configuration.import", {
        "format": "yaml", "source": TEMPLATES.read_text(), "rules": IMPORT_RULES}) is True,
        "configuration.import did not return true")
    tpls = {tp["host"]: tp["templateid"] for tp in api.call(
        "template.get", {"search": {"host": "Mailprobe"}, "output": ["host"]})}
    t.log(f"imported templates: {sorted(tpls)}")
    t.check(len(tpls) == 4, f"templates after the import: {sorted(tpls)}")
    # the stock host "Zabbix server" polls an agent that is not there: off
    for h in api.call("host.get", {"filter": {"host": ["Zabbix server"]}, "output": ["hostid"]}):
        api.call("host.update", {"hostid": h["hostid"], "status": 1})
    macros = host_macros(stack, files)
    good = create_host(api, "mailprobe-stack", stack.host, tpls, macros)
    refused = create_host(api, "mailprobe-refused", stack.host,
                          {"send": tpls["Mailprobe mail send"]},
                          dict(macros, **{"{$MAILPROBE.SEND.SMTP.PORT}": str(closed_port)}))
    return good, refused


def main() -> None:
    z.ensure_packages()
    stack = t.Stack()
    for user in ("t77", "t78"):
        stack.empty(user)
    pg_port, server_port, web_port, closed_port = ports(stack)
    prefix, user = z.run_as()
    with t.temp_dir("mp-zabbix-server-") as tmp, z.postgres(tmp, pg_port):
        files = secrets(tmp, stack, user)
        scripts = tmp / "externalscripts"  # as the README has the admin link them
        scripts.mkdir()
        for plugin in t.PLUGINS:
            (scripts / plugin).symlink_to(t.bin_dir() / plugin)
        state_dir = z.own(tmp / "state", user, 0o700)
        web = z.frontend_root(tmp, pg_port, server_port)
        with t.daemon(prefix + ["php", "-S", f"127.0.0.1:{web_port}", "-t", web],
                      tmp / "php.log", "php -S (zabbix_server test)",
                      marker=f"php -S 127.0.0.1:{web_port}"):
            api = z.Api(web_port)
            good, refused = configure(api, stack, files, closed_port)
            conf = z.server_config(tmp, pg_port, scripts)
            server_log = tmp / "run" / "zabbix_server.log"
            # the external checks inherit this: the round trips' state outside /var/lib
            with t.daemon([z.SERVER, "-f", "-c", conf], tmp / "zabbix_server.out",
                          "zabbix_server (test)", marker=f"{z.SERVER} -f -c ",
                          env_extra={"MAILPROBE_STATE_DIR": str(state_dir)}) as server:
                run_checks(api, good, refused, server, server_log)
            # the round trips kept their key where the server's environment said, not in
            # the live /var/lib/mailprobe
            t.check(any(state_dir.iterdir()), f"nothing in {state_dir}: MAILPROBE_STATE_DIR "
                    f"did not reach the external checks")


def show_stored(api: z.Api, hostids) -> None:
    """What Zabbix stored, for the log (and the issue's closing note)."""
    for hostid in hostids:
        host = api.call("host.get", {"hostids": hostid, "output": ["host"]})[0]["host"]
        for key, item in sorted(items(api, hostid).items()):
            if item["lastclock"] == "0" and not item["error"]:
                continue  # no value yet
            shown = key.split("[")[0] + "[...]" if key.startswith("check_") else key
            error = f", {item['error']}" if item["error"] else ""
            t.log(f"  {host}: {shown} = {item['lastvalue'][:1500]!r} (state {item['state']}{error})")


def check_hop_discovery(api: z.Api, hostid: str, relay: dict) -> None:
    """The relay template's discovery rule (JavaScript in Zabbix's own engine) created one
    item per hopN_delay metric of the relay's result."""
    hops = sorted(k[3:-6] for k in relay["metrics"] if k.startswith("hop") and k.endswith("_delay"))
    t.check(len(hops) >= 2, f"relay: hops {hops}")
    want = {f"mailprobe.relay.hop[{h}]" for h in hops}

    def discovered():
        rule = api.call("discoveryrule.get", {"hostids": hostid, "output": ["state", "error"]})
        t.check(all(r["state"] == "0" for r in rule), f"hop discovery rule: {rule}")
        return want <= set(items(api, hostid))

    t.wait_for(discovered, 30, f"the relay's hop discovery to create {sorted(want)}", interval=2)
    t.log(f"hop discovery created {sorted(want)}")


def run_checks(api: z.Api, good: str, refused: str, server, server_log: Path) -> None:
    want = {f"mailprobe.{SHORT[p]}.state": "0" for p in t.PLUGINS}
    t0 = time.monotonic()

    def both():
        t.check(server.poll() is None, f"zabbix_server exited {server.returncode}")
        a = polled(api, good, want)
        b = a and polled(api, refused, {"mailprobe.mail_send.state": "2"})
        return (a, b) if b else None

    ok = False
    try:
        got, bad = t.wait_for(both, WAIT_VALUES, "the server to store every check's state",
                              interval=2)
        ok = True
    finally:
        show_stored(api, (good, refused))
        for f in (server_log, server_log.parent.parent / "zabbix_server.out"):
            if not ok and f.exists():
                lines = f.read_text().splitlines()
                t.log(f"{f.name}, last lines:\n" + "\n".join(lines[-25:]))
    t.log(f"every check polled and stored after {time.monotonic() - t0:.0f} s")
    for plugin in t.PLUGINS:
        pre = f"mailprobe.{SHORT[plugin]}"
        doc = master(got, plugin)
        t.check(doc["state"] == "OK" and doc["exit_code"] == 0, f"{plugin}: {doc['summary']}")
        t.check(got[f"{pre}.summary"]["lastvalue"] == doc["summary"],
                f"{plugin}: the summary item differs from the JSON")
        t.check(abs(float(got[f"{pre}.time"]["lastvalue"]) - doc["metrics"]["time"]) < 1e-3,
                f"{plugin}: the time item differs from the JSON")
    rec = master(got, "check_mailbox_receive")
    t.check(rec["metrics"].get("probes_found", 0) >= 1, f"receiver: {rec['summary']}")
    t.check(float(got["mailprobe.roundtrip.delivery"]["lastvalue"]) > 0, "roundtrip delivery")
    check_hop_discovery(api, good, master(got, "check_mail_relay"))
    states = problems(api, good)
    t.check("1" not in states.values(),
            f"triggers in PROBLEM on the good host: {[d for d, v in states.items() if v == '1']}")
    doc = master(bad, "check_mail_send")
    t.check(doc["state"] == "CRITICAL", f"refused send: {doc}")
    fired = [d for d, v in problems(api, refused).items() if v == "1"]
    t.check(fired == ["Mail send is CRITICAL"], f"refused send: triggers in PROBLEM {fired}")
    t.log("OK: four templates imported into Zabbix 6.0 and polled by zabbix_server; stored: "
          + ", ".join(f"{p} {master(got, p)['state']}" for p in t.PLUGINS)
          + f"; refused send {doc['state']}, trigger 'Mail send is CRITICAL' in PROBLEM")


if __name__ == "__main__":
    main()
