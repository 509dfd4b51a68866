"""The v=2 probe tag, written independently of common/probe from the README's description,
for tests that make or check probes themselves (Python 3.11 stdlib only).

tag = HMAC-SHA256(key, "mailprobe-v2\\n" + len(name) + ":" + name + "\\n" + id + "\\n" + t_ms
                  + "\\n" + l + "\\n" + message-id + subject + date + body[:l])
where each field is "name:value\\r\\n" (name lowercased, value unfolded, whitespace runs one
space, trimmed; exactly one such field) and body is the body decoded per its
Content-Transfer-Encoding, lines ending CRLF, whitespace runs one space, none at line ends,
no empty lines at the end."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import quopri
import re

SIGNED_FIELDS = ("Message-ID", "Subject", "Date")


def _split(message: bytes) -> tuple[list[bytes], bytes]:
    """(header lines without line breaks, body) of a CRLF or LF message."""
    lines, pos = [], 0
    while True:
        nl = message.find(b"\n", pos)
        if nl < 0:
            return lines + ([message[pos:]] if pos < len(message) else []), b""
        line = message[pos:nl]
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line:
            return lines, message[nl + 1:]
        lines.append(line)
        pos = nl + 1


def field_values(message: bytes, name: str) -> list[bytes]:
    out, current = [], None
    for line in _split(message)[0] + [b"end:"]:
        if line[:1] in (b" ", b"\t") and current is not None:
            current.append(line)
            continue
        if current is not None:
            out.append(b" ".join(current))
        current = None
        field, colon, value = line.partition(b":")
        if colon and field.rstrip(b" \t").lower() == name.lower().encode():
            current = [value]
    return out


def canonical_field(message: bytes, name: str) -> bytes | None:
    values = field_values(message, name)
    if len(values) != 1:
        return None
    value = re.sub(rb"[ \t\r\n]+", b" ", values[0]).strip(b" ")
    return name.lower().encode() + b":" + value + b"\r\n"


def canonical_text(decoded: bytes) -> bytes:
    lines = decoded.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = [re.sub(rb"[ \t]+", b" ", line).rstrip(b" ") for line in lines]
    while out and out[-1] == b"":
        out.pop()
    return b"".join(line + b"\r\n" for line in out)


def canonical_body(message: bytes) -> bytes | None:
    encodings = field_values(message, "Content-Transfer-Encoding")
    if len(encodings) > 1:
        return None
    encoding = encodings[0].strip().lower() if encodings else b""
    body = _split(message)[1]
    if encoding in (b"", b"7bit", b"8bit", b"binary"):
        return canonical_text(body)
    if encoding == b"quoted-printable":
        return canonical_text(quopri.decodestring(body))
    if encoding == b"base64":
        data = re.sub(rb"[ \t\r\n]", b"", body)
        try:
            return canonical_text(base64.b64decode(data[:len(data) // 4 * 4], validate=True))
        except binascii.Error:
            return None
    return None


def tag(key: bytes, name: str, probe_id: str, t_ms: int, body_length: int,
        message: bytes) -> str | None:
    data = f"mailprobe-v2\n{len(name.encode())}:{name}\n{probe_id}\n{t_ms}\n{body_length}\n".encode()
    for field in SIGNED_FIELDS:
        canonical = canonical_field(message, field)
        if canonical is None:
            return None
        data += canonical
    body = canonical_body(message)
    if body is None or len(body) < body_length:
        return None
    return hmac.new(key, data + body[:body_length], hashlib.sha256).hexdigest()


def reencode_qp_with_footer(message: bytes, footer: bytes) -> bytes:
    """What a content gateway does: the body re-encoded as quoted-printable (every '=' and
    'e' escaped, short soft-broken lines) with a footer appended, header fields refolded."""
    lines, body = _split(message)
    head = []
    for line in lines:
        if line.lower().startswith(b"content-transfer-encoding:"):
            line = b"Content-Transfer-Encoding: quoted-printable"
        elif line.lower().startswith((b"subject:", b"date:")):
            line = line.replace(b" ", b"\n\t ", 2)
        head.append(line)
    plain = body.replace(b"\r\n", b"\n") + footer
    out = []
    for line in plain.split(b"\n"):
        enc = line.replace(b"=", b"=3D").replace(b"e", b"=65")
        chunks = [enc[i:i + 20] for i in range(0, len(enc), 20)] or [b""]
        # never split an escape: move a cut "=X" to the next chunk
        for i in range(len(chunks) - 1):
            cut = chunks[i].rfind(b"=", len(chunks[i]) - 2)
            if cut >= 0:
                chunks[i + 1] = chunks[i][cut:] + chunks[i + 1]
                chunks[i] = chunks[i][:cut]
        out.append(b"=\n".join(chunks))
    return b"\n".join(head) + b"\n\n" + b"\n".join(out)
