#!/usr/bin/env python3
"""The installed .deb as the monitoring users meet it: no manual step for any user.

  test_users.py   (live system, root; only with CI=true or MAILPROBE_PACKAGE_INSTALL_TEST=1)
    1. a system user created before the package is installed (mp-before),
    2. dpkg -i, then a system user created after it (mp-after),
    3. a real Icinga 2 running as nagios (RunAsUser) and a real Nagios 4 (nagios_user)
       run the installed plugins through the installed command definitions and the
       example apply rules, default state directory: OK;
    4. the installed check_mail_roundtrip run as nagios, mp-before and mp-after
       (runuser): each OK, each with a 0700 directory of its own below /var/lib/mailprobe;
    5. dpkg --purge, the users removed.
Mailbox user of the test stack: t55.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pkgtest as t  # noqa: E402
import test_icinga2 as icinga  # noqa: E402
import test_nagios as nagios  # noqa: E402

PLUGIN_DIR = Path("/usr/lib/nagios/plugins")
STATE_DIR = Path("/var/lib/mailprobe")
MAILBOX_USER = "t55"
FRESH_USERS = ("mp-before", "mp-after")


def dpkg_installed(pkg: str) -> bool:
    return "install ok installed" in t.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                                           check_rc=False, quiet=True).stdout


def add_system_user(name: str) -> None:
    t.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name])


def roundtrip_as(user: str, stack: t.Stack, pass_file: Path) -> str:
    """check_mail_roundtrip as USER with the package's default state directory."""
    stack.empty(MAILBOX_USER)
    p = t.run(["runuser", "-u", user, "--", PLUGIN_DIR / "check_mail_roundtrip",
               "-H", stack.host, "-p", stack.smtp_port, "--to", stack.address(MAILBOX_USER),
               "--mailbox", stack.imap_url(MAILBOX_USER), "--mailbox-password-file", pass_file,
               "-t", "30", "--wait", "20"], check_rc=False, cwd="/", timeout=60,
              env_extra={"MAILPROBE_STATE_DIR": ""})
    t.log(f"as {user}: exit {p.returncode}\n{p.stdout}{p.stderr}")
    t.check(p.returncode == 0 and p.stdout.startswith("MAIL ROUNDTRIP OK"),
            f"the installed check_mail_roundtrip as {user}: exit {p.returncode}")
    return p.stdout.splitlines()[0]


def own_dirs(users) -> None:
    """Each user that ran a plugin owns a 0700 directory below /var/lib/mailprobe and no
    one else can read its key."""
    for user in users:
        uid = pwd.getpwnam(user).pw_uid
        mine = [d for d in STATE_DIR.iterdir() if d.is_dir() and d.stat().st_uid == uid]
        t.check(len(mine) == 1 and mine[0].stat().st_mode & 0o777 == 0o700,
                f"{user}: directories below {STATE_DIR}: {mine}")
        keys = list(mine[0].glob("*.key"))
        t.check(keys and all(k.stat().st_mode & 0o077 == 0 for k in keys), f"{user}: keys {keys}")


def icinga_as_nagios(stack: t.Stack, password: str) -> str:
    icinga2 = icinga.icinga2_binary()
    with t.temp_dir("mp-users-icinga2-") as tmp:
        perf = tmp / "perf"
        for d in ("perf", "perf-tmp"):
            (tmp / d).mkdir()
        conf = tmp / "icinga2.conf"
        conf.write_text(f"""
include <itl>
const PluginDir = "{PLUGIN_DIR}"
const NodeName = "{icinga.HOST}"
const ZoneName = NodeName
object Endpoint NodeName {{}}
object Zone ZoneName {{ endpoints = [ NodeName ] }}
include "/usr/share/mailprobe/icinga2/mailprobe-commands.conf"
include "/usr/share/mailprobe/icinga2/mailprobe-example.conf"
object CheckerComponent "checker" {{}}
object PerfdataWriter "perfdata" {{
  service_perfdata_path = "{perf}/service-perfdata"
  service_temp_path = "{tmp}/perf-tmp/service-perfdata"
  host_perfdata_path = "{perf}/host-perfdata"
  host_temp_path = "{tmp}/perf-tmp/host-perfdata"
  rotation_interval = 1s
  service_format_template = "SERVICEDESC::$service.name$\tSERVICESTATE::$service.state$\tSERVICEOUTPUT::$service.output$"
}}
object Host "{icinga.HOST}" {{
  check_command = "dummy"
  address = "{stack.host}"
  vars.mailprobe_roundtrip["t55"] = {{
    mailprobe_smtp_port = {stack.smtp_port}
    mailprobe_to = "{stack.address(MAILBOX_USER)}"
    mailprobe_mailbox = "{stack.imap_url(MAILBOX_USER)}"
    mailprobe_mailbox_password = "{password}"
    mailprobe_timeout = 30
    mailprobe_wait = 20
    check_interval = 1s
    retry_interval = 1s
  }}
}}
""")
        defines = [d for d in icinga.defines(tmp) if not d.startswith("-DRunAs")]
        defines += ["-DRunAsUser=nagios", "-DRunAsGroup=nagios"]
        t.run(["chown", "-R", "nagios:nagios", tmp])
        stack.empty(MAILBOX_USER)
        with t.daemon([icinga2, "daemon", "-c", conf, *defines], tmp / "icinga2.out",
                      "icinga2-users", marker="/mp-users-icinga2-"):
            def first_ok():
                done = [r for r in icinga.perfdata_records(perf)
                        if r.get("SERVICEDESC") == "mail-roundtrip t55"]
                return done[0] if done else None
            record = t.wait_for(first_ok, 90, "Icinga 2 (as nagios) to run the round trip")
        output = record.get("SERVICEOUTPUT", "")
        t.log(f"Icinga 2 as nagios: {icinga.state_of(record)} {output}")
        t.check(icinga.state_of(record) == "OK", f"Icinga 2 recorded {icinga.state_of(record)}")
        return output


def nagios_as_nagios(stack: t.Stack) -> str:
    binary = nagios.nagios_binary()
    with t.temp_dir("mp-users-nagios-") as tmp:
        secrets = tmp / "secrets"
        secrets.mkdir()
        shutil.copy(stack.pass_file(MAILBOX_USER), secrets / "t55.pass")
        os.chmod(secrets / "t55.pass", 0o600)
        services = f"""
define service {{
    use                 mailprobe-fast
    service_description roundtrip
    check_command       mailprobe_mail_roundtrip!{stack.address(MAILBOX_USER)}!{stack.imap_url(MAILBOX_USER)}!t55.pass!-p {stack.smtp_port} -t 30 --wait 20
}}
"""
        cfg = nagios.main_config(tmp, "nagios", services, PLUGIN_DIR, secrets)
        cfg.write_text(cfg.read_text().replace(f"cfg_file={nagios.COMMANDS}",
                       "cfg_file=/usr/share/mailprobe/nagios/mailprobe-commands.cfg"))
        nagios.verify(binary, cfg)
        stack.empty(MAILBOX_USER)
        status = tmp / "status.dat"
        with t.daemon([binary, cfg], tmp / "nagios.out", "nagios4-users", marker="/mp-users-nagios-"):
            def checked():
                text = status.read_text(errors="replace") if status.exists() else ""
                f = nagios.parse_status(text).get("roundtrip", {})
                return f if f.get("has_been_checked") == "1" else None
            f = t.wait_for(checked, 90, "Nagios 4 (as nagios) to run the round trip", 0.5)
        t.log(f"Nagios 4 as nagios: current_state={f['current_state']} {f['plugin_output']}\n"
              f"  perfdata: {f.get('performance_data', '')}")
        t.check(f["current_state"] == "0", f"Nagios recorded state {f['current_state']}")
        return f["plugin_output"]


def main() -> None:
    if os.environ.get("CI") != "true" and os.environ.get("MAILPROBE_PACKAGE_INSTALL_TEST") != "1":
        t.skip("installs the .deb and creates users on the live system: runs only with "
               "CI=true or MAILPROBE_PACKAGE_INSTALL_TEST=1")
    if os.geteuid() != 0:
        t.skip("dpkg -i and useradd need root")
    if dpkg_installed("mailprobe"):
        t.skip("a mailprobe package is already installed on this system: leaving it alone")
    nagios.run_user()
    with t.moved_aside(STATE_DIR):
        users_test()


def users_test() -> None:
    deb_file, _ = t.packages()
    stack = t.Stack()
    created: list[str] = []
    installed = False
    try:
        for name in FRESH_USERS:
            if t.run(["getent", "passwd", name], check_rc=False, quiet=True).returncode == 0:
                t.run(["userdel", name])
        add_system_user("mp-before")
        created.append("mp-before")
        t.run(["dpkg", "-i", deb_file], timeout=240)
        installed = True
        add_system_user("mp-after")
        created.append("mp-after")
        lines = {"Icinga 2 (nagios)": icinga_as_nagios(stack, stack.password(MAILBOX_USER)),
                 "Nagios 4 (nagios)": nagios_as_nagios(stack)}
        with t.temp_dir("mp-users-") as tmp:
            users = ["nagios", *FRESH_USERS]
            for user in users:
                pass_file = tmp / f"{user}.pass"
                shutil.copy(stack.pass_file(MAILBOX_USER), pass_file)
                shutil.chown(pass_file, user)
                os.chmod(pass_file, 0o600)
                lines[user] = roundtrip_as(user, stack, pass_file)
            own_dirs(users)
        p = t.run(["dpkg", "--purge", "mailprobe"], timeout=120)
        installed = False
        t.log(p.stdout)
    finally:
        if installed:
            t.run(["dpkg", "--purge", "mailprobe"], check_rc=False, timeout=120)
        shutil.rmtree(STATE_DIR, ignore_errors=True)  # the keys purge kept: this test's own
        for name in created:
            t.run(["userdel", name], check_rc=False)
    t.log("OK: the installed plugins ran with no manual step as\n"
          + "\n".join(f"  {who}: {line}" for who, line in lines.items()))


if __name__ == "__main__":
    main()
