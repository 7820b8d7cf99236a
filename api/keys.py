"""API keys: who may call, with which secret, limits and encryption keys.

Sources, merged (the file wins for a key named in both):
- `HMTOCR_API_KEYS="key:secret[,key:secret...]"` (no limits, no encryption keys);
- a keys file (`HMTOCR_KEYS_FILE`), either lines `key:secret` (`#` comments) or JSON:

      {"keys": [{"api_key": "k1", "api_secret": "s1",
                 "enabled": true,          # false: 403 AUTHORIZATION_ERROR:DENIED.
                 "quota": 1000,            # calls in total (null: no limit) -> Limit reached.
                 "concurrency": 4,         # requests at once per worker process (null: no limit)
                 "sm2": {"server_private_key": "sm2-server.key", "client_public_key": "sm2-client.pub"},
                 "rsa": {"server_private_key": "rsa-server.key", "client_public_key": "rsa-client.pub"}}]}

  (a bare list of such objects is accepted too; `key`/`secret` are accepted for the names).
  PEM paths are relative to the keys file.

With no key configured at all, `ensure_generated_keys` writes one key pair into a file readable by
its owner only (0600) and the service uses it, so the endpoint is never open.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class KeysConfigError(ValueError):
    """The keys configuration cannot be read; the message names the place."""


@dataclass(frozen=True, slots=True)
class CipherKeyPaths:
    server_private_key: Path | None = None
    client_public_key: Path | None = None

    @property
    def complete(self) -> bool:
        return self.server_private_key is not None and self.client_public_key is not None


@dataclass(frozen=True, slots=True)
class ApiKey:
    api_key: str
    api_secret: str = field(repr=False)
    enabled: bool = True
    quota: int | None = None
    concurrency: int | None = None
    sm2: CipherKeyPaths = CipherKeyPaths()
    rsa: CipherKeyPaths = CipherKeyPaths()


def parse_env_keys(text: str) -> dict[str, ApiKey]:
    keys: dict[str, ApiKey] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, secret = item.partition(":")
        if not sep or not key.strip() or not secret.strip():
            raise KeysConfigError("HMTOCR_API_KEYS: expected key:secret[,key:secret...]")
        keys[key.strip()] = ApiKey(api_key=key.strip(), api_secret=secret.strip())
    return keys


def _opt_int(entry: Mapping[str, Any], name: str, where: str) -> int | None:
    value = entry.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise KeysConfigError(f"{where}: {name} must be a non-negative integer or null")
    return value


def _cipher_paths(entry: Mapping[str, Any], name: str, base: Path, where: str) -> CipherKeyPaths:
    value = entry.get(name)
    if value is None:
        return CipherKeyPaths()
    if not isinstance(value, Mapping):
        raise KeysConfigError(f"{where}: {name} must be an object")

    def path(key: str) -> Path | None:
        p = value.get(key)
        if p is None:
            return None
        if not isinstance(p, str):
            raise KeysConfigError(f"{where}: {name}.{key} must be a path")
        return (base / p).resolve()

    return CipherKeyPaths(path("server_private_key"), path("client_public_key"))


def _entry(entry: Any, base: Path, where: str) -> ApiKey:
    if not isinstance(entry, Mapping):
        raise KeysConfigError(f"{where}: expected an object")
    key = entry.get("api_key", entry.get("key"))
    secret = entry.get("api_secret", entry.get("secret"))
    if not isinstance(key, str) or not key or not isinstance(secret, str) or not secret:
        raise KeysConfigError(f"{where}: api_key and api_secret must be non-empty strings")
    if ":" in key or "&" in key:
        raise KeysConfigError(f"{where}: api_key must not contain ':' or '&'")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise KeysConfigError(f"{where}: enabled must be true or false")
    return ApiKey(
        api_key=key,
        api_secret=secret,
        enabled=enabled,
        quota=_opt_int(entry, "quota", where),
        concurrency=_opt_int(entry, "concurrency", where),
        sm2=_cipher_paths(entry, "sm2", base, where),
        rsa=_cipher_paths(entry, "rsa", base, where),
    )


def load_keys_file(path: str | Path) -> dict[str, ApiKey]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeysConfigError(f"{p}: cannot read ({exc.strerror})") from exc
    base = p.parent
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise KeysConfigError(f"{p}: invalid JSON at line {exc.lineno}") from exc
        entries = data.get("keys") if isinstance(data, Mapping) else data
        if not isinstance(entries, list):
            raise KeysConfigError(f'{p}: expected {{"keys": [...]}} or a list')
        keys = [_entry(e, base, f"{p} keys[{i}]") for i, e in enumerate(entries)]
        return {k.api_key: k for k in keys}
    result: dict[str, ApiKey] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, secret = line.partition(":")
        if not sep or not key.strip() or not secret.strip():
            raise KeysConfigError(f"{p} line {n}: expected key:secret")
        result[key.strip()] = ApiKey(api_key=key.strip(), api_secret=secret.strip())
    return result


def load_keys(env_keys: str | None, keys_file: str | Path | None) -> dict[str, ApiKey]:
    keys = parse_env_keys(env_keys) if env_keys else {}
    if keys_file:
        keys.update(load_keys_file(keys_file))
    return keys


def generate_key_pair() -> ApiKey:
    return ApiKey(api_key="hmt_" + secrets.token_urlsafe(18), api_secret=secrets.token_urlsafe(32))


def write_keys_file(path: str | Path, keys: list[ApiKey]) -> Path:
    """Writes a JSON keys file with mode 0600 (created so, never readable by others in between)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = {"keys": [{"api_key": k.api_key, "api_secret": k.api_secret} for k in keys]}
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), 0o600)
        json.dump(data, fh, indent=2)
        fh.write("\n")
    return p


def ensure_generated_keys(path: str | Path) -> tuple[Path, dict[str, ApiKey], bool]:
    """Keys from the generated file at `path`, creating it first if absent. Returns (path, keys, created)."""
    p = Path(path).expanduser()
    if p.exists():
        return p, load_keys_file(p), False
    write_keys_file(p, [generate_key_pair()])
    return p, load_keys_file(p), True
