#!/usr/bin/env python3
"""The .deb and the .rpm, built by CPack from the CMake install rules.

  test_packages.py build BUILD_DIR   cpack -G DEB and -G RPM into MAILPROBE_PKG_DIR
  test_packages.py lintian           lintian: no error, only the warnings that
                                     packaging/lintian-allowed-warnings lists (and
                                     packaging/README.md explains)
  test_packages.py deb               fields, dependencies from the linked libraries, file
                                     list, man pages, configs; the extracted plugins
                                     run (--version)
  test_packages.py rpm               rpm -qip / -qlp / -qRp / --scripts
  test_packages.py metadata CMAKE    Maintainer/Homepage from the cache variables
  test_packages.py install_root      dpkg -i into a throwaway dpkg root (maintainer scripts
                                     with DPKG_ROOT), run (--version, a real round trip,
                                     user t34), dpkg -r, dpkg --purge
  test_packages.py install           the same on the live system (user t35): only with
                                     CI=true or MAILPROBE_PACKAGE_INSTALL_TEST=1
"""

from __future__ import annotations

import gzip
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pkgtest as t  # noqa: E402

CONFIG_FILES = ("usr/share/mailprobe/icinga2/mailprobe-commands.conf",
                "usr/share/mailprobe/icinga2/mailprobe-example.conf",
                "usr/share/mailprobe/nagios/mailprobe-commands.cfg",
                "usr/share/mailprobe/nagios/mailprobe-example.cfg",
                "usr/share/mailprobe/zabbix/mailprobe_templates.yaml")
DOC_FILES = ("usr/share/doc/mailprobe/README.md", "usr/share/doc/mailprobe/README.integration.md")


def expected_version_line(program: str) -> str:
    return f"{program} (mailprobe) {t.version()}"


def build(build_dir: str) -> None:
    cpack = shutil.which("cpack") or t.fail("cpack not found")
    t.ensure_tool("dpkg-shlibdeps", "dpkg-dev")
    rpmbuild = t.ensure_tool("rpmbuild", "rpm")
    out = Path(t.env("MAILPROBE_PKG_DIR"))
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    config = Path(build_dir) / "CPackConfig.cmake"
    t.check(config.is_file(), f"{config} missing: configure the project first")
    for generator in ("DEB", "RPM"):
        t0 = time.monotonic()
        t.run([cpack, "--config", config, "-G", generator, "-B", out], cwd=build_dir, timeout=240)
        t.log(f"cpack -G {generator}: {time.monotonic() - t0:.1f} s")
    debs = list(out.glob("*.deb"))
    rpms = list(out.glob("*.rpm"))
    t.check(len(debs) == 1, f"expected one .deb in {out}, found {debs}")
    t.check(len(rpms) == 1, f"expected one .rpm in {out}, found {rpms}")
    arch = t.run(["dpkg", "--print-architecture"], quiet=True).stdout.strip()
    t.check(debs[0].name == f"mailprobe_{t.version()}_{arch}.deb", f"unexpected name {debs[0].name}")
    t.check(rpms[0].name.startswith(f"mailprobe-{t.version()}-"), f"unexpected name {rpms[0].name}")
    t.log(f"OK: built {debs[0].name} and {rpms[0].name} ({rpmbuild})")


# ---------------------------------------------------------------- lintian

# lintian errors of a package built with the default MAILPROBE_PACKAGE_MAINTAINER
LOCAL_BUILD_ERRORS = {"bogus-mail-host", "bogus-mail-host-in-debian-changelog"}


def lintian() -> None:
    lintian_bin = t.ensure_tool("lintian", "lintian")
    deb, _ = t.packages()
    allowed_file = t.source_dir() / "packaging" / "lintian-allowed-warnings"
    allowed = {line.split("#")[0].strip() for line in allowed_file.read_text().splitlines()}
    allowed.discard("")
    # a local build (no packager named, the default): lintian rightly calls its localhost
    # address bogus
    if t.env("MAILPROBE_PACKAGE_MAINTAINER") == t.env("MAILPROBE_PACKAGE_MAINTAINER_DEFAULT"):
        allowed_errors = LOCAL_BUILD_ERRORS
        t.log(f"Maintainer is the local-build default: accepting {sorted(allowed_errors)}")
    else:
        allowed_errors = set()
    readme = (t.source_dir() / "packaging" / "README.md").read_text()
    for tag in sorted(allowed):
        t.check(tag in readme, f"packaging/README.md does not explain the allowed warning {tag}")
    p = t.run([lintian_bin, "--display-info", "--tag-display-limit", "0", deb], check_rc=False,
              timeout=280)
    print(p.stdout, p.stderr, sep="")
    errors, warnings = [], []
    for line in p.stdout.splitlines():
        m = re.match(r"^([EWIPXNO]): mailprobe(?: \w+)?: (\S+)", line)
        if not m:
            continue
        if m.group(1) == "E" and m.group(2) not in allowed_errors:
            errors.append(line)
        elif m.group(1) == "W" and m.group(2) not in allowed:
            warnings.append(line)
    if p.returncode not in (0, 1, 2) or "internal error" in p.stderr.lower():
        t.fail(f"lintian failed (exit {p.returncode})")
    t.check(not errors, "lintian errors:\n" + "\n".join(errors))
    t.check(not warnings, "lintian warnings not in packaging/lintian-allowed-warnings:\n"
            + "\n".join(warnings))
    t.log("OK: lintian reports no error and no unexplained warning")


# ---------------------------------------------------------------- deb

def needed_libraries(binary: Path) -> list[str]:
    p = t.run(["objdump", "-p", binary], quiet=True)
    return re.findall(r"^\s+NEEDED\s+(\S+)$", p.stdout, re.M)


def resolved_libraries(binary: Path) -> dict[str, str]:
    """soname -> path the dynamic loader picks on this system (ldd)."""
    p = t.run(["ldd", binary], quiet=True)
    return dict(re.findall(r"^\s*(\S+) => (/\S+)", p.stdout, re.M))


def package_of_library(soname: str, path: str) -> str:
    """The Debian package that ships the library the loader resolved (merged /usr aware)."""
    candidates = [path, os.path.realpath(path)]
    candidates += [c[4:] for c in list(candidates) if c.startswith("/usr/")]
    for candidate in dict.fromkeys(candidates):
        p = t.run(["dpkg", "-S", candidate], check_rc=False, quiet=True)
        if p.returncode == 0:
            return p.stdout.split(":")[0].split(",")[0].strip()
    t.fail(f"no package ships {soname} ({path})")
    return ""


def deb() -> None:
    deb_file, _ = t.packages()
    fields = {k: t.run(["dpkg-deb", "-f", deb_file, k], quiet=True).stdout.strip()
              for k in ("Package", "Version", "Architecture", "Depends", "Section",
                        "Maintainer", "Description", "Conflicts", "Homepage")}
    t.log("\n".join(f"{k}: {v}" for k, v in fields.items()))
    t.check(fields["Package"] == "mailprobe", "Package")
    t.check(fields["Version"] == t.version(), f"Version {fields['Version']} != {t.version()}")
    arch = t.run(["dpkg", "--print-architecture"], quiet=True).stdout.strip()
    t.check(fields["Architecture"] == arch, f"Architecture {fields['Architecture']} != {arch}")
    depends = {d.strip().split()[0] for d in fields["Depends"].split(",") if d.strip()}
    t.check(fields["Maintainer"] == t.env("MAILPROBE_PACKAGE_MAINTAINER"),
            f"Maintainer {fields['Maintainer']} is not MAILPROBE_PACKAGE_MAINTAINER")
    t.check(fields["Homepage"] == os.environ.get("MAILPROBE_PACKAGE_HOMEPAGE", ""),
            f"Homepage {fields['Homepage']} is not MAILPROBE_PACKAGE_HOMEPAGE")
    t.check("example.org" not in fields["Maintainer"] + fields["Homepage"],
            "an example.org placeholder in Maintainer or Homepage")
    # renamed from check_smtp_send, the name monitoring-plugins-contrib ships: no Conflicts
    t.check(fields["Conflicts"] == "", f"unexpected Conflicts: {fields['Conflicts']}")
    t.check("usr/lib/nagios/plugins/check_smtp_send" not in t.run(["dpkg-deb", "-c", deb_file],
            quiet=True).stdout, "the .deb still ships check_smtp_send")

    listing = t.run(["dpkg-deb", "-c", deb_file], quiet=True).stdout
    files = {}
    for line in listing.splitlines():
        parts = line.split()
        path = parts[5].lstrip("./") if len(parts) >= 6 else ""
        files[path] = (parts[0], parts[1])
    for plugin in t.PLUGINS:
        mode, owner = files.get(f"usr/lib/nagios/plugins/{plugin}", ("missing", ""))
        t.check(mode == "-rwxr-xr-x" and owner == "root/root",
                f"usr/lib/nagios/plugins/{plugin}: {mode} {owner}")
        t.check(f"usr/share/man/man1/{plugin}.1.gz" in files, f"man page of {plugin} missing")
    for f in CONFIG_FILES + DOC_FILES + ("usr/share/doc/mailprobe/copyright",
                                         "usr/share/doc/mailprobe/changelog.gz"):
        t.check(f in files, f"{f} missing from the .deb")
    t.check(not any("LICENSE" in f for f in files), "the .deb must not ship LICENSE (copyright)")
    t.check(not any(f.startswith("usr/lib64") for f in files), "the .deb must not use lib64")

    with t.temp_dir("mp-deb-") as tmp:
        root = tmp / "root"
        t.run(["dpkg-deb", "-x", deb_file, root])
        control = tmp / "control"
        t.run(["dpkg-deb", "-e", deb_file, control])
        for script in ("postinst", "postrm"):
            s = control / script
            t.check(s.is_file() and os.stat(s).st_mode & 0o777 == 0o755,
                    f"control script {script} missing or not 0755")
        plugin_dir = root / "usr/lib/nagios/plugins"
        for plugin in t.PLUGINS:
            binary = plugin_dir / plugin
            p = t.run([binary, "--version"], check_rc=False)
            t.check(p.returncode == 3 and p.stdout.strip() == expected_version_line(plugin),
                    f"{plugin} --version: exit {p.returncode}, '{p.stdout.strip()}'")
            file_out = t.run(["file", "-b", binary], quiet=True).stdout
            t.check("not stripped" not in file_out, f"{plugin} is not stripped: {file_out}")
            # every linked library's package is a declared dependency (dpkg-shlibdeps)
            resolved = resolved_libraries(binary)
            for soname in needed_libraries(binary):
                t.check(soname in resolved, f"{plugin}: ldd does not resolve {soname}")
                pkg = package_of_library(soname, resolved[soname])
                t.check(pkg in depends, f"{plugin} links {soname} from {pkg}, not in Depends: "
                        f"{fields['Depends']}")
            page = root / f"usr/share/man/man1/{plugin}.1.gz"
            committed = (t.source_dir() / "man" / f"{plugin}.1").read_bytes()
            t.check(gzip.decompress(page.read_bytes()) == committed,
                    f"{page.name} differs from man/{plugin}.1")
        for f in CONFIG_FILES:
            rel = f.replace("usr/share/mailprobe/", "")
            src = t.source_dir() / "packaging" / rel
            t.check((root / f).read_bytes() == src.read_bytes(), f"{f} differs from {src}")

    t.log(f"OK: {deb_file.name}: fields, {len(files)} entries, dependencies "
          f"({', '.join(sorted(depends))})")


# ---------------------------------------------------------------- metadata

def configure(cmake: str, tmp: Path, *defs: str) -> subprocess.CompletedProcess:
    return t.run([cmake, "-S", t.source_dir(), "-B", tmp, "-DMAILPROBE_TESTS=OFF",
                  *defs], check_rc=False, timeout=240, quiet=True)


def cpack_setting(build: Path, name: str) -> str:
    text = (build / "CPackConfig.cmake").read_text()
    m = re.search(rf'^set\({name} "([^"]*)"\)$', text, re.M)
    return m.group(1) if m else ""


def metadata(cmake: str) -> None:
    """The packager's Maintainer and Homepage reach the .deb, the .rpm and the changelog;
    the defaults say "local build" and name no placeholder domain; a malformed Maintainer
    is a configure error. The version is project()'s."""
    maintainer, homepage = "Jane Packager <jane@mail.example.net>", "https://mailprobe.example.net/"
    with t.temp_dir("mp-meta-") as tmp:
        p = configure(cmake, tmp / "set", f"-DMAILPROBE_PACKAGE_MAINTAINER={maintainer}",
                      f"-DMAILPROBE_PACKAGE_HOMEPAGE={homepage}")
        t.check(p.returncode == 0, f"configure failed:\n{p.stdout}{p.stderr}")
        expected = {"CPACK_DEBIAN_PACKAGE_MAINTAINER": maintainer,
                    "CPACK_RPM_PACKAGE_VENDOR": maintainer,
                    "CPACK_DEBIAN_PACKAGE_HOMEPAGE": homepage, "CPACK_RPM_PACKAGE_URL": homepage,
                    "CPACK_PACKAGE_VERSION": t.version()}
        for name, value in expected.items():
            got = cpack_setting(tmp / "set", name)
            t.check(got == value, f"{name} is '{got}', not '{value}'")
        changelog = (tmp / "set/packaging/changelog").read_text()
        t.check(changelog.startswith(f"mailprobe ({t.version()}) ")
                and f" -- {maintainer}  " in changelog, "changelog: version or maintainer")
        p = configure(cmake, tmp / "default")
        t.check(p.returncode == 0, f"configure failed:\n{p.stdout}{p.stderr}")
        default = cpack_setting(tmp / "default", "CPACK_DEBIAN_PACKAGE_MAINTAINER")
        t.check("local build" in default and "example." not in default,
                f"default Maintainer '{default}'")
        t.check(cpack_setting(tmp / "default", "CPACK_DEBIAN_PACKAGE_HOMEPAGE") == "",
                "a Homepage without a packager setting it")
        p = configure(cmake, tmp / "bad", "-DMAILPROBE_PACKAGE_MAINTAINER=jane@example.net")
        t.check(p.returncode != 0 and "MAILPROBE_PACKAGE_MAINTAINER must read" in p.stderr,
                "a Maintainer without a name was accepted")
    t.log(f"OK: Maintainer/Homepage from the cache variables; default '{default}'")


# ---------------------------------------------------------------- rpm

def rpm() -> None:
    rpm_bin = t.ensure_tool("rpm", "rpm")
    _, rpm_file = t.packages()
    t.check(rpm_file is not None, "no .rpm was built")
    q = lambda *args: t.run([rpm_bin, "-qp", *args, rpm_file], quiet=True).stdout  # noqa: E731
    info = q("--qf", "%{NAME} %{VERSION} %{ARCH} %{LICENSE}\n").split()
    t.log(f"rpm -qip:\n{q('-i')}")
    t.check(info[0] == "mailprobe" and info[1] == t.version(),
            f"name/version {info[:2]} != mailprobe {t.version()}")
    rpm_arch = t.run([rpm_bin, "--eval", "%{_arch}"], quiet=True).stdout.strip()
    t.check(info[2] in (rpm_arch, platform.machine()), f"arch {info[2]} != {rpm_arch}")
    t.check(info[3] == "MIT", f"License {info[3]}")
    libdir = t.run([rpm_bin, "--eval", "%{_libdir}"], quiet=True).stdout.strip()
    files = set(q("-l").split())
    t.log(f"rpm -qlp:\n{q('-l')}")
    for plugin in t.PLUGINS:
        t.check(f"{libdir}/nagios/plugins/{plugin}" in files,
                f"{libdir}/nagios/plugins/{plugin} missing (%{{_libdir}} = {libdir})")
        t.check(f"/usr/share/man/man1/{plugin}.1.gz" in files, f"man page of {plugin} missing")
    for f in CONFIG_FILES + DOC_FILES:
        t.check("/" + f in files, f"/{f} missing from the .rpm")
    t.check("/usr/share/licenses/mailprobe/LICENSE" in files, "LICENSE missing")
    t.check(not any(f.startswith("/usr/lib/nagios") for f in files) or libdir == "/usr/lib",
            "plugins must be in %{_libdir}/nagios/plugins")
    for owned in ("/usr", "/usr/share", "/usr/share/man/man1", "/usr/share/doc", libdir):
        t.check(owned not in files, f"the .rpm must not own the system directory {owned}")
    requires = q("-R")
    t.log(f"rpm -qRp:\n{requires}")
    # automatic requirements: every library a plugin links, by soname
    deb_file, _ = t.packages()
    with t.temp_dir("mp-rpm-") as tmp:
        t.run(["dpkg-deb", "-x", deb_file, tmp])
        sonames = set()
        for plugin in t.PLUGINS:
            sonames |= set(needed_libraries(tmp / "usr/lib/nagios/plugins" / plugin))
    for soname in sorted(sonames):
        t.check(re.search(rf"^{re.escape(soname)}(\(|$)", requires, re.M) is not None,
                f"rpm -qRp lacks {soname}")
    scripts = t.run([rpm_bin, "-qp", "--scripts", rpm_file], quiet=True).stdout
    t.check("postinstall scriptlet" in scripts and "/var/lib/mailprobe" in scripts,
            f"postinstall scriptlet missing:\n{scripts}")
    t.log(f"OK: {rpm_file.name}: {len(files)} files under {libdir}/nagios/plugins etc., "
          f"requires {len(sonames)} libraries by soname")


# ---------------------------------------------------------------- install, run, remove

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
    if Path("/var/lib/mailprobe").exists():
        t.skip("/var/lib/mailprobe exists (probe keys of another installation): leaving it alone")
    # next to Debian's monitoring-plugins-contrib (its check_smtp_send was our old name)
    if not installed(CONTRIB):
        p = t.apt_install(CONTRIB)
        t.check(installed(CONTRIB), f"cannot install {CONTRIB}: {p.stdout if p else ''}"
                f"{p.stderr if p else ''}")
    contrib_files = set(t.run(["dpkg", "-L", CONTRIB], quiet=True).stdout.split())
    t.check(CONTRIB_SMTP_SEND in contrib_files, f"{CONTRIB} no longer ships {CONTRIB_SMTP_SEND}")
    with t.temp_dir("mp-inst-") as tmp:
        dpkg_cycle(None, deb_file, "t35", tmp, next_to_contrib)
    t.check(installed(CONTRIB) and os.access(CONTRIB_SMTP_SEND, os.X_OK),
            f"{CONTRIB} was removed or damaged")
    t.log(f"OK: dpkg -i next to {CONTRIB} (no shared path), the installed plugins run "
          f"(a real round trip), dpkg -r removes them, {CONTRIB} stays installed")


def main() -> None:
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "build" and len(sys.argv) == 3:
        build(sys.argv[2])
    elif cmd in ("lintian", "deb", "rpm", "install", "install_root"):
        globals()[cmd]()
    elif cmd == "metadata" and len(sys.argv) == 3:
        metadata(sys.argv[2])
    else:
        t.fail(__doc__)


if __name__ == "__main__":
    main()
