#!/usr/bin/env python3
"""Nagios 4 with the shipped command definitions (packaging/nagios/).

  test_nagios.py config   nagios4 -v on a configuration with mailprobe-commands.cfg and a
                          service using each of its commands
  test_nagios.py run      a real Nagios 4 (private configuration, interval_length 1 s)
                          runs a round trip and a login check against the test mail stack
                          (user t32) and a send to a refused port; asserts current_state and
                          performance_data in status.dat
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pkgtest as t  # noqa: E402

COMMANDS = t.source_dir() / "packaging" / "nagios" / "mailprobe-commands.cfg"


def nagios_binary() -> str:
    return t.ensure_tool("/usr/sbin/nagios4", "nagios4-core")


def run_user() -> str:
    """Nagios refuses to run as root; it runs as 'nagios' (created by nagios4-common)."""
    try:
        pwd.getpwnam("nagios")
        return "nagios"
    except KeyError:
        t.skip("no 'nagios' user (Debian package nagios4-common creates it)")
        return ""


def main_config(tmp: Path, user: str, services: str, plugin_dir: Path, secrets: Path) -> Path:
    for d in ("spool", "checkresults", "run"):
        (tmp / d).mkdir(exist_ok=True)
    (tmp / "resource.cfg").write_text(f"$USER1$={plugin_dir}\n$USER7$={secrets}\n")
    (tmp / "objects.cfg").write_text(f"""
define timeperiod {{
    timeperiod_name 24x7
    alias           always
    sunday          00:00-24:00
    monday          00:00-24:00
    tuesday         00:00-24:00
    wednesday       00:00-24:00
    thursday        00:00-24:00
    friday          00:00-24:00
    saturday        00:00-24:00
}}
define command {{
    command_name    notify-nobody
    command_line    /bin/true
}}
define contact {{
    contact_name                  nobody
    host_notifications_enabled    0
    service_notifications_enabled 0
    host_notification_period      24x7
    service_notification_period   24x7
    host_notification_options     n
    service_notification_options  n
    host_notification_commands    notify-nobody
    service_notification_commands notify-nobody
}}
define host {{
    host_name             mailprobe-test
    address               127.0.0.1
    max_check_attempts    1
    check_period          24x7
    contacts              nobody
    notification_period   24x7
    notifications_enabled 0
    active_checks_enabled 0
}}
define service {{
    name                  mailprobe-fast
    register              0
    host_name             mailprobe-test
    max_check_attempts    1
    check_interval        1
    retry_interval        1
    check_period          24x7
    contacts              nobody
    notification_period   24x7
    notifications_enabled 0
}}
{services}
""")
    cfg = tmp / "nagios.cfg"
    cfg.write_text(f"""
log_file={tmp}/nagios.log
cfg_file={COMMANDS}
cfg_file={tmp}/objects.cfg
resource_file={tmp}/resource.cfg
status_file={tmp}/status.dat
status_update_interval=1
object_cache_file={tmp}/objects.cache
precached_object_file={tmp}/objects.precache
temp_file={tmp}/nagios.tmp
temp_path={tmp}/spool
lock_file={tmp}/run/nagios.pid
check_result_path={tmp}/checkresults
check_result_reaper_frequency=1
nagios_user={user}
nagios_group={user}
check_external_commands=0
retain_state_information=0
use_syslog=0
interval_length=1
service_inter_check_delay_method=n
host_inter_check_delay_method=n
max_service_check_spread=1
max_host_check_spread=1
service_check_timeout=60
enable_notifications=0
enable_event_handlers=0
process_performance_data=0
log_initial_states=1
check_for_updates=0
enable_flap_detection=0
illegal_macro_output_chars=`~$&|'"<>
""")
    shutil.chown(tmp, user, user)
    for p in tmp.rglob("*"):
        shutil.chown(p, user, user)
    return cfg


def verify(nagios: str, cfg: Path) -> str:
    p = t.run([nagios, "-v", cfg], check_rc=False)
    print(p.stdout, p.stderr, sep="")
    t.check(p.returncode == 0, f"nagios4 -v exited {p.returncode}")
    t.check("Total Errors:   0" in p.stdout, "nagios4 -v reported errors")
    return p.stdout


def config() -> None:
    nagios = nagios_binary()
    user = run_user()
    names = re.findall(r"command_name\s+(\S+)", COMMANDS.read_text())
    t.check(len(names) == 7, f"expected 7 commands in {COMMANDS}, found {names}")
    services = "\n".join(f"""define service {{
    use                 mailprobe-fast
    service_description {name}
    check_command       {name}!a1!a2!a3!a4!a5!a6!a7
}}""" for name in names)
    with t.temp_dir("mp-nagios-config-") as tmp:
        out = verify(nagios, main_config(tmp, user, services, t.bin_dir(), tmp))
        m = re.search(r"Checked (\d+) commands", out)
        t.check(m is not None and int(m.group(1)) >= len(names), "commands not checked")
        warnings = re.search(r"Total Warnings: (\d+)", out)
        t.check(warnings is not None and warnings.group(1) == "0", "nagios4 -v warned")
    t.log(f"OK: nagios4 -v accepts the {len(names)} commands of {COMMANDS.name}")


def parse_status(text: str) -> dict[str, dict[str, str]]:
    """service_description -> fields of its servicestatus block in status.dat."""
    out = {}
    for block in re.findall(r"servicestatus \{\n(.*?)\n\s*\}", text, re.S):
        fields = dict(l.strip().split("=", 1) for l in block.splitlines() if "=" in l)
        out[fields.get("service_description", "")] = fields
    return out


def run() -> None:
    nagios = nagios_binary()
    user = run_user()
    stack = t.Stack()
    mailbox_user = "t32"
    stack.empty(mailbox_user)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        refused_port = s.getsockname()[1]
    expected = {"roundtrip": "0", "login": "0", "refused": "2"}
    with t.temp_dir("mp-nagios-run-") as tmp:
        secrets = tmp / "secrets"
        secrets.mkdir()
        shutil.copy(stack.pass_file(mailbox_user), secrets / "t32.pass")
        os.chmod(secrets / "t32.pass", 0o600)
        state = tmp / "state"
        state.mkdir()
        url = stack.imap_url(mailbox_user)
        services = f"""
define service {{
    use                 mailprobe-fast
    service_description roundtrip
    check_command       mailprobe_mail_roundtrip!{stack.address(mailbox_user)}!{url}!t32.pass!-p {stack.smtp_port} -t 20 --wait 15 --state-dir {state} --probe-name nagios-packaging-test
}}
define service {{
    use                 mailprobe-fast
    service_description login
    check_command       mailprobe_mailbox_login!{url}!t32.pass!--state-dir {state}
}}
define service {{
    use                 mailprobe-fast
    service_description refused
    check_command       mailprobe_mail_send!{stack.address(mailbox_user)}!-p {refused_port} --state-dir {state}
}}
"""
        cfg = main_config(tmp, user, services, t.bin_dir(), secrets)
        verify(nagios, cfg)
        status = tmp / "status.dat"
        t0 = time.monotonic()
        try:
            with t.daemon([nagios, cfg], tmp / "nagios-stdout.log", "nagios4", marker="/mp-nagios-run-"):
                def done():
                    text = status.read_text(errors="replace") if status.exists() else ""
                    st = parse_status(text)
                    if all(st.get(s, {}).get("has_been_checked") == "1" for s in expected) \
                            and st["roundtrip"].get("current_state") == "0":
                        return st, text
                    return None
                st, status_text = t.wait_for(done, 60, "Nagios to run every service (status.dat)", 0.5)
                elapsed = time.monotonic() - t0
        finally:
            log = tmp / "nagios.log"
            if log.exists():
                print("---- nagios.log\n" + "\n".join(log.read_text(errors="replace").splitlines()[-25:]))
        t.log(f"Nagios ran all services within {elapsed:.1f} s of starting")
        for service, state_code in expected.items():
            f = st[service]
            t.log(f"{service}: current_state={f['current_state']} plugin_output={f['plugin_output']} "
                  f"performance_data={f.get('performance_data', '')}")
            t.check(f["current_state"] == state_code,
                    f"{service}: current_state {f['current_state']}, expected {state_code}")
        perf = t.parse_perfdata(st["roundtrip"]["performance_data"])
        must = {"delivery", "smtp_connect", "smtp_transaction", "mailbox_connect",
                "mailbox_login", "mailbox_search", "time"}
        t.check(must <= set(perf), f"status.dat round trip perfdata lacks {sorted(must - set(perf))}")
        t.check(perf["delivery"]["warn"] == "10" and perf["delivery"]["crit"] == "30",
                f"delivery thresholds: {perf['delivery']}")
        t.check(st["roundtrip"]["plugin_output"].startswith("MAIL ROUNDTRIP OK"),
                st["roundtrip"]["plugin_output"])
        t.check(st["refused"]["plugin_output"].startswith("MAIL SEND CRITICAL"),
                st["refused"]["plugin_output"])
        login = t.parse_perfdata(st["login"]["performance_data"])
        t.check({"messages", "time"} <= set(login), f"login perfdata: {sorted(login)}")
        t.check(stack.password(mailbox_user) not in status_text,
                "the password appears in status.dat")
    t.log("OK: Nagios 4 ran the shipped commands: roundtrip=OK, login=OK, refused=CRITICAL, "
          f"{len(perf)} perfdata values of the round trip in status.dat")


def main() -> None:
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "config":
        config()
    elif cmd == "run":
        run()
    else:
        t.fail(__doc__)


if __name__ == "__main__":
    main()
