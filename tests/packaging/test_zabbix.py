#!/usr/bin/env python3
"""The Zabbix 6.0 templates (packaging/zabbix/mailprobe_templates.yaml) against real output.

No Zabbix server runs here. The test checks what a template import and the server would
rely on, then plays the server's part with the built plugins and the test mail stack
(user t33):
  * the committed YAML is what packaging/zabbix/gen_templates.py prints;
  * structure: version 6.0, UUIDv4s (unique), one EXTERNAL master item per template whose
    key runs the plugin with --output json, every dependent item's master exists, every
    trigger expression names an item of its template, every {$MACRO} in a key is defined;
  * all four templates linked to one host: a macro that two templates define has one
    value (Zabbix would silently pick one); sender and receiver share the key file macro;
  * for each template: the master key's parameters (the host's macros set for the test
    stack, the relay's CA through the extra-option macro) are run as an external check
    runs them (sh -c, every parameter single-quoted, empty macros as ''); stdout must be one JSON object; every
    dependent item's JSONPath is evaluated on it (and the relay's hop discovery): every
    item not marked optional gets a value, every metric the plugin reported has an item,
    and the state triggers fire as they should;
  * usage errors (bad option, bad value) are JSON too, so the state item becomes 3.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pkgtest as t  # noqa: E402

TEMPLATES = t.source_dir() / "packaging" / "zabbix" / "mailprobe_templates.yaml"
GENERATOR = t.source_dir() / "packaging" / "zabbix" / "gen_templates.py"
STATE_DIR = ""  # main() sets a temporary directory
UUID4 = re.compile(r"^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$")


def all_uuids(node, out: list[str]) -> list[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "uuid":
                out.append(v)
            else:
                all_uuids(v, out)
    elif isinstance(node, list):
        for v in node:
            all_uuids(v, out)
    return out


def key_params(key: str) -> tuple[str, list[str]]:
    """Zabbix item key -> (name, parameters); quoted parameters only, as ours are."""
    m = re.fullmatch(r"([\w.-]+)\[(.*)\]", key, re.S)
    t.check(m is not None, f"not an item key with parameters: {key}")
    params = re.findall(r'"((?:[^"\\]|\\.)*)"(?:,|$)', m.group(2))
    t.check(",".join(f'"{p}"' for p in params) == m.group(2), f"cannot split key {key}")
    return m.group(1), [p.replace('\\"', '"') for p in params]


def jsonpath(doc, path: str):
    """The $.a.b subset of JSONPath that the templates use; KeyError when absent."""
    t.check(path.startswith("$."), f"unsupported JSONPath {path}")
    node = doc
    for part in path[2:].split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(path)
        node = node[part]
    return node


def trigger_items(expression: str, template: str) -> list[str]:
    """Item keys an expression references as /TEMPLATE/KEY."""
    keys = []
    prefix = f"/{template}/"
    pos = expression.find(prefix)
    while pos >= 0:
        rest = expression[pos + len(prefix):]
        m = re.match(r"[\w.-]+(\[[^\]]*\])?", rest)
        keys.append(m.group(0))
        pos = expression.find(prefix, pos + 1)
    return keys


def check_structure(doc) -> list[dict]:
    export = doc["zabbix_export"]
    t.check(export["version"] == "6.0", f"version {export['version']}")
    uuids = all_uuids(doc, [])
    t.check(all(UUID4.match(u) for u in uuids), "a uuid is not a UUIDv4 (32 hex digits)")
    t.check(len(uuids) == len(set(uuids)), "duplicate uuids")
    group_names = {g["name"] for g in export["groups"]}
    templates = export["templates"]
    t.check(len(templates) == 4, f"{len(templates)} templates")
    for tpl in templates:
        name = tpl["template"]
        t.check({g["name"] for g in tpl["groups"]} <= group_names, f"{name}: unknown group")
        items = tpl["items"]
        masters = [i for i in items if i["type"] == "EXTERNAL"]
        t.check(len(masters) == 1, f"{name}: {len(masters)} external items")
        master = masters[0]
        plugin, params = key_params(master["key"])
        t.check(plugin in t.PLUGINS, f"{name}: master runs {plugin}")
        t.check(params[:2] == ["--output", "json"], f"{name}: master lacks --output json")
        t.check(master["value_type"] == "TEXT", f"{name}: master value_type")
        macros = {m["macro"] for m in tpl.get("macros", [])}
        used = set(re.findall(r"\{\$[A-Z0-9_.]+\}", json.dumps(tpl)))
        t.check(used <= macros, f"{name}: undefined macros {sorted(used - macros)}")
        keys = {i["key"] for i in items}
        valuemaps = {v["name"] for v in tpl.get("valuemaps", [])}
        dependents = [i for i in items if i["type"] == "DEPENDENT"]
        for lld in tpl.get("discovery_rules", []):
            dependents += [lld] + lld.get("item_prototypes", [])
        for i in dependents:
            t.check(i["master_item"]["key"] == master["key"], f"{name}: {i['key']} master")
            t.check(i.get("preprocessing"), f"{name}: {i['key']} has no preprocessing")
        for i in items:
            if "valuemap" in i:
                t.check(i["valuemap"]["name"] in valuemaps, f"{name}: valuemap of {i['key']}")
            for trig in i.get("triggers", []):
                refs = trigger_items(trig["expression"], name)
                t.check(refs and all(r in keys for r in refs),
                        f"{name}: trigger '{trig['name']}' references {refs}")
                t.check(trig["priority"] in ("INFO", "WARNING", "AVERAGE", "HIGH", "DISASTER"),
                        f"{name}: priority {trig['priority']}")
        tpl["_master"] = master
        tpl["_plugin"] = plugin
        tpl["_params"] = params
    return templates


def resolve(params: list[str], values: dict[str, str]) -> list[str]:
    argv = []
    for p in params:
        for macro, value in values.items():
            p = p.replace(macro, value)
        t.check("{" not in p, f"unresolved macro in parameter {p}")
        argv.append(p)
    return argv


def run_master(plugin: str, params: list[str], values: dict[str, str],
               extra: list[str] = ()) -> tuple[dict, str]:
    """Runs the key as Zabbix 6.0 runs an external check: /bin/sh -c with every key
    parameter single-quoted (so an empty macro is one empty argument)."""
    argv = resolve(params, values) + list(extra)
    quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in argv)
    cmd = f"{t.bin_dir() / plugin} {quoted}"
    t.log("$ sh -c " + cmd)
    # the round trips' default state directory would be the live /var/lib/mailprobe
    env = dict(os.environ, MAILPROBE_STATE_DIR=STATE_DIR)
    p = subprocess.run(["/bin/sh", "-c", cmd], capture_output=True, text=True, timeout=60, env=env)
    try:
        doc = json.loads(p.stdout)
    except json.JSONDecodeError:
        t.fail(f"{plugin}: stdout is not one JSON object (exit {p.returncode}):\n{p.stdout}{p.stderr}")
    t.check(doc["exit_code"] == p.returncode, f"{plugin}: exit_code {doc['exit_code']} != {p.returncode}")
    return doc, p.stdout


def linked_to_one_host(templates: list[dict]) -> dict[str, str]:
    """The template macros a host sees with all four templates linked. Zabbix picks one
    template's value when several define a macro, so a macro defined twice must have one
    value (else e.g. a round trip gets the send template's -t 20 with --wait 20)."""
    values: dict[str, tuple[str, str]] = {}
    for tpl in templates:
        for m in tpl.get("macros", []):
            seen = values.setdefault(m["macro"], (m["value"], tpl["template"]))
            t.check(seen[0] == m["value"],
                    f"macro {m['macro']} is '{seen[0]}' in '{seen[1]}' but '{m['value']}' in "
                    f"'{tpl['template']}': linked to one host, one of them silently wins")
    return {k: v for k, (v, _) in values.items()}


def evaluate(tpl: dict, doc: dict) -> dict[str, object]:
    """What the server would store: item key -> value (or None when discarded)."""
    name = tpl["template"]
    stored: dict[str, object] = {}
    for item in tpl["items"]:
        if item["type"] != "DEPENDENT":
            continue
        step = item["preprocessing"][0]
        t.check(step["type"] == "JSONPATH", f"{item['key']}: {step['type']}")
        try:
            value = jsonpath(doc, step["parameters"][0])
        except KeyError:
            t.check(step.get("error_handler") == "DISCARD_VALUE",
                    f"{name}: {item['key']} ({step['parameters'][0]}) has no value and would "
                    f"become unsupported")
            value = None
        if value is not None and item.get("value_type", "UNSIGNED") in ("FLOAT", "UNSIGNED"):
            t.check(isinstance(value, (int, float)), f"{item['key']}: {value!r} is not numeric")
        stored[item["key"]] = value
    for lld in tpl.get("discovery_rules", []):
        # the rule's JavaScript, done the same way: one {#HOP} per hopN_delay metric
        hops = [m.group(1) for label in doc.get("metrics", {})
                if (m := re.fullmatch(r"hop([0-9]+)_delay", label))]
        for proto in lld["item_prototypes"]:
            for hop in hops:
                path = proto["preprocessing"][0]["parameters"][0].replace("{#HOP}", hop)
                stored[proto["key"].replace("{#HOP}", hop)] = jsonpath(doc, path)
        stored["_hops"] = hops
    return stored


def fired_triggers(tpl: dict, stored: dict) -> list[str]:
    fired = []
    for item in tpl["items"]:
        for trig in item.get("triggers", []):
            m = re.fullmatch(r"last\(/[^/]+/([\w.]+)\)=(\d+)", trig["expression"])
            if m and stored.get(m.group(1)) == int(m.group(2)):
                fired.append(trig["name"])
    return fired


def main() -> None:
    yaml = t.ensure_python_module("yaml", "python3-yaml")
    fresh = t.run([sys.executable, GENERATOR], quiet=True).stdout
    t.check(fresh == TEMPLATES.read_text(),
            f"{TEMPLATES.name} is not what gen_templates.py prints: regenerate and commit it")
    templates = check_structure(yaml.safe_load(TEMPLATES.read_text()))
    t.log(f"structure OK: {len(templates)} templates, "
          f"{sum(len(x['items']) for x in templates)} items")

    defaults = linked_to_one_host(templates)
    stack = t.Stack()
    user = "t33"
    stack.empty(user)
    by_plugin = {tpl["_plugin"]: tpl for tpl in templates}
    send, receive = by_plugin["check_mail_send"], by_plugin["check_mailbox_receive"]
    t.check("{$MAILPROBE.PROBE.KEY.FILE}" in send["_master"]["key"]
            and "{$MAILPROBE.PROBE.KEY.FILE}" in receive["_master"]["key"],
            "sender and receiver must default to the same probe key file")
    with t.temp_dir("mp-zabbix-") as tmp:
        global STATE_DIR
        STATE_DIR = str(tmp / "state")
        key_file = tmp / "probe.key"
        key_file.write_text(os.urandom(32).hex() + "\n")  # openssl rand -hex 32
        key_file.chmod(0o600)
        # one host with all four templates linked, its macros set as an admin would
        host = {"{HOST.CONN}": stack.host,
                "{$MAILPROBE.PROBE.NAME}": "zabbix-packaging-test",
                "{$MAILPROBE.PROBE.KEY.FILE}": str(key_file),
                "{$MAILPROBE.RELAY.SMTP.PORT}": str(stack.relay_submission_port),
                "{$MAILPROBE.RELAY.SMTP.USER}": "relayuser",
                "{$MAILPROBE.RELAY.SMTP.PASSWORD.FILE}": stack.pass_file("relayuser"),
                # the stack's CA is not in the system store: the extra-option macro
                "{$MAILPROBE.RELAY.OPTION1}": f"--cacert={stack.ca}"}
        for short in ("SEND", "ROUNDTRIP", "RELAY"):
            host[f"{{$MAILPROBE.{short}.TO}}"] = stack.address(user)
        for short in ("SEND", "ROUNDTRIP"):
            host[f"{{$MAILPROBE.{short}.SMTP.PORT}}"] = str(stack.smtp_port)
        for short in ("ROUNDTRIP", "RELAY", "RECEIVE"):
            host[f"{{$MAILPROBE.{short}.MAILBOX}}"] = stack.imap_url(user)
            host[f"{{$MAILPROBE.{short}.MAILBOX.PASSWORD.FILE}}"] = stack.pass_file(user)
        values = dict(defaults, **host)
        # the sender first: check_mailbox_receive then finds its probe
        order = ["check_mail_send", "check_mailbox_receive", "check_mail_roundtrip",
                 "check_mail_relay"]
        summary = []
        for plugin in order:
            tpl = by_plugin[plugin]
            doc, raw = run_master(plugin, tpl["_params"], values)
            t.log(raw.strip())
            t.check(doc["state"] == "OK", f"{plugin}: {doc['state']} - {doc['summary']}")
            stored = evaluate(tpl, doc)
            covered = {i["preprocessing"][0]["parameters"][0] for i in tpl["items"]
                       if i["type"] == "DEPENDENT"}
            for label in doc["metrics"]:
                t.check(f"$.metrics.{label}" in covered or re.fullmatch(r"hop\d+_delay", label)
                        and tpl.get("discovery_rules"),
                        f"{tpl['template']}: metric {label} has no item")
            if plugin == "check_mail_relay":
                t.check(len(stored["_hops"]) >= 2, f"relay: hops discovered {stored['_hops']}")
            if plugin == "check_mailbox_receive":
                t.check(doc["metrics"].get("probes_found", 0) >= 1, "receiver found no probe")
            t.check(fired_triggers(tpl, stored) == [], f"{plugin}: triggers fired on OK")
            got = sum(1 for k, v in stored.items() if v is not None and not k.startswith("_"))
            summary.append(f"{plugin}: {got} item values")

        # usage errors: still one JSON object, state item 3, the UNKNOWN trigger fires
        tpl = by_plugin["check_mail_roundtrip"]
        for option in ("--bogus-option", "--poll-interval=soon"):
            doc, _ = run_master("check_mail_roundtrip", tpl["_params"],
                                dict(values, **{"{$MAILPROBE.ROUNDTRIP.OPTION2}": option}))
            t.check(doc["state"] == "UNKNOWN" and doc["exit_code"] == 3, f"{option}: {doc}")
            stored = evaluate(tpl, doc)
            t.check(stored["mailprobe.roundtrip.state"] == 3, f"state item: {stored}")
            t.check(fired_triggers(tpl, stored) == ["Mail roundtrip is UNKNOWN"],
                    f"triggers: {fired_triggers(tpl, stored)}")
        # a refused connection: CRITICAL, the CRITICAL trigger fires
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            free = s.getsockname()[1]
        tpl = by_plugin["check_mail_send"]
        doc, _ = run_master("check_mail_send", tpl["_params"],
                            dict(values, **{"{$MAILPROBE.SEND.SMTP.PORT}": str(free)}))
        stored = evaluate(tpl, doc)
        t.check(fired_triggers(tpl, stored) == ["Mail send is CRITICAL"],
                f"refused: {doc['state']}, triggers {fired_triggers(tpl, stored)}")
    t.log("OK: all four templates on one host without a macro collision; "
          + "; ".join(summary) + "; usage errors and failures map to the triggers")


if __name__ == "__main__":
    main()
