"""fakeserver: throwaway CA and server certificates of every kind (openssl CLI), cached."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
import time
from datetime import datetime, timedelta, timezone

from fake_scenarios import CERT_CACHE_VERSION, CERT_KINDS, CERT_MAX_AGE, _rng


def default_certdir() -> str:
    return os.path.join("/tmp/mpfake-certs", f"u{os.getuid()}-{CERT_CACHE_VERSION}")


_OPENSSL_CNF = """\
[ca]
default_ca = CA_default
[CA_default]
dir = .
database = ./index.txt
new_certs_dir = .
serial = ./serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
[policy_any]
commonName = supplied
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf_self]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:localhost,IP:127.0.0.1
"""

_LEAF_EXT = """\
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = {san}
"""


def _run_openssl(args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args), r.stderr.decode(errors="replace")))


def _asn1(t: datetime) -> str:
    return t.strftime("%Y%m%d%H%M%SZ")


def cert_paths(certdir: str) -> dict:
    """Paths in a cert dir. kind -> (cert, key); plus 'ca', 'untrusted_ca'."""
    p = {k: (os.path.join(certdir, f"{k}.pem"), os.path.join(certdir, f"{k}.key"))
         for k in CERT_KINDS}
    p["ca"] = os.path.join(certdir, "ca.pem")
    p["untrusted_ca"] = os.path.join(certdir, "untrusted-ca.pem")
    return p


def _generate_certs(out: str) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with open(os.path.join(out, "openssl.cnf"), "w") as f:
        f.write(_OPENSSL_CNF)

    def genkey(name):
        _run_openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-out", name], out)

    def make_ca(prefix, cn):
        genkey(f"{prefix}.key")
        _run_openssl(["req", "-x509", "-new", "-key", f"{prefix}.key", "-subj", f"/CN={cn}",
                      "-days", "3650", "-config", "openssl.cnf", "-extensions", "v3_ca",
                      "-out", f"{prefix}.pem"], out)
        db = os.path.join(out, f"{prefix}.db")
        os.mkdir(db)
        open(os.path.join(db, "index.txt"), "w").close()
        with open(os.path.join(db, "serial"), "w") as f:
            f.write("%X\n" % (0x1000 + _rng.randrange(1 << 30)))

    def sign(kind, ca, cn, san, start, end):
        genkey(f"{kind}.key")
        _run_openssl(["req", "-new", "-key", f"{kind}.key", "-subj", f"/CN={cn}",
                      "-config", "openssl.cnf", "-out", f"{kind}.csr"], out)
        with open(os.path.join(out, f"{kind}.ext"), "w") as f:
            f.write(_LEAF_EXT.format(san=san))
        db = os.path.join(out, f"{ca}.db")
        _run_openssl(["ca", "-batch", "-notext", "-config", os.path.join(out, "openssl.cnf"),
                      "-cert", os.path.join(out, f"{ca}.pem"),
                      "-keyfile", os.path.join(out, f"{ca}.key"),
                      "-in", os.path.join(out, f"{kind}.csr"),
                      "-out", os.path.join(out, f"{kind}.pem"),
                      "-startdate", _asn1(start), "-enddate", _asn1(end),
                      "-extfile", os.path.join(out, f"{kind}.ext"), "-extensions", "leaf"], db)

    make_ca("ca", "mailprobe fake test CA")
    make_ca("untrusted-ca", "mailprobe fake UNTRUSTED CA")
    local_san = "DNS:localhost,IP:127.0.0.1"
    day = timedelta(days=1)
    sign("good", "ca", "localhost", local_san, now - day, now + 3650 * day)
    sign("expired", "ca", "localhost", local_san, now - 730 * day, now - 365 * day)
    sign("notyet", "ca", "localhost", local_san, now + 1825 * day, now + 3650 * day)
    sign("wronghost", "ca", "other.invalid", "DNS:other.invalid", now - day, now + 3650 * day)
    sign("untrusted", "untrusted-ca", "localhost", local_san, now - day, now + 3650 * day)
    genkey("selfsigned.key")
    _run_openssl(["req", "-x509", "-new", "-key", "selfsigned.key", "-subj", "/CN=localhost",
                  "-days", "3650", "-config", "openssl.cnf", "-extensions", "leaf_self",
                  "-out", "selfsigned.pem"], out)
    with open(os.path.join(out, "STAMP"), "w") as f:
        f.write(str(int(time.time())))


def ensure_certs(certdir: str | None = None) -> str:
    """Create (or reuse cached) certificates in certdir; returns certdir."""
    certdir = os.path.abspath(certdir or default_certdir())
    os.makedirs(certdir, mode=0o700, exist_ok=True)
    with open(os.path.join(certdir, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            paths = cert_paths(certdir)
            stamp = os.path.join(certdir, "STAMP")
            fresh = False
            try:
                with open(stamp) as f:
                    fresh = time.time() - int(f.read().strip()) < CERT_MAX_AGE
            except (OSError, ValueError):
                pass
            needed = [paths["ca"], paths["untrusted_ca"]] + [x for k in CERT_KINDS for x in paths[k]]
            if fresh and all(os.path.exists(x) for x in needed):
                return certdir
            work = tempfile.mkdtemp(prefix=".gen-", dir=certdir)
            try:
                _generate_certs(work)
                # STAMP last, so a half-copied dir is never considered fresh.
                for name in sorted(os.listdir(work)):
                    src = os.path.join(work, name)
                    if name != "STAMP" and os.path.isfile(src):
                        os.replace(src, os.path.join(certdir, name))
                os.replace(os.path.join(work, "STAMP"), stamp)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            return certdir
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
