"""A minimal DER codec and PEM armour: definite lengths only, what SM2 ciphertexts and key files need."""

from __future__ import annotations

import base64
import binascii

from api.crypto.errors import CryptoError

TAG_INTEGER, TAG_BIT_STRING, TAG_OCTET_STRING, TAG_NULL, TAG_OID, TAG_SEQUENCE = 0x02, 0x03, 0x04, 0x05, 0x06, 0x30


def der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der_tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + der_length(len(content)) + content


def der_integer(value: int) -> bytes:
    if value < 0:
        raise CryptoError("negative integers are not used here")
    body = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    if body[0] & 0x80:
        body = b"\x00" + body
    return der_tlv(TAG_INTEGER, body)


def der_sequence(*items: bytes) -> bytes:
    return der_tlv(TAG_SEQUENCE, b"".join(items))


def der_oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return der_tlv(TAG_OID, bytes(out))


def der_read(data: bytes, offset: int = 0) -> tuple[int, bytes, int]:
    """(tag, content, offset after the element) of the element starting at `offset`."""
    if offset + 2 > len(data):
        raise CryptoError("DER: truncated")
    tag, first = data[offset], data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise CryptoError("DER: bad length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise CryptoError("DER: truncated")
    return tag, data[pos : pos + length], pos + length


def der_children(content: bytes) -> list[tuple[int, bytes]]:
    items: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(content):
        tag, value, pos = der_read(content, pos)
        items.append((tag, value))
    return items


def der_read_sequence(data: bytes) -> list[tuple[int, bytes]]:
    tag, content, end = der_read(data)
    if tag != TAG_SEQUENCE or end != len(data):
        raise CryptoError("DER: expected one SEQUENCE")
    return der_children(content)


def der_uint(tag: int, content: bytes) -> int:
    if tag != TAG_INTEGER or not content:
        raise CryptoError("DER: expected an INTEGER")
    if content[0] & 0x80:
        raise CryptoError("DER: negative INTEGER")
    return int.from_bytes(content, "big")


def pem_decode(text: str | bytes, labels: tuple[str, ...]) -> tuple[str, bytes]:
    s = text.decode("ascii", "replace") if isinstance(text, bytes) else text
    for label in labels:
        begin, end = f"-----BEGIN {label}-----", f"-----END {label}-----"
        i = s.find(begin)
        if i < 0:
            continue
        j = s.find(end, i)
        if j < 0:
            raise CryptoError(f"PEM: no END line for {label}")
        try:
            return label, base64.b64decode("".join(s[i + len(begin) : j].split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CryptoError(f"PEM: {label} body is not base64") from exc
    raise CryptoError(f"PEM: expected one of {', '.join(labels)}")


def pem_encode(label: str, der: bytes) -> str:
    b64 = base64.b64encode(der).decode("ascii")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"
