#!/usr/bin/env python3
"""The .deb installed, run and removed by the real dpkg.

  test_install.py install_root   dpkg -i into a throwaway dpkg root (maintainer scripts
                                 with DPKG_ROOT): state directory, a real round trip (user
                                 t34), dpkg -r, dpkg --purge with and without a probe key,
                                 an upgrade from 0.1.0's layout
  test_install.py install        the same on the live system (user t35), next to Debian's
                                 monitoring-plugins-contrib: only with CI=true or
                                 MAILPROBE_PACKAGE_INSTALL_TEST=1
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pkgtest as t  # noqa: E402
from test_packages import expected_version_line  # noqa: E402

def installed_roundtrip(plugin_dir: Path, user: str, tmp: Path) -> None:
    """A real round trip with the installed plugin, the password in the environment."""
    stack = t.Stack()
    stack.empty(user)
    password = stack.password(user)
    p = t.run([plugin_dir / "check_mail_roundtrip", "-H", stack.host, "-p", stack.smtp_port,
               "--to", stack.address(user), "--mailbox", stack.imap_url(user),
               "--state-dir", tmp / "state", "-t", "30", "--wait", "20"],
              env_extra={"MAILPROBE_MAILBOX_PASSWORD": password}, check_rc=False, timeout=60)
    t.log(p.stdout)
    t.check(p.returncode == 0 and p.stdout.startswith("MAIL ROUNDTRIP OK"),
            f"installed check_mail_roundtrip: exit {p.returncode}")
    t.check(password not in p.stdout, "the password leaked into the output")


MONITORING_USERS = ("nagios", "icinga", "zabbix")
CONTRIB = "monitoring-plugins-contrib"
CONTRIB_SMTP_SEND = "/usr/lib/nagios/plugins/check_smtp_send"


def next_to_contrib() -> None:
    """Both packages installed: every path of ours belongs to mailprobe alone (dpkg -S),
    and contrib's check_smtp_send is still its own and still runs."""
    ours = [f for f in t.run(["dpkg", "-L", "mailprobe"], quiet=True).stdout.split()
            if os.path.isfile(f)]
    t.check(len(ours) > 10, f"dpkg -L mailprobe lists only {ours}")
    p = t.run(["dpkg", "-S", *ours], quiet=True)
    shared = [line for line in p.stdout.splitlines() if not line.startswith("mailprobe: ")]
    t.check(not shared, "paths shared with another package:\n" + "\n".join(shared))
    owner = t.run(["dpkg", "-S", CONTRIB_SMTP_SEND], quiet=True).stdout.strip()
    t.check(owner == f"{CONTRIB}: {CONTRIB_SMTP_SEND}", f"dpkg -S {CONTRIB_SMTP_SEND}: {owner}")
    p = t.run([CONTRIB_SMTP_SEND, "--version"], check_rc=False)  # contrib's own: "0.7.3"
    t.check(p.stdout.strip() != "" and "mailprobe" not in p.stdout,
            f"{CONTRIB_SMTP_SEND} --version: {p.stdout[:200]}")
    t.log(f"dpkg -S: {len(ours)} files, all mailprobe's alone; {owner}")


def user_exists(name: str) -> bool:
    return t.run(["getent", "passwd", name], check_rc=False, quiet=True).returncode == 0


def check_state_dir(state_dir: Path) -> None:
    """postinst: root-owned, 1777 like /tmp (any user, also one created later, makes its
    own directory); the monitoring users that exist have theirs already, 0700."""
    import pwd
    st = state_dir.stat()
    t.check(st.st_uid == 0 and st.st_gid == 0, f"{state_dir} is not owned by root:root")
    t.check(st.st_mode & 0o7777 == 0o1777, f"{state_dir} mode {oct(st.st_mode & 0o7777)} != 0o1777")
    for user in filter(user_exists, MONITORING_USERS):
        d = state_dir / user
        t.check(d.is_dir() and d.stat().st_uid == pwd.getpwnam(user).pw_uid
                and d.stat().st_mode & 0o777 == 0o700, f"postinst did not make {d} (0700, {user})")


def purge_keeps_keys(dpkg: list[str], prefix: Path, state_dir: Path) -> None:
    """dpkg --purge with a key the admin copied in (setup 5): the key stays and purge names
    it; the rest of the state goes; without keys the whole directory goes."""
    user_dir = state_dir / "nagios"  # the directory postinst made (or any user's)
    user_dir.mkdir(mode=0o700, exist_ok=True)
    key = user_dir / "probe.key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    (user_dir / "site-x.state").write_text("state\n")
    (state_dir / "empty-user").mkdir()
    p = t.run(dpkg + ["--purge", "mailprobe"], timeout=120)
    t.log(p.stdout + p.stderr)
    t.check(key.is_file(), "dpkg --purge deleted the probe key the admin copied in")
    shown = "/" + str(key.relative_to(prefix))
    t.check(shown in p.stdout, f"dpkg --purge does not name the key it kept ({shown})")
    t.check(not (user_dir / "site-x.state").exists(), "dpkg --purge left the async state")
    t.check(not (state_dir / "empty-user").exists(), "dpkg --purge left an empty directory")
    t.check(sorted(str(f.relative_to(state_dir)) for f in state_dir.rglob("*"))
            == ["nagios", "nagios/probe.key"], "dpkg --purge kept more than the key")
    shutil.rmtree(state_dir)


def dpkg_cycle(root: Path | None, deb_file: Path, user: str, tmp: Path,
               while_installed=None) -> None:
    """dpkg -i, run the installed plugins, dpkg -r, dpkg --purge; ROOT None: the live
    system, else a throwaway dpkg root (dpkg --root, maintainer scripts with DPKG_ROOT)."""
    prefix = root if root is not None else Path("/")
    dpkg = ["dpkg"]
    if root is not None:
        dpkg += [f"--root={root}", "--force-script-chrootless", "--force-depends",
                 "--log=/dev/null"]
    state_dir = prefix / "var/lib/mailprobe"
    installed = False
    try:
        p = t.run(dpkg + ["-i", deb_file], check_rc=False, timeout=240)
        t.log(p.stdout + p.stderr)
        installed = True
        t.check(p.returncode == 0, f"dpkg -i exited {p.returncode}")
        q = ["dpkg-query"] + ([f"--root={root}"] if root is not None else [])
        status = t.run(q + ["-W", "-f=${Status} ${Version}", "mailprobe"], quiet=True)
        t.check(status.stdout == f"install ok installed {t.version()}", status.stdout)
        plugin_dir = prefix / "usr/lib/nagios/plugins"
        for plugin in t.PLUGINS:
            p = t.run([plugin_dir / plugin, "--version"], check_rc=False)
            t.check(p.returncode == 3 and p.stdout.strip() == expected_version_line(plugin),
                    f"installed {plugin} --version: exit {p.returncode}, '{p.stdout.strip()}'")
        if root is None and shutil.which("man"):
            p = t.run(["man", "-w", "check_mail_roundtrip"], check_rc=False)
            t.check(p.stdout.strip() == "/usr/share/man/man1/check_mail_roundtrip.1.gz",
                    f"man -w: {p.stdout}{p.stderr}")
        check_state_dir(state_dir)
        installed_roundtrip(plugin_dir, user, tmp)
        if while_installed:
            while_installed()
        t.run(dpkg + ["-r", "mailprobe"], timeout=120)
        installed = False
        for plugin in t.PLUGINS:
            t.check(not (plugin_dir / plugin).exists(), f"{plugin} left behind by dpkg -r")
        t.check(not (prefix / "usr/share/mailprobe").exists(), "/usr/share/mailprobe left behind")
        t.check(not (prefix / "usr/share/man/man1/check_mail_send.1.gz").exists(),
                "man page left behind")
        t.check(state_dir.is_dir(), "dpkg -r must keep /var/lib/mailprobe (it holds the probe keys)")
        purge_keeps_keys(dpkg, prefix, state_dir)
        # without keys, purge removes the directory
        t.run(dpkg + ["-i", deb_file], timeout=240)
        t.run(dpkg + ["--purge", "mailprobe"], timeout=120)
        t.check(not state_dir.exists(), "dpkg --purge did not remove /var/lib/mailprobe")
    finally:
        if installed:
            subprocess.run(dpkg + ["-r", "mailprobe"], capture_output=True)


def upgrade_from_010(root: Path, deb_file: Path) -> None:
    """0.1.0 left /var/lib/mailprobe nagios-owned (0750) with the key at its top: the
    directory becomes root's 1777 and the key moves to the owner's own directory."""
    import pwd
    if not user_exists("nagios"):
        t.log("no user nagios here: upgrade from 0.1.0 not tested")
        return
    nagios = pwd.getpwnam("nagios")
    state_dir = root / "var/lib/mailprobe"
    state_dir.mkdir(mode=0o750, parents=True)
    os.chown(state_dir, nagios.pw_uid, nagios.pw_gid)
    key = state_dir / "probe.key"
    secret = os.urandom(32)
    key.write_bytes(secret)
    key.chmod(0o600)
    os.chown(key, nagios.pw_uid, nagios.pw_gid)
    dpkg = ["dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends",
            "--log=/dev/null"]
    p = t.run(dpkg + ["-i", deb_file], timeout=240)
    t.log(p.stdout)
    check_state_dir(state_dir)
    moved = state_dir / "nagios" / "probe.key"
    t.check(not key.exists() and moved.is_file() and moved.read_bytes() == secret
            and moved.stat().st_uid == nagios.pw_uid, "0.1.0's key was not moved to nagios/")
    t.check("/var/lib/mailprobe/nagios/probe.key" in p.stdout, "postinst did not say it moved the key")
    p = t.run(dpkg + ["--purge", "mailprobe"], timeout=120)
    t.check(moved.is_file() and "/var/lib/mailprobe/nagios/probe.key" in p.stdout,
            "purge did not keep (and name) the moved key")
    shutil.rmtree(state_dir)


def install_root() -> None:
    """Install into a throwaway dpkg root: dpkg and the maintainer scripts for real, the
    live system untouched."""
    if os.geteuid() != 0:
        t.skip("dpkg --root with maintainer scripts needs root here (chown in postinst)")
    deb_file, _ = t.packages()
    with t.temp_dir("mp-root-") as tmp:
        root = tmp / "root"
        for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"):
            (root / d).mkdir(parents=True)
        (root / "var/lib/dpkg/status").touch()
        (root / "var/lib/dpkg/available").touch()
        dpkg_cycle(root, deb_file, "t34", tmp)
        upgrade_from_010(root, deb_file)
    t.log("OK: dpkg -i into a throwaway root, the plugins run (a real round trip), "
          "dpkg -r removes them, --purge keeps only the probe keys and names them; "
          "an upgrade from 0.1.0 keeps nagios' key")


def install() -> None:
    if os.environ.get("CI") != "true" and os.environ.get("MAILPROBE_PACKAGE_INSTALL_TEST") != "1":
        t.skip("installs the .deb into the live system: runs only with CI=true or "
               "MAILPROBE_PACKAGE_INSTALL_TEST=1 (packaging.deb_install_root does the same "
               "in a throwaway dpkg root)")
    if os.geteuid() != 0:
        t.skip("dpkg -i needs root")
    deb_file, _ = t.packages()
    installed = lambda pkg: "install ok installed" in t.run(  # noqa: E731
        ["dpkg-query", "-W", "-f=${Status}", pkg], check_rc=False, quiet=True).stdout
    if installed("mailprobe"):
        t.skip("a mailprobe package is already installed on this system: leaving it alone")
    # next to Debian's monitoring-plugins-contrib (its check_smtp_send was our old name)
    if not installed(CONTRIB):
        p = t.apt_install(CONTRIB)
        t.check(installed(CONTRIB), f"cannot install {CONTRIB}: {p.stdout if p else ''}"
                f"{p.stderr if p else ''}")
    contrib_files = set(t.run(["dpkg", "-L", CONTRIB], quiet=True).stdout.split())
    t.check(CONTRIB_SMTP_SEND in contrib_files, f"{CONTRIB} no longer ships {CONTRIB_SMTP_SEND}")
    with t.temp_dir("mp-inst-") as tmp, t.moved_aside(Path("/var/lib/mailprobe")):
        dpkg_cycle(None, deb_file, "t35", tmp, next_to_contrib)
    t.check(installed(CONTRIB) and os.access(CONTRIB_SMTP_SEND, os.X_OK),
            f"{CONTRIB} was removed or damaged")
    t.log(f"OK: dpkg -i next to {CONTRIB} (no shared path), the installed plugins run "
          f"(a real round trip), dpkg -r removes them, {CONTRIB} stays installed")


def main() -> None:
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd in ("install", "install_root"):
        globals()[cmd]()
    else:
        t.fail(__doc__)


if __name__ == "__main__":
    main()
