#!/usr/bin/env python3
"""Writes packaging/zabbix/mailprobe_templates.yaml (Zabbix 6.0 export format) to stdout.

    python3 packaging/zabbix/gen_templates.py > packaging/zabbix/mailprobe_templates.yaml

One template per plugin: a master external-check item running the plugin with
--output json, dependent items by JSONPath (state, summary, every metric), triggers on the
state, a discovery rule for the relay's hops. UUIDs are derived from the names (UUIDv4
format, as Zabbix requires), so regenerating gives the same file; tests/packaging checks
that the committed file is what this script prints.
"""
import hashlib

def uid(*parts):
    h = bytearray(hashlib.md5(("mailprobe/" + "/".join(parts)).encode()).digest())
    h[6] = (h[6] & 0x0F) | 0x40
    h[8] = (h[8] & 0x3F) | 0x80
    return h.hex()

def q(s):
    return "'" + s.replace("'", "''") + "'"

GROUP = "Templates/Applications"
STATE_MAP = "Mailprobe state"

SEND = [("smtp_connect", "SMTP connect", False), ("smtp_tls", "SMTP TLS handshake", True),
        ("smtp_transaction", "SMTP transaction", False)]
MBOX = [("mailbox_connect", "Mailbox connect", False), ("mailbox_tls", "Mailbox TLS handshake", True),
        ("mailbox_login", "Mailbox login", False)]
# only with --cert-days (add it to the key to use them); days, no unit
CERT_SMTP = [("smtp_cert_days", "SMTP certificate days left", True, "")]
CERT_MBOX = [("mailbox_cert_days", "Mailbox certificate days left", True, "")]
# what the receiving side wrote into the delivered probe: 1 = pass, 0 = anything else
VERDICTS = [("auth_spf", "SPF pass", True, ""), ("auth_dkim", "DKIM pass", True, ""),
            ("auth_dmarc", "DMARC pass", True, ""), ("hops_without_tls", "Hops without TLS", True, "")]

# Macros. Zabbix resolves a user macro that two linked templates both define to one of
# them (whichever it finds first), so every macro whose value differs per template is
# named after its template ({$MAILPROBE.ROUNDTRIP.TIMEOUT}, {$MAILPROBE.SEND.SMTP.PORT}):
# all four templates can be linked to one host. Shared macros are the ones that must be
# equal on every template: the probe name and key file that a sender and its receiver
# (setup 5) agree on.
SHARED = [("{$MAILPROBE.PROBE.NAME}", "site-a",
           "Probe name that check_mail_send and check_mailbox_receive (setup 5) agree on; shared by both templates."),
          ("{$MAILPROBE.PROBE.KEY.FILE}", "/etc/zabbix/mailprobe/probe.key",
           "Probe key (--probe-secret-file) shared by sender and receiver: make it with openssl rand -hex 32, mode 0600, owner zabbix; copy the same file to the receiving side.")]
# Enough free arguments for an OAuth2 side (mechanism, provider, tenant, client id, secret or
# certificate and key) next to --cacert or --cert-days.
EXTRA_OPTIONS = 8
# only with the built-in OAuth2 client (--oauth2-*; the certificate's days with --cert-days)
OAUTH2 = [("oauth2_token_time", "OAuth2 token request", True, "s"),
          ("oauth2_cert_days", "OAuth2 client certificate days left", True, "")]


def own(short, rest):
    return "{$MAILPROBE." + short.upper() + "." + rest + "}"


def template(short, params, macros, shared=()):
    """The key parameters and macros of one template: its own macros, the shared ones it
    uses, then EXTRA_OPTIONS free arguments (empty by default, which the plugins ignore)."""
    extra = [own(short, f"OPTION{i}") for i in range(1, EXTRA_OPTIONS + 1)]
    own_macros = [(own(short, "INTERVAL"), "5m", "How often the check runs."),
                  (own(short, "NODATA"), "30m", "Alert when the check returned nothing for this long.")]
    own_macros += [(own(short, name), value, desc) for name, value, desc in macros]
    own_macros += [(m, "", "Further plugin option, one argument each (e.g. --cacert=/etc/ssl/private-ca.pem, --cert-days=30,14, --smtp-tls=starttls, --mailbox-auth-mech=XOAUTH2, --oauth2-provider=microsoft, --oauth2-client-secret-file=/etc/zabbix/mailprobe/oauth2.secret); empty: unused.")
                   for m in extra]
    return dict(params=params + extra, macros=own_macros + [m for m in SHARED if m[0] in shared],
                interval=own(short, "INTERVAL"), nodata=own(short, "NODATA"))


def o(short, name):
    return own(short, name)


MAILBOX_DESC = "Mailbox URL: imap[s]://USER@HOST[:PORT][/FOLDER] or pop3[s]://USER@HOST[:PORT]."
PASS_DESC = "File holding the mailbox password (mode 0600, owned by zabbix)."
TIMEOUT_DESC = "Plugin deadline (-t) in seconds; keep it below the Zabbix server's Timeout (at most 30)."

templates = [
    dict(tech="Mailprobe mail send", plugin="check_mail_send", short="mail_send", title="Mail send",
         desc="Submits a tagged probe message through the host's SMTP server (check_mail_send --output json).",
         **template("send",
             ["--output", "json", "-t", o("send", "TIMEOUT"), "-H", "{HOST.CONN}",
              "-p", o("send", "SMTP.PORT"), "--to", o("send", "TO"),
              "--probe-name", "{$MAILPROBE.PROBE.NAME}",
              "--probe-secret-file", "{$MAILPROBE.PROBE.KEY.FILE}"],
             [("TIMEOUT", "20", TIMEOUT_DESC), ("SMTP.PORT", "25", "SMTP port of the host."),
              ("TO", "probe@example.org", "Recipient of the probe.")],
             shared=("{$MAILPROBE.PROBE.NAME}", "{$MAILPROBE.PROBE.KEY.FILE}")),
         metrics=[("time", "Total time", False, "s")] + [(k, n, opt, "s") for k, n, opt in SEND]
                 + CERT_SMTP + OAUTH2),
    dict(tech="Mailprobe mail roundtrip", plugin="check_mail_roundtrip", short="roundtrip",
         title="Mail roundtrip",
         desc="Sends a tagged probe through the host's SMTP server and waits for it in an IMAP/POP3 mailbox (check_mail_roundtrip --output json).",
         **template("roundtrip",
             ["--output", "json", "-t", o("roundtrip", "TIMEOUT"), "--wait", o("roundtrip", "WAIT"),
              "-w", o("roundtrip", "DELIVERY.WARN"), "-c", o("roundtrip", "DELIVERY.CRIT"),
              "-H", "{HOST.CONN}", "-p", o("roundtrip", "SMTP.PORT"), "--to", o("roundtrip", "TO"),
              "--mailbox", o("roundtrip", "MAILBOX"),
              "--mailbox-password-file", o("roundtrip", "MAILBOX.PASSWORD.FILE")],
             [("TIMEOUT", "28", TIMEOUT_DESC),
              ("WAIT", "20", "How long to wait for the probe (--wait); below the TIMEOUT macro."),
              ("DELIVERY.WARN", "10", "Delivery time (s) for the plugin's WARNING state."),
              ("DELIVERY.CRIT", "15", "Delivery time (s) for the plugin's CRITICAL state."),
              ("SMTP.PORT", "25", "SMTP port of the host."),
              ("TO", "probe@example.org", "Recipient of the probe."),
              ("MAILBOX", "imaps://probe@example.org@imap.example.org/INBOX", MAILBOX_DESC),
              ("MAILBOX.PASSWORD.FILE", "/etc/zabbix/mailprobe/probe.pass", PASS_DESC)]),
         metrics=[("delivery", "Delivery time", False, "s"), ("time", "Total time", False, "s")]
                 + [(k, n, opt, "s") for k, n, opt in SEND + MBOX]
                 + [("mailbox_search", "Mailbox search", True, "s"), ("mailbox_delete", "Probe deletion", True, "s"),
                    ("stale_removed", "Stale probes removed", True, "")] + VERDICTS + CERT_SMTP + CERT_MBOX
                 + OAUTH2),
    dict(tech="Mailprobe mail relay", plugin="check_mail_relay", short="relay", title="Mail relay",
         desc="Sends a tagged probe through the host (an authenticated smarthost) and waits for it in the final mailbox; every Received hop is measured (check_mail_relay --output json).",
         **template("relay",
             ["--output", "json", "-t", o("relay", "TIMEOUT"), "--wait", o("relay", "WAIT"),
              "-w", o("relay", "DELIVERY.WARN"), "-c", o("relay", "DELIVERY.CRIT"),
              "-H", "{HOST.CONN}", "-p", o("relay", "SMTP.PORT"), "--smtp-tls", o("relay", "SMTP.TLS"),
              "--smtp-user", o("relay", "SMTP.USER"),
              "--smtp-password-file", o("relay", "SMTP.PASSWORD.FILE"),
              "--to", o("relay", "TO"), "--mailbox", o("relay", "MAILBOX"),
              "--mailbox-password-file", o("relay", "MAILBOX.PASSWORD.FILE")],
             [("TIMEOUT", "28", TIMEOUT_DESC),
              ("WAIT", "20", "How long to wait for the probe (--wait); below the TIMEOUT macro."),
              ("DELIVERY.WARN", "10", "Delivery time (s) for the plugin's WARNING state."),
              ("DELIVERY.CRIT", "15", "Delivery time (s) for the plugin's CRITICAL state."),
              ("SMTP.PORT", "587", "Submission port of the smarthost."),
              ("SMTP.TLS", "starttls", "none, starttls or tls."),
              ("SMTP.USER", "probe", "SMTP AUTH user."),
              ("SMTP.PASSWORD.FILE", "/etc/zabbix/mailprobe/smtp.pass", "File holding the SMTP AUTH password (mode 0600, owned by zabbix)."),
              ("TO", "probe@example.org", "Recipient of the probe."),
              ("MAILBOX", "imaps://probe@example.org@imap.example.org/INBOX", MAILBOX_DESC),
              ("MAILBOX.PASSWORD.FILE", "/etc/zabbix/mailprobe/probe.pass", PASS_DESC)]),
         metrics=[("delivery", "Delivery time", False, "s"), ("time", "Total time", False, "s")]
                 + [(k, n, opt, "s") for k, n, opt in SEND + MBOX]
                 + [("mailbox_search", "Mailbox search", True, "s"), ("mailbox_delete", "Probe deletion", True, "s"),
                    ("stale_removed", "Stale probes removed", True, "")] + VERDICTS + CERT_SMTP + CERT_MBOX
                 + OAUTH2,
         hops=True),
    dict(tech="Mailprobe mailbox receive", plugin="check_mailbox_receive", short="receive",
         title="Mailbox receive",
         desc="Finds the probes another machine sent (check_mail_send with the same probe name and key) in an IMAP/POP3 mailbox and judges the age of the newest (check_mailbox_receive --output json).",
         **template("receive",
             ["--output", "json", "-t", o("receive", "TIMEOUT"),
              "-w", o("receive", "AGE.WARN"), "-c", o("receive", "AGE.CRIT"),
              "--mailbox", o("receive", "MAILBOX"),
              "--mailbox-password-file", o("receive", "MAILBOX.PASSWORD.FILE"),
              "--probe-name", "{$MAILPROBE.PROBE.NAME}",
              "--probe-secret-file", "{$MAILPROBE.PROBE.KEY.FILE}"],
             [("TIMEOUT", "20", TIMEOUT_DESC),
              ("AGE.WARN", "900", "Age (s) of the newest probe for the plugin's WARNING state."),
              ("AGE.CRIT", "1800", "Age (s) of the newest probe for the plugin's CRITICAL state."),
              ("MAILBOX", "imaps://probe@example.org@imap.example.org/INBOX", MAILBOX_DESC),
              ("MAILBOX.PASSWORD.FILE", "/etc/zabbix/mailprobe/probe.pass", PASS_DESC)],
             shared=("{$MAILPROBE.PROBE.NAME}", "{$MAILPROBE.PROBE.KEY.FILE}")),
         metrics=[("probe_age", "Newest probe age", True, "s"), ("probes_found", "Probes found", False, ""),
                  ("time", "Total time", False, "s")]
                 + [(k, n, opt, "s") for k, n, opt in MBOX]
                 + [("mailbox_delete", "Probe deletion", True, "s")] + CERT_MBOX + OAUTH2),
]

out = []
w = out.append
w("zabbix_export:")
w("  version: '6.0'")
w("  date: '2026-11-27T12:00:00Z'")
w("  groups:")
w("    - uuid: " + uid("group", GROUP))
w("      name: " + GROUP)
w("  templates:")
for t in templates:
    tech = t["tech"]
    master_key = t["plugin"] + "[" + ",".join('"' + p + '"' for p in t["params"]) + "]"
    pre = "mailprobe." + t["short"]
    w("    - uuid: " + uid("template", tech))
    w("      template: " + q(tech))
    w("      name: " + q(tech))
    w("      description: |")
    w("        " + t["desc"])
    w("        The master item is a Zabbix external check: the plugin must be reachable as " + t["plugin"])
    w("        in the server's (or proxy's) ExternalScripts directory, see /usr/share/doc/mailprobe/README.integration.md.")
    w("      groups:")
    w("        - name: " + GROUP)
    w("      items:")
    # master
    w("        - uuid: " + uid(tech, "master"))
    w("          name: " + q(t["title"] + ": plugin result (JSON)"))
    w("          type: EXTERNAL")
    w("          key: " + q(master_key))
    w("          delay: " + q(t["interval"]))
    w("          history: 7d")
    w("          trends: '0'")
    w("          value_type: TEXT")
    w("          description: 'One JSON object: service, state, exit_code, summary, metrics (every performance data value by label), details.'")
    w("          tags:")
    w("            - tag: component")
    w("              value: mail")
    w("          triggers:")
    w("            - uuid: " + uid(tech, "nodata"))
    w("              expression: " + q("nodata(/" + tech + "/" + master_key + "," + t["nodata"] + ")=1"))
    w("              name: " + q(t["title"] + ": no result for " + t["nodata"]))
    w("              priority: AVERAGE")
    w("              description: 'The external check did not return a value: plugin missing from ExternalScripts, timeout (Zabbix Timeout below the plugin''s -t) or the poller is overloaded.'")
    # state
    state_key = pre + ".state"
    summary_key = pre + ".summary"
    w("        - uuid: " + uid(tech, "state"))
    w("          name: " + q(t["title"] + ": state"))
    w("          type: DEPENDENT")
    w("          key: " + state_key)
    w("          delay: '0'")
    w("          history: 31d")
    w("          description: 'Plugin state: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the exit code a Nagios-style monitor would see).'")
    w("          valuemap:")
    w("            name: " + q(STATE_MAP))
    w("          preprocessing:")
    w("            - type: JSONPATH")
    w("              parameters:")
    w("                - $.exit_code")
    w("          master_item:")
    w("            key: " + q(master_key))
    w("          tags:")
    w("            - tag: component")
    w("              value: mail")
    w("          triggers:")
    for level, prio in (("WARNING", "WARNING"), ("CRITICAL", "HIGH"), ("UNKNOWN", "AVERAGE")):
        code = {"WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}[level]
        w("            - uuid: " + uid(tech, "trigger", level))
        w("              expression: " + q("last(/" + tech + "/" + state_key + ")=" + str(code)))
        w("              name: " + q(t["title"] + " is " + level))
        w("              opdata: '{ITEM.LASTVALUE1}'")
        w("              priority: " + prio)
        w("              description: " + q("The plugin reported " + level + "; the item '" + t["title"] + ": summary' says why."))
        w("              tags:")
        w("                - tag: scope")
        w("                  value: availability")
    w("        - uuid: " + uid(tech, "summary"))
    w("          name: " + q(t["title"] + ": summary"))
    w("          type: DEPENDENT")
    w("          key: " + summary_key)
    w("          delay: '0'")
    w("          history: 31d")
    w("          trends: '0'")
    w("          value_type: TEXT")
    w("          description: 'The status line text (the server''s own words on failure).'")
    w("          preprocessing:")
    w("            - type: JSONPATH")
    w("              parameters:")
    w("                - $.summary")
    w("          master_item:")
    w("            key: " + q(master_key))
    w("          tags:")
    w("            - tag: component")
    w("              value: mail")
    for label, name, optional, units in t["metrics"]:
        w("        - uuid: " + uid(tech, "metric", label))
        w("          name: " + q(t["title"] + ": " + name))
        w("          type: DEPENDENT")
        w("          key: " + pre + "." + label)
        w("          delay: '0'")
        w("          history: 31d")
        w("          value_type: FLOAT")
        if units:
            w("          units: " + units)
        w("          description: " + q("Performance data value '" + label + "'" + (" (not in every run)" if optional else "") + ", see man " + t["plugin"] + "."))
        w("          preprocessing:")
        w("            - type: JSONPATH")
        w("              parameters:")
        w("                - $.metrics." + label)
        # a failed run has no metrics: discard rather than make the item unsupported
        w("              error_handler: DISCARD_VALUE")
        w("          master_item:")
        w("            key: " + q(master_key))
        w("          tags:")
        w("            - tag: component")
        w("              value: mail")
    if t.get("hops"):
        w("      discovery_rules:")
        w("        - uuid: " + uid(tech, "lld"))
        w("          name: " + q(t["title"] + ": Received hops"))
        w("          type: DEPENDENT")
        w("          key: " + pre + ".hops.discovery")
        w("          delay: '0'")
        w("          description: 'One item per hopN_delay value of the last result.'")
        w("          item_prototypes:")
        w("            - uuid: " + uid(tech, "hop-prototype"))
        w("              name: " + q(t["title"] + ": hop {#HOP} delay"))
        w("              type: DEPENDENT")
        w("              key: '" + pre + ".hop[{#HOP}]'")
        w("              delay: '0'")
        w("              history: 31d")
        w("              value_type: FLOAT")
        w("              units: s")
        w("              preprocessing:")
        w("                - type: JSONPATH")
        w("                  parameters:")
        w("                    - '$.metrics.hop{#HOP}_delay'")
        w("                  error_handler: DISCARD_VALUE")
        w("              master_item:")
        w("                key: " + q(master_key))
        w("              tags:")
        w("                - tag: component")
        w("                  value: mail")
        w("          master_item:")
        w("            key: " + q(master_key))
        w("          preprocessing:")
        w("            - type: JAVASCRIPT")
        w("              parameters:")
        w("                - |")
        w("                  var metrics = JSON.parse(value).metrics || {};")
        w("                  var hops = [];")
        w("                  Object.keys(metrics).forEach(function (label) {")
        w("                      var m = label.match(/^hop([0-9]+)_delay$/);")
        w("                      if (m) hops.push({'{#HOP}': m[1]});")
        w("                  });")
        w("                  return JSON.stringify(hops);")
    w("      macros:")
    for m, v, d in t["macros"]:
        w("        - macro: " + q(m))
        w("          value: " + q(v))
        w("          description: " + q(d))
    w("      valuemaps:")
    w("        - uuid: " + uid(tech, "valuemap"))
    w("          name: " + q(STATE_MAP))
    w("          mappings:")
    for code, word in enumerate(["OK", "WARNING", "CRITICAL", "UNKNOWN"]):
        w("            - value: '" + str(code) + "'")
        w("              newvalue: " + word)

print("\n".join(out))
