"""The default state directory (issue 12 item 2): whichever user runs a plugin (a fresh system
user, nobody, root) gets its own BASE/USER (0700, its own) below a root-owned sticky BASE, in
any order of installation; when that cannot work, line 1 says the command that fixes it.
BASE is MAILPROBE_STATE_BASE (default /var/lib/mailprobe). Mailbox user of this file: t54."""

import os
import pwd
import re
import shlex
import shutil
import stat
import subprocess
import tempfile
import unittest
from pathlib import Path

from mailprobe_harness import PluginRun
from mp_testlib import PluginTestCase, smtp_args

SVC = "MAIL SEND"


def add_system_user(tag: str) -> str:
    name = f"mp-h4a-{tag}-{os.getpid() % 100000}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                   check=True, capture_output=True)
    return name


def remove_user(name: str) -> None:
    subprocess.run(["userdel", name], check=False, capture_output=True)


class StateDirUserTests(PluginTestCase):
    users = ("t54",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a copy of the plugin in a directory every user may enter
        cls.root = Path(tempfile.mkdtemp(prefix="mp-users-"))
        cls.root.chmod(0o755)
        cls.plugin = cls.root / "check_mail_send"
        shutil.copy2(Path(os.environ["MAILPROBE_BIN_DIR"]) / "check_mail_send", cls.plugin)
        cls.user = add_system_user("a")

    @classmethod
    def tearDownClass(cls):
        remove_user(cls.user)
        shutil.rmtree(cls.root, ignore_errors=True)
        super().tearDownClass()

    def run_as(self, user: str, base: Path) -> PluginRun:
        """The plugin as `user` (runuser; setpriv for nobody), default state directory below base."""
        if user == "root":
            prefix = []
        elif user == "nobody":
            prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
        else:
            prefix = ["runuser", "-u", user, "--"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPROBE_")}
        env["MAILPROBE_STATE_BASE"] = str(base)
        argv = [*prefix, str(self.plugin), *smtp_args(self.stack), "--to", self.stack.address("t54"),
                "--probe-name", "it-users"]
        p = subprocess.run(argv, capture_output=True, env=env, timeout=60, cwd="/")
        return PluginRun(argv, p.returncode, p.stdout.decode(), p.stderr.decode(), 0.0)

    def package_base(self, name: str) -> Path:
        """BASE as the package creates it: root-owned, 1777."""
        base = self.root / name
        base.mkdir()
        base.chmod(0o1777)
        return base

    def assertPrivateDir(self, path: Path, user: str):
        st = path.lstat()
        self.assertTrue(stat.S_ISDIR(st.st_mode), path)
        self.assertEqual(st.st_uid, pwd.getpwnam(user).pw_uid, path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700, path)
        key = path / "probe.key"
        self.assertEqual(key.stat().st_uid, pwd.getpwnam(user).pw_uid)
        self.assertEqual(stat.S_IMODE(key.stat().st_mode), 0o600)

    def test_fresh_user_and_nobody_each_get_their_own_directory(self):
        base = self.package_base("pkg")
        for user in (self.user, "nobody"):
            with self.subTest(user=user):
                run = self.run_as(user, base)
                self.assertStatus(run, "OK", SVC)
                self.assertPrivateDir(base / user, user)
                self.assertStatus(self.run_as(user, base), "OK", SVC)  # and again, same key
        self.assertNotEqual((base / self.user / "probe.key").read_bytes(),
                            (base / "nobody" / "probe.key").read_bytes())
        self.assertEqual(stat.S_IMODE(base.stat().st_mode), 0o1777)

    def test_missing_base_names_the_fix_and_the_fix_works(self):
        base = self.root / "absent"
        for user in (self.user, "nobody"):
            with self.subTest(user=user):
                run = self.run_as(user, base)
                self.assertStatus(run, "UNKNOWN", SVC)
                fix = f"install -d -o {user} -m 0700 {base}/{user}"
                self.assertIn(f"create it with: {fix}", run.first_line)
                self.assertEqual(run.stdout.count("\n"), 1, run.describe())
                subprocess.run(shlex.split(fix), check=True)
                run = self.run_as(user, base)
                self.assertStatus(run, "OK", SVC)
                self.assertPrivateDir(base / user, user)

    def test_root_creates_the_base_and_a_user_made_later_works(self):
        base = self.root / "by-root" / "mailprobe"
        run = self.run_as("root", base)
        self.assertStatus(run, "OK", SVC)
        st = base.stat()
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o1777))
        self.assertPrivateDir(base / "root", "root")
        later = add_system_user("b")  # installed before the monitoring user existed
        try:
            run = self.run_as(later, base)
            self.assertStatus(run, "OK", SVC)
            self.assertPrivateDir(base / later, later)
        finally:
            remove_user(later)

    def test_directory_made_by_another_user_is_refused(self):
        base = self.package_base("squat")
        squat = base / self.user
        subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--",
                        "mkdir", "-m", "0777", str(squat)], check=True)
        run = self.run_as(self.user, base)
        self.assertStatus(run, "UNKNOWN", SVC)
        self.assertRegex(run.first_line, rf"{re.escape(str(squat))}: state directory belongs to nobody, "
                                         rf"not to {self.user}; remove it and create it with: "
                                         rf"install -d -o {self.user} -m 0700 {re.escape(str(squat))}")
        self.assertEqual(list(squat.iterdir()), [])  # nothing written into it
        self.assertEqual(self.stack.messages("t54"), [])  # nothing sent


if __name__ == "__main__":
    unittest.main()
