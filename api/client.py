"""A Python client for `/faceid/v5/ocr_residence_permit_card` (this service or the vendor's).

    from api.client import OcrClient
    with OcrClient("http://127.0.0.1:8000", api_key, api_secret) as client:
        reply = client.recognize(Path("card.jpg").read_bytes(), return_portrait=True)
        reply.status, reply.body, reply.wire.card   # http status, JSON dict, parsed CardResult

Encryption: pass `cipher=client_cipher(1, client_private_pem, server_public_pem)` and
`encryption_type=1` (SM2) or 2 (RSA): the image is encrypted for the server, and the encrypted
fields of the answer are decrypted before parsing (`reply.body` holds them in clear text).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from api.auth import build_sign
from api.crypto import CipherPair, decrypt_response_fields, encrypt_file, rsa_pair, sm2_pair
from api.wire import WireFormatError, WireResponse, parse_wire_response

ENDPOINT = "/faceid/v5/ocr_residence_permit_card"

__all__ = ["ENDPOINT", "ClientReply", "OcrClient", "build_sign", "client_cipher", "endpoint_url"]


def endpoint_url(url: str) -> str:
    """`http://host:port` gets the endpoint path; a URL with a path is used as given."""
    return url.rstrip("/") + ENDPOINT if urlsplit(url).path in ("", "/") else url


def client_cipher(encryption_type: int, client_private_pem: bytes, server_public_pem: bytes) -> CipherPair:
    """The client's side: encrypt with the server's public key, decrypt with the client's private key."""
    if encryption_type == 1:
        return sm2_pair(client_private_pem, server_public_pem)
    if encryption_type == 2:
        return rsa_pair(client_private_pem, server_public_pem)
    raise ValueError("encryption_type must be 1 (SM2) or 2 (RSA)")


@dataclass(frozen=True, slots=True)
class ClientReply:
    status: int
    body: dict[str, Any] | str  # JSON object, or the text of a non-JSON answer (413)
    wire: WireResponse | None  # None when the body is not this protocol
    elapsed_ms: float

    @property
    def error(self) -> str | None:
        if self.wire is not None:
            return self.wire.error
        return self.body if isinstance(self.body, str) else None


class OcrClient:
    def __init__(
        self,
        url: str,
        api_key: str,
        api_secret: str,
        *,
        cipher: CipherPair | None = None,
        timeout_s: float = 120.0,
        sign_valid_s: int = 600,
        http: httpx.Client | None = None,
    ) -> None:
        self.url = endpoint_url(url)
        self.api_key = api_key
        self._secret = api_secret
        self.cipher = cipher
        self.sign_valid_s = sign_valid_s
        self._http = http or httpx.Client(timeout=timeout_s)
        self._owns_http = http is None

    def __enter__(self) -> OcrClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def sign(self, *, single_use: bool = False) -> str:
        return build_sign(self.api_key, self._secret, valid_s=self.sign_valid_s, single_use=single_use)

    def form(
        self,
        *,
        return_portrait: bool = False,
        exception_range: Mapping[str, bool] | None = None,
        encryption_type: int = 0,
        single_use: bool = False,
        sign: str | None = None,
    ) -> dict[str, str]:
        data = {
            "sign": sign if sign is not None else self.sign(single_use=single_use),
            "sign_version": "hmac_sha1",
            "return_portrait": "1" if return_portrait else "0",
            "encryption_type": str(encryption_type),
        }
        if exception_range is not None:
            data["exception_range"] = json.dumps(dict(exception_range))
        return data

    def recognize(
        self,
        image: bytes,
        *,
        return_portrait: bool = False,
        exception_range: Mapping[str, bool] | None = None,
        encryption_type: int = 0,
        single_use: bool = False,
        sign: str | None = None,
    ) -> ClientReply:
        data = self.form(
            return_portrait=return_portrait,
            exception_range=exception_range,
            encryption_type=encryption_type,
            single_use=single_use,
            sign=sign,
        )
        payload = image
        if encryption_type:
            if self.cipher is None or self.cipher.encryption_type != encryption_type:
                raise ValueError(f"encryption_type {encryption_type} needs a matching client cipher")
            payload = encrypt_file(image, self.cipher.encrypt).encode("ascii")
        response = self._http.post(self.url, data=data, files={"image": ("image.jpg", payload, "image/jpeg")})
        return self._reply(response, decrypt=encryption_type != 0)

    def _reply(self, response: httpx.Response, *, decrypt: bool) -> ClientReply:
        elapsed_ms = response.elapsed.total_seconds() * 1000
        try:
            body = response.json()
        except ValueError:
            return ClientReply(response.status_code, response.text, None, elapsed_ms)
        if not isinstance(body, dict):
            return ClientReply(response.status_code, response.text, None, elapsed_ms)
        if decrypt and self.cipher is not None and "error" not in body:
            body = decrypt_response_fields(body, self.cipher.decrypt)
        try:
            wire = parse_wire_response(body)
        except WireFormatError:
            wire = None
        return ClientReply(response.status_code, body, wire, elapsed_ms)
