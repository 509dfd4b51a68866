"""A private Zabbix 6.0 installation for packaging.zabbix_server, from Debian 12's own
packages (zabbix-server-pgsql, zabbix-frontend-php, php-pgsql, php-cli, postgresql):

  * PostgreSQL 15: a throwaway cluster (initdb) in the test's temporary directory, on
    127.0.0.1:PORT and a socket there, loaded with Debian's schema, images and data;
  * zabbix_server in the foreground with a private configuration (SocketDir, PidFile, log,
    ExternalScripts; no trapper, so it listens on no port);
  * the frontend's JSON-RPC API served by `php -S` from a copy of /usr/share/zabbix whose
    configuration path points into the temporary directory (Debian's frontend reads the
    fixed path /etc/zabbix/zabbix.conf.php, which the test must not touch).

Started as root, everything runs as the Debian package's system user zabbix (as on a real
server); otherwise as the calling user. Every daemon runs under pkgtest.daemon(), so it is
stopped when the test ends, also on failure.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import pwd
import shutil
import urllib.request
from pathlib import Path

import pkgtest as t

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SQL_DIR = Path("/usr/share/zabbix-server-pgsql")
FRONTEND = Path("/usr/share/zabbix")
SERVER = Path("/usr/sbin/zabbix_server")
PACKAGES = {PG_BIN / "initdb": "postgresql-15", SERVER: "zabbix-server-pgsql",
            FRONTEND / "api_jsonrpc.php": "zabbix-frontend-php", "php": "php-cli",
            "/usr/lib/php/20220829/pgsql.so": "php-pgsql"}
DB = "zabbix"


def ensure_packages() -> None:
    """Installs what is missing (as root), else skips, like pkgtest.ensure_tool."""
    for path, package in PACKAGES.items():
        def present(path=str(path)):
            return shutil.which(path) if not path.startswith("/") else os.path.exists(path)
        if not present():
            p = t.apt_install(package)
            # as scripts/install-deps.sh: the system-wide server and cluster stay off at boot
            for unit in ("zabbix-server", "postgresql"):
                if p and p.returncode == 0 and package.startswith(unit):
                    t.run(["systemctl", "disable", "--quiet", f"{unit}.service"],
                          check_rc=False, quiet=True)
            if not present():
                detail = f":\n{p.stdout}{p.stderr}" if p else " (needs root and apt-get)"
                t.skip(f"{path} is missing and the Debian package {package} cannot be "
                       f"installed{detail}; see scripts/install-deps.sh")


def run_as() -> tuple[list[str], str]:
    """The command prefix and user name the daemons run as."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "zabbix", "--"], "zabbix"
    return [], pwd.getpwuid(os.geteuid()).pw_name


def own(path: Path, user: str, mode: int) -> Path:
    """PATH (made when missing) owned by USER (when we are root) with MODE."""
    if not path.exists():
        path.mkdir()
    if os.geteuid() == 0:
        shutil.chown(path, user, user)
    path.chmod(mode)
    return path


def _postgres_cmd(data: Path, run: Path, port: int) -> list:
    prefix, _ = run_as()
    return prefix + [PG_BIN / "postgres", "-D", data, "-k", run, "-p", port,
                     "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                     "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]


@contextlib.contextmanager
def _cluster(data: Path, run: Path, port: int, log_path: Path):
    """postgres on DATA until the block ends; yields the psql command prefix."""
    prefix, _ = run_as()
    # marker: what a leftover of a killed run has in its command line too
    with t.daemon(_postgres_cmd(data, run, port), log_path, "postgres (zabbix_server test)",
                  marker=f"{PG_BIN / 'postgres'} -D ") as proc:
        psql = prefix + [PG_BIN / "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", run,
                         "-p", str(port)]
        t.wait_for(lambda: proc.poll() is not None or t.run(
            psql + ["-d", "postgres", "-c", "select 1"], check_rc=False, quiet=True).returncode == 0,
            60, "PostgreSQL to accept connections")
        t.check(proc.poll() is None, f"postgres exited:\n{log_path.read_text()}")
        yield psql


def _database_cache(run: Path, port: int) -> Path:
    """A stopped cluster with Debian's Zabbix schema, images and data loaded, kept in the
    build tree per package version: loading data.sql's ~170000 INSERTs takes one to two
    minutes on a loaded machine, copying the result a second."""
    versions = t.run(["dpkg-query", "-W", "-f", "${Version} ", "zabbix-server-pgsql",
                      "postgresql-15"], quiet=True).stdout.split()
    _, user = run_as()
    cache = Path(t.env("MAILPROBE_BUILD_DIR")) / "packaging-test" / (
        f"zabbix-db-{user}-" + "-".join(v.replace(":", "_") for v in versions))
    if (cache / "PG_VERSION").exists():
        return cache
    building = own(cache.with_name(cache.name + ".new"), user, 0o700)
    shutil.rmtree(building)
    own(building, user, 0o700)
    prefix, _ = run_as()
    t.log(f"loading the Zabbix database once into {cache} (kept for later runs)")
    t.run(prefix + [PG_BIN / "initdb", "-D", building, "-U", user, "-A", "trust", "--no-sync",
                    "-E", "UTF8", "--locale", "C"], quiet=True)
    with _cluster(building, run, port, run / "postgres-load.log") as psql:
        t.run(psql + ["-d", "postgres", "-c", f"create database {DB} encoding 'UTF8'"],
              quiet=True)
        for name in ("schema", "images", "data"):
            sql = gzip.decompress((SQL_DIR / f"{name}.sql.gz").read_bytes()).decode()
            t.run(psql + ["-1", "-d", DB], input=sql, quiet=True)  # one transaction each
    building.rename(cache)
    return cache


@contextlib.contextmanager
def postgres(tmp: Path, port: int):
    """A running PostgreSQL cluster of our own with the Zabbix database."""
    _, user = run_as()
    run = own(tmp / "run", user, 0o755)
    cache = _database_cache(run, port)
    data = tmp / "pgdata"
    t.run(["cp", "-a", cache, data], quiet=True)
    with _cluster(data, run, port, tmp / "postgres.log"):
        t.log(f"PostgreSQL on 127.0.0.1:{port}: database {DB} from {SQL_DIR}")
        yield


def server_config(tmp: Path, db_port: int, scripts: Path) -> Path:
    _, user = run_as()
    run = own(tmp / "run", user, 0o755)  # writable for the server (it drops root)
    conf = tmp / "zabbix_server.conf"
    conf.write_text("\n".join([
        f"LogFile={run / 'zabbix_server.log'}", "LogFileSize=0", "DebugLevel=3",
        f"PidFile={run / 'zabbix_server.pid'}", f"SocketDir={run}",
        "DBHost=127.0.0.1", f"DBPort={db_port}", f"DBName={DB}", f"DBUser={user}",
        # no trapper: ListenPort must be below 32768, outside the test's port range, and
        # nothing here sends to the server (the frontend only shows its status)
        "ListenIP=127.0.0.1", "StartTrappers=0",
        f"ExternalScripts={scripts}", "Timeout=30",
        # small: the machine is shared; enough pollers for four external checks at once
        "StartPollers=4", "StartPollersUnreachable=1", "StartPreprocessors=2",
        "StartLLDProcessors=1", "StartPingers=0", "StartDiscoverers=0",
        "StartHTTPPollers=0", "StartTimers=1", "StartEscalators=1", "StartAlerters=1",
        "StartDBSyncers=2", "CacheUpdateFrequency=2", "HousekeepingFrequency=0",
        f"User={user}", ""]))
    return conf


def frontend_root(tmp: Path, db_port: int, server_port: int) -> Path:
    """A copy of the frontend that reads its configuration from TMP."""
    _, user = run_as()
    root = tmp / "frontend"
    shutil.copytree(FRONTEND, root, symlinks=True)
    conf = root / "conf" / "zabbix.conf.php"
    core = root / "include" / "classes" / "core" / "CConfigFile.php"
    text = core.read_text()
    t.check("'/etc/zabbix/zabbix.conf.php'" in text, f"{core}: configuration path not found")
    core.write_text(text.replace("'/etc/zabbix/zabbix.conf.php'", repr(str(conf))))
    conf.write_text(f"""<?php
$DB['TYPE'] = 'POSTGRESQL';
$DB['SERVER'] = '127.0.0.1';
$DB['PORT'] = '{db_port}';
$DB['DATABASE'] = '{DB}';
$DB['USER'] = '{user}';
$DB['PASSWORD'] = '';
$DB['SCHEMA'] = '';
$DB['ENCRYPTION'] = false;
$DB['KEY_FILE'] = '';
$DB['CERT_FILE'] = '';
$DB['CA_FILE'] = '';
$DB['VERIFY_HOST'] = false;
$DB['CIPHER_LIST'] = '';
$DB['VAULT_URL'] = '';
$DB['VAULT_DB_PATH'] = '';
$DB['VAULT_TOKEN'] = '';
$DB['DOUBLE_IEEE754'] = true;
$ZBX_SERVER = '127.0.0.1';
$ZBX_SERVER_PORT = '{server_port}';
$ZBX_SERVER_NAME = 'mailprobe packaging test';
$IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;
""")
    return root


class Api:
    """Zabbix 6.0 JSON-RPC client (api_jsonrpc.php)."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/api_jsonrpc.php"
        self.auth: str | None = None
        self.id = 0

    def raw(self, method: str, params) -> dict:
        self.id += 1
        body = {"jsonrpc": "2.0", "method": method, "params": params, "id": self.id}
        if self.auth and method not in ("user.login", "apiinfo.version"):
            body["auth"] = self.auth
        req = urllib.request.Request(self.url, json.dumps(body).encode(),
                                     {"Content-Type": "application/json-rpc"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())

    def call(self, method: str, params):
        answer = self.raw(method, params)
        t.check("error" in answer or "result" in answer, f"{method}: {answer}")
        if "error" in answer:
            t.fail(f"Zabbix API {method}: {answer['error']}")
        return answer["result"]

    def reachable(self) -> bool:
        try:
            return "result" in self.raw("apiinfo.version", [])
        except OSError:
            return False

    def login(self, user: str = "Admin", password: str = "zabbix") -> None:
        self.auth = self.call("user.login", {"username": user, "password": password})
