"""Test harness for the mailprobe integration tests (Python 3.11 stdlib only).

The throwaway mail stack is started by tests/stack/mailstack.sh (CTest fixture
``mailstack``); this module reads its DIR/stack.env and offers helpers:

* :class:`Stack`      -- ports, passwords, Maildir access, sending, hold/release
* :func:`run_plugin`  -- run a built plugin, returns a :class:`PluginRun`
* :func:`parse_perfdata` / :func:`parse_plugin_output` -- strict Nagios output parsers
* :func:`unused_port`, :class:`SilentListener` -- for timeout tests

Environment: MAILPROBE_STACK_DIR (the stack DIR), MAILPROBE_BIN_DIR (built plugins).
"""

from __future__ import annotations

import math
import os
import re
import shlex
import shutil
import smtplib
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "HarnessError", "PerfdataError", "Stack", "PerfValue", "PluginRun", "run_plugin",
    "parse_perfdata", "parse_plugin_output", "unused_port", "SilentListener", "dns_query",
    "STATUS_CODES", "STATUS_WORDS",
]

MAIL_UID = 8  # Debian's "mail" user owns every Maildir of the stack
MAIL_GID = 8

STATUS_WORDS = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
STATUS_CODES = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


class HarnessError(RuntimeError):
    """Misconfigured test environment (missing env var, stack not running, ...)."""


class PerfdataError(ValueError):
    """Plugin output violates the Nagios plugin guidelines."""


def _tool(name: str) -> str:
    """Absolute path of a mail system tool (ctest may run with a PATH without /usr/sbin)."""
    found = shutil.which(name, path=os.pathsep.join(
        [os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin", "/bin"]))
    if not found:
        raise HarnessError(f"{name} not found (install the packages of scripts/install-deps.sh)")
    return found


def _require_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise HarnessError(
            f"environment variable {name} is not set; run the integration tests through ctest "
            f"(label 'integration') or set it by hand (see tests/integration/CMakeLists.txt)")
    return value


def load_env_file(path: str | os.PathLike) -> dict[str, str]:
    """Parse shell-style KEY=value lines (values may be quoted)."""
    env: dict[str, str] = {}
    for lineno, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise HarnessError(f"{path}:{lineno}: not a KEY=value line: {line!r}")
        parts = shlex.split(value) if value else [""]
        env[key] = " ".join(parts)
    return env


# --------------------------------------------------------------------------- the stack

class Stack:
    """The running throwaway mail stack described by DIR/stack.env."""

    def __init__(self, stack_dir: str | os.PathLike | None = None):
        self.dir = Path(stack_dir or _require_env("MAILPROBE_STACK_DIR"))
        env_file = self.dir / "stack.env"
        if not env_file.is_file():
            raise HarnessError(f"{env_file} missing: the mail stack is not running "
                               f"(tests/stack/mailstack.sh start {self.dir})")
        self.env = load_env_file(env_file)
        e = self.env
        self.host: str = e["MS_HOST"]
        self.domain: str = e["MS_DOMAIN"]
        self.mx_host: str = e["MS_MX_HOST"]
        self.relay_host: str = e["MS_RELAY_HOST"]
        self.port_base = int(e["MS_PORT_BASE"])
        self.ca = e["MS_CA"]
        self.cert = e["MS_CERT"]
        self.key = e["MS_KEY"]
        self.smtp_port = int(e["MS_SMTP_PORT"])
        self.smtps_port = int(e["MS_SMTPS_PORT"])
        self.submission_port = int(e["MS_SUBMISSION_PORT"])
        self.relay_smtp_port = int(e["MS_RELAY_SMTP_PORT"])
        self.relay_submission_port = int(e["MS_RELAY_SUBMISSION_PORT"])
        self.imap_port = int(e["MS_IMAP_PORT"])
        self.imaps_port = int(e["MS_IMAPS_PORT"])
        self.pop3_port = int(e["MS_POP3_PORT"])
        self.pop3s_port = int(e["MS_POP3S_PORT"])
        self.lmtp_port = int(e["MS_LMTP_PORT"])
        self.auth_port = int(e["MS_AUTH_PORT"])
        self.policy_port = int(e["MS_POLICY_PORT"])
        self.dns_port = int(e["MS_DNS_PORT"])
        self.dovecot_conf = e["MS_DOVECOT_CONF"]
        self.postfix1_config = e["MS_POSTFIX1_CONFIG"]
        self.postfix2_config = e["MS_POSTFIX2_CONFIG"]
        self.mail_root = Path(e["MS_MAIL_ROOT"])
        self.log_dir = Path(e["MS_LOG_DIR"])
        self.secrets_dir = Path(e["MS_SECRETS_DIR"])
        self.users: list[str] = e["MS_USERS"].split()
        self.script = Path(__file__).resolve().parent.parent / "stack" / "mailstack.sh"

    # ---- users
    def _local(self, user: str) -> str:
        local, _, domain = user.partition("@")
        if domain and domain != self.domain:
            raise HarnessError(f"{user}: not a mailbox of {self.domain}")
        local = local.split("+", 1)[0]
        if local not in self.users:
            raise HarnessError(f"{user}: unknown stack user (known: {' '.join(self.users)})")
        return local

    def address(self, user: str) -> str:
        """'t01' -> 't01@mail.test'."""
        return f"{self._local(user)}@{self.domain}"

    def password_file(self, user: str) -> str:
        return str(self.secrets_dir / f"{self._local(user)}.pass")

    def password(self, user: str) -> str:
        return Path(self.password_file(user)).read_text().rstrip("\n")

    def ssl_context(self) -> ssl.SSLContext:
        """Client context trusting only the stack's throwaway CA."""
        return ssl.create_default_context(cafile=self.ca)

    # ---- Maildir access
    def maildir(self, user: str, folder: str = "INBOX") -> Path:
        """Maildir++ path of a folder: INBOX -> ~/Maildir, 'Junk' -> ~/Maildir/.Junk,
        'a/b' or 'a.b' -> ~/Maildir/.a.b."""
        root = self.mail_root / self._local(user) / "Maildir"
        if folder.upper() == "INBOX":
            return root
        return root / ("." + folder.replace("/", "."))

    def folders(self, user: str) -> list[str]:
        """Folder names present on disk ('INBOX', 'Junk', 'a.b', ...)."""
        root = self.maildir(user)
        names = ["INBOX"]
        if root.is_dir():
            names += sorted(p.name[1:] for p in root.iterdir()
                            if p.is_dir() and p.name.startswith(".") and p.name not in (".", ".."))
        return names

    def messages(self, user: str, folder: str = "INBOX") -> list[Path]:
        """Message files in new/ and cur/ of a folder, sorted by name."""
        md = self.maildir(user, folder)
        out: list[Path] = []
        for sub in ("new", "cur"):
            d = md / sub
            if d.is_dir():
                out += [p for p in d.iterdir() if p.is_file() and not p.name.startswith(".")]
        return sorted(out, key=lambda p: p.name)

    @staticmethod
    def _base_name(name: str) -> str:
        return name.split(":", 1)[0].split(",S=", 1)[0].split(",W=", 1)[0]

    def snapshot(self, user: str) -> dict[str, bytes]:
        """Every message of every folder: '<folder>/<basename without flags/size>' -> content.
        Compare two snapshots to prove that nothing was changed, moved or deleted."""
        snap: dict[str, bytes] = {}
        for folder in self.folders(user):
            for p in self.messages(user, folder):
                snap[f"{folder}/{self._base_name(p.name)}"] = p.read_bytes()
        return snap

    def wait_for_messages(self, user: str, n: int = 1, timeout: float = 10.0,
                          folder: str = "INBOX") -> list[Path]:
        """Wait until the folder holds at least n messages; returns them. Raises AssertionError."""
        deadline = time.monotonic() + timeout
        while True:
            msgs = self.messages(user, folder)
            if len(msgs) >= n:
                return msgs
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{user}/{folder}: {len(msgs)} message(s) after {timeout}s, expected >= {n}")
            time.sleep(0.02)

    def wait_for_message(self, user: str, token: bytes | str, folder: str = "INBOX",
                         timeout: float = 10.0) -> Path:
        """Wait for a message containing token (e.g. a unique Subject) in the folder; returns it.
        Use this for mailboxes that other tests share (probe, monitor). Raises AssertionError."""
        if isinstance(token, str):
            token = token.encode()
        deadline = time.monotonic() + timeout
        while True:
            for p in self.messages(user, folder):
                try:
                    if token in p.read_bytes():
                        return p
                except FileNotFoundError:  # moved new/ -> cur/ meanwhile
                    pass
            if time.monotonic() >= deadline:
                raise AssertionError(f"{user}/{folder}: no message containing {token!r} after {timeout}s")
            time.sleep(0.02)

    def empty(self, user: str) -> None:
        """Expunge every message of every folder (through Dovecot, so its indexes agree)."""
        self.expunge(user, "mailbox", "*", "all")

    def expunge(self, user: str, *query: str) -> None:
        """doveadm expunge with a search query, e.g. expunge('probe', 'mailbox', '*', 'subject', token)."""
        r = subprocess.run([_tool("doveadm"), "-c", self.dovecot_conf, "expunge", "-u", self.address(user),
                            *query], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise HarnessError(f"doveadm expunge {' '.join(query)} for {user} failed: {r.stderr.strip()}")

    _deliver_counter = 0
    _deliver_lock = threading.Lock()

    def deliver_raw(self, user: str, data: bytes, folder: str = "INBOX", *,
                    seen: bool = False, mtime: float | None = None) -> Path:
        """Write one message straight into the Maildir (owned by the mail user), bypassing SMTP.
        Fast enough to pre-fill thousands of messages. Dovecot picks it up on its next scan.
        seen=True puts it into cur/ with the \\Seen flag; mtime sets the file (and INTERNALDATE) time."""
        md = self.maildir(user, folder)
        if not md.is_dir():
            for sub in ("cur", "new", "tmp"):
                (md / sub).mkdir(parents=True, exist_ok=True)
                os.chown(md / sub, MAIL_UID, MAIL_GID)
            if folder.upper() != "INBOX":
                (md / "maildirfolder").touch()
                os.chown(md / "maildirfolder", MAIL_UID, MAIL_GID)
            os.chown(md, MAIL_UID, MAIL_GID)
        with Stack._deliver_lock:
            Stack._deliver_counter += 1
            q = Stack._deliver_counter
        now = time.time()
        sec = int(now)
        usec = int((now - sec) * 1e6)
        base = f"{sec}.M{usec}P{os.getpid()}Q{q}.mailprobe-harness,S={len(data)}"
        tmp = md / "tmp" / base
        with open(tmp, "wb") as f:
            f.write(data)
        os.chown(tmp, MAIL_UID, MAIL_GID)
        if mtime is not None:
            os.utime(tmp, (mtime, mtime))
        final = md / "cur" / (base + ":2,S") if seen else md / "new" / base
        os.rename(tmp, final)
        return final

    # ---- sending
    def send(self, to: str | list[str], msg: bytes | str, port: int | None = None, *,
             sender: str | None = None, starttls: bool = False, implicit_tls: bool = False,
             login: str | None = None, timeout: float = 30.0) -> dict:
        """Send one message with smtplib; port defaults to Postfix #1 plain SMTP.
        login=USER authenticates (after STARTTLS) with that user's password.
        Returns smtplib's refused-recipients dict (empty when all were accepted)."""
        port = port or self.smtp_port
        rcpts = [to] if isinstance(to, str) else list(to)
        sender = sender if sender is not None else f"probe@{self.domain}"
        if isinstance(msg, str):
            msg = msg.encode()
        if implicit_tls:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, port, timeout=timeout,
                                                  context=self.ssl_context())
        else:
            conn = smtplib.SMTP(self.host, port, timeout=timeout)
        with conn:
            conn.ehlo("harness.test")
            if starttls:
                conn.starttls(context=self.ssl_context())
                conn.ehlo("harness.test")
            if login:
                conn.login(self.address(login), self.password(login))
            return conn.sendmail(sender, rcpts, msg)

    # ---- queue control on Postfix #1
    def _script(self, *args: str) -> None:
        r = subprocess.run([str(self.script), args[0], str(self.dir), *args[1:]],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise HarnessError(f"mailstack.sh {args[0]} failed ({r.returncode}): {r.stderr.strip()}")

    def hold(self) -> None:
        """Postfix #1 keeps accepting mail but defers delivery to Dovecot."""
        self._script("hold")

    def release(self) -> None:
        """Undo hold() and flush the queue."""
        self._script("release")

    def queue_ids(self) -> list[str]:
        """Queue ids currently in Postfix #1's queue."""
        r = subprocess.run([_tool("postqueue"), "-c", self.postfix1_config, "-j"], capture_output=True,
                           text=True, stdin=subprocess.DEVNULL, timeout=30, check=True)
        ids = []
        for line in r.stdout.splitlines():
            m = re.search(r'"queue_id"\s*:\s*"([^"]+)"', line)
            if m:
                ids.append(m.group(1))
        return ids


# --------------------------------------------------------------------------- perfdata

class PerfValue(NamedTuple):
    value: float          # nan for the 'U' (undetermined) value
    uom: str              # '' when none
    warn: str | None      # threshold range as written (e.g. '10', '~:5', '@1:2'), None when empty
    crit: str | None
    min: float | None
    max: float | None


_UOMS = {"", "s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c"}
_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_NUM_RE = re.compile(_NUM)
_VALUE_RE = re.compile(rf"({_NUM})([a-zA-Z%]*)")
_RANGE_RE = re.compile(rf"@?(?:(?:{_NUM}|~):)?(?:{_NUM})?")


def _check_range(text: str, what: str, item: str) -> str | None:
    if text == "":
        return None
    if not _RANGE_RE.fullmatch(text) or text in ("@", "~:", "@~:") or text.endswith("@"):
        raise PerfdataError(f"perfdata {item!r}: bad {what} range {text!r}")
    m = re.fullmatch(rf"@?({_NUM}):({_NUM})", text)
    if m and float(m.group(1)) > float(m.group(2)):
        raise PerfdataError(f"perfdata {item!r}: {what} range {text!r} has start > end")
    return text


def _check_number(text: str, what: str, item: str) -> float | None:
    if text == "":
        return None
    if not _NUM_RE.fullmatch(text):
        raise PerfdataError(f"perfdata {item!r}: bad {what} {text!r}")
    return float(text)


def parse_perfdata(text: str) -> dict[str, PerfValue]:
    """Strict parser of a perfdata string ("'label'=value[UOM];[warn];[crit];[min];[max] ...").
    Raises PerfdataError on anything the plugin guidelines do not allow."""
    out: dict[str, PerfValue] = {}
    i, n = 0, len(text)
    while True:
        while i < n and text[i] == " ":
            i += 1
        if i >= n:
            return out
        start = i
        # ---- label
        if text[i] == "'":
            i += 1
            label = ""
            while True:
                if i >= n:
                    raise PerfdataError(f"perfdata: unterminated quoted label at {text[start:]!r}")
                if text[i] == "'":
                    if i + 1 < n and text[i + 1] == "'":
                        label += "'"
                        i += 2
                        continue
                    i += 1
                    break
                label += text[i]
                i += 1
            if i >= n or text[i] != "=":
                raise PerfdataError(f"perfdata: '=' expected after quoted label at {text[start:]!r}")
        else:
            j = i
            while j < n and text[j] not in "= '\t\r\n":
                j += 1
            label = text[i:j]
            i = j
            if i >= n or text[i] != "=":
                raise PerfdataError(f"perfdata: 'label=value' expected at {text[start:]!r}")
        if not label:
            raise PerfdataError(f"perfdata: empty label at {text[start:]!r}")
        i += 1  # '='
        j = i
        while j < n and text[j] != " ":
            j += 1
        rest = text[i:j]
        i = j
        item = text[start:j]
        if any(c in rest for c in "\t\r\n"):
            raise PerfdataError(f"perfdata {item!r}: control character")
        fields = rest.split(";")
        if len(fields) > 5:
            raise PerfdataError(f"perfdata {item!r}: more than 5 ';'-separated fields")
        fields += [""] * (5 - len(fields))
        vtext, wtext, ctext, mintext, maxtext = fields
        if vtext == "U":
            value, uom = math.nan, ""
        else:
            m = _VALUE_RE.fullmatch(vtext)
            if not m:
                raise PerfdataError(f"perfdata {item!r}: bad value {vtext!r}")
            value, uom = float(m.group(1)), m.group(2)
            if uom not in _UOMS:
                raise PerfdataError(f"perfdata {item!r}: unknown unit of measure {uom!r}")
        warn = _check_range(wtext, "warn", item)
        crit = _check_range(ctext, "crit", item)
        vmin = _check_number(mintext, "min", item)
        vmax = _check_number(maxtext, "max", item)
        if label in out:
            raise PerfdataError(f"perfdata: duplicate label {label!r}")
        out[label] = PerfValue(value, uom, warn, crit, vmin, vmax)


@dataclass
class ParsedOutput:
    first_line: str          # whole first line, perfdata included
    text: str                # first line text before '|', stripped
    status_word: str | None  # OK/WARNING/CRITICAL/UNKNOWN found in text, else None
    long_output: list[str]   # lines 2.. before the second '|'
    perfdata: dict[str, PerfValue]


_STATUS_RE = re.compile(r"\b(OK|WARNING|CRITICAL|UNKNOWN)\b")


def parse_plugin_output(stdout: str) -> ParsedOutput:
    """Split plugin output per the guidelines:
        TEXT|PERFDATA\\nLONG OUTPUT...|PERFDATA\\nPERFDATA...
    Raises PerfdataError on malformed perfdata or empty output."""
    if not stdout.strip():
        raise PerfdataError("plugin printed nothing on stdout")
    lines = stdout.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    first = lines[0]
    text, sep, perf1 = first.partition("|")
    if sep and not perf1.strip():
        raise PerfdataError(f"'|' without perfdata in first line {first!r}")
    perf_texts = [perf1] if sep else []
    long_output: list[str] = []
    in_perf = False
    for line in lines[1:]:
        if in_perf:
            perf_texts.append(line)
            continue
        before, sep2, after = line.partition("|")
        if sep2:
            long_output.append(before)
            perf_texts.append(after)
            in_perf = True
        else:
            long_output.append(line)
    perfdata: dict[str, PerfValue] = {}
    for pt in perf_texts:
        for label, pv in parse_perfdata(pt.strip()).items():
            if label in perfdata:
                raise PerfdataError(f"perfdata: duplicate label {label!r}")
            perfdata[label] = pv
    m = _STATUS_RE.search(text)
    return ParsedOutput(first, text.strip(), m.group(1) if m else None, long_output, perfdata)


# --------------------------------------------------------------------------- plugins

@dataclass
class PluginRun:
    argv: list[str]
    code: int
    stdout: str
    stderr: str
    elapsed: float                      # wall time, seconds
    _parsed: ParsedOutput | None = field(default=None, repr=False)

    def parsed(self) -> ParsedOutput:
        if self._parsed is None:
            self._parsed = parse_plugin_output(self.stdout)
        return self._parsed

    @property
    def first_line(self) -> str:
        return self.stdout.split("\n", 1)[0]

    @property
    def status_word(self) -> str | None:
        return self.parsed().status_word

    @property
    def perfdata(self) -> dict[str, PerfValue]:
        """Strictly parsed perfdata (raises PerfdataError when malformed)."""
        return self.parsed().perfdata

    @property
    def long_output(self) -> list[str]:
        return self.parsed().long_output

    def describe(self) -> str:
        """For assertion messages."""
        return (f"$ {shlex.join(self.argv)}\nexit {self.code} after {self.elapsed:.2f}s\n"
                f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}---")


def run_plugin(name: str, args: list[str] | tuple[str, ...] = (), env: dict[str, str | None] | None = None,
               timeout: float = 60, *, stdin: bytes | None = None) -> PluginRun:
    """Run MAILPROBE_BIN_DIR/<name> with args. env entries are added to (None: removed from)
    the current environment. stdin is closed (fd 0 not open) unless bytes are given.
    Raises subprocess.TimeoutExpired (after killing it) when it runs longer than timeout."""
    binary = Path(_require_env("MAILPROBE_BIN_DIR")) / name
    if not binary.is_file():
        raise HarnessError(f"plugin binary {binary} not found (build it first)")
    argv = [str(binary), *map(str, args)]
    full_env = dict(os.environ)
    for k, v in (env or {}).items():
        if v is None:
            full_env.pop(k, None)
        else:
            full_env[k] = v
    if stdin is None:
        # fd 0 closed (not /dev/null), like a daemon's child; done by an exec'ing shell
        # because preexec_fn is unsafe with threads (e.g. a SilentListener) running
        popen_argv = ["/bin/sh", "-c", 'exec "$0" "$@" 0<&-', *argv]
        popen_stdin = subprocess.DEVNULL
    else:
        popen_argv = argv
        popen_stdin = subprocess.PIPE
    t0 = time.monotonic()
    proc = subprocess.Popen(popen_argv, stdin=popen_stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=full_env)
    try:
        out, err = proc.communicate(input=stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    elapsed = time.monotonic() - t0
    return PluginRun(argv, proc.returncode, out.decode("utf-8", "replace"),
                     err.decode("utf-8", "replace"), elapsed)


# --------------------------------------------------------------------------- sockets

def dns_query(name: str, qtype: str = "A", port: int | None = None, server: str = "127.0.0.1",
              timeout: float = 3.0) -> tuple[int, list[tuple[str, object]]]:
    """Tiny UDP DNS client for checking the stack's dnsmasq (port defaults to MS_DNS_PORT).
    Returns (rcode, answers); answers are (type, data): A -> '1.2.3.4', MX -> (pref, 'host'),
    other types -> raw bytes. The root name is returned as '.'."""
    types = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}
    if port is None:
        port = Stack().dns_port
    qid = int.from_bytes(os.urandom(2), "big")
    q = qid.to_bytes(2, "big") + b"\x01\x00" + b"\x00\x01\x00\x00\x00\x00\x00\x00"
    for part in name.rstrip(".").split("."):
        q += bytes([len(part)]) + part.encode()
    q += b"\x00" + types[qtype].to_bytes(2, "big") + b"\x00\x01"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(q, (server, port))
        while True:
            resp, _ = s.recvfrom(4096)
            if resp[:2] == q[:2]:
                break

    def read_name(off: int) -> tuple[str, int]:
        labels, jumped, end = [], False, off
        while True:
            ln = resp[off]
            if ln & 0xC0 == 0xC0:
                if not jumped:
                    end = off + 2
                off = ((ln & 0x3F) << 8) | resp[off + 1]
                jumped = True
                continue
            off += 1
            if ln == 0:
                break
            labels.append(resp[off:off + ln].decode())
            off += ln
        return (".".join(labels) or "."), (end if jumped else off)

    rcode = resp[3] & 0x0F
    qd, an = int.from_bytes(resp[4:6], "big"), int.from_bytes(resp[6:8], "big")
    off = 12
    for _ in range(qd):
        _, off = read_name(off)
        off += 4
    answers: list[tuple[str, object]] = []
    names = {v: k for k, v in types.items()}
    for _ in range(an):
        _, off = read_name(off)
        rtype = int.from_bytes(resp[off:off + 2], "big")
        rdlen = int.from_bytes(resp[off + 8:off + 10], "big")
        rdata_off = off + 10
        off = rdata_off + rdlen
        tname = names.get(rtype, str(rtype))
        if rtype == 1:
            answers.append((tname, socket.inet_ntoa(resp[rdata_off:rdata_off + 4])))
        elif rtype == 15:
            pref = int.from_bytes(resp[rdata_off:rdata_off + 2], "big")
            host, _ = read_name(rdata_off + 2)
            answers.append((tname, (pref, host)))
        else:
            answers.append((tname, resp[rdata_off:off]))
    return rcode, answers


def unused_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SilentListener:
    """Accepts TCP connections on 127.0.0.1 and never sends a byte (for timeout tests).

        with SilentListener() as sl:
            run_plugin(..., ["--port", str(sl.port), "--timeout", "2"])
            assert sl.connections >= 1
    """

    def __init__(self, port: int = 0, backlog: int = 64):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(backlog)
        self._sock.settimeout(0.1)
        self.port: int = self._sock.getsockname()[1]
        self.connections = 0
        self.received = b""          # whatever clients sent (never answered)
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                c, _ = self._sock.accept()
            except (socket.timeout, OSError):
                pass
            else:
                c.setblocking(False)
                self._conns.append(c)
                self.connections += 1
            for c in list(self._conns):
                try:
                    data = c.recv(65536)
                    if data:
                        self.received += data
                except (BlockingIOError, OSError):
                    pass

    def __enter__(self) -> "SilentListener":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        for c in self._conns:
            c.close()
        self._sock.close()
