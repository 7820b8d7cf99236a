"""Keys sources, the generated key file, the SQLite store, the limiters, settings, form-value parsers."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from api import errors
from api.app import parse_exception_range
from api.keys import KeysConfigError, ensure_generated_keys, load_keys, load_keys_file, parse_env_keys
from api.limits import KeyConcurrency, LimitExceeded, Slots
from api.settings import Settings
from api.store import StateStore
from engine.config import EngineConfig
from engine.errors import CardNotFoundError, ImageSizeError, UnsupportedImageError
from engine.types import ExceptionRange


def test_env_keys() -> None:
    keys = parse_env_keys(" a:1 , b:two:parts ,")
    assert keys["a"].api_secret == "1" and keys["b"].api_secret == "two:parts"
    with pytest.raises(KeysConfigError):
        parse_env_keys("nocolon")


def test_keys_file_json_and_lines(tmp_path: Path) -> None:
    f = tmp_path / "keys.json"
    f.write_text(
        json.dumps(
            {
                "keys": [
                    {
                        "api_key": "k",
                        "api_secret": "s",
                        "quota": 3,
                        "concurrency": 0,
                        "enabled": False,
                        "sm2": {"server_private_key": "sm2.key", "client_public_key": "/abs/c.pub"},
                    },
                    {"key": "k2", "secret": "s2"},
                ]
            }
        )
    )
    keys = load_keys_file(f)
    assert (keys["k"].quota, keys["k"].concurrency, keys["k"].enabled) == (3, 0, False)
    assert keys["k"].sm2.server_private_key == tmp_path / "sm2.key"
    assert keys["k"].sm2.client_public_key == Path("/abs/c.pub") and not keys["k"].rsa.complete
    assert keys["k2"].quota is None
    lines = tmp_path / "keys.txt"
    lines.write_text("# comment\nx:y\n\n")
    assert load_keys("a:b", lines).keys() == {"a", "x"}
    assert "api_secret" not in repr(keys["k"])  # the secret stays out of reprs and logs


@pytest.mark.parametrize(
    "text",
    [
        '{"keys": [{"api_key": "k"}]}',
        '{"keys": [{"api_key": "k", "api_secret": "s", "quota": -1}]}',
        '{"keys": 3}',
        "{bad json",
        "no-colon-line",
    ],
)
def test_bad_keys_files(tmp_path: Path, text: str) -> None:
    f = tmp_path / "keys"
    f.write_text(text)
    with pytest.raises(KeysConfigError):
        load_keys_file(f)


def test_generated_keys_are_private_and_stable(tmp_path: Path) -> None:
    path, keys, created = ensure_generated_keys(tmp_path / "cfg" / "keys.json")
    assert created and len(keys) == 1
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    _again_path, again, created_again = ensure_generated_keys(path)
    assert not created_again and again == keys


def test_store_quota_survives_restart(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    store = StateStore(db)
    assert store.try_consume("k", 2) and store.try_consume("k", 2)
    assert not store.try_consume("k", 2)
    store.close()
    store = StateStore(db)
    assert store.calls_used("k") == 2 and not store.try_consume("k", 2)
    assert store.try_consume("other", None)
    store.close()


def test_store_single_use_signs(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "s.sqlite3")
    assert not store.seen_sign("k", b"raw", 100)
    assert store.seen_sign("k", b"raw", 100)
    assert not store.seen_sign("k2", b"raw", 100)
    assert store.prune_signs(max_age_s=10, now_s=200) == 2
    assert not store.seen_sign("k", b"raw", 100)


def test_store_is_thread_safe(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "t.sqlite3")
    granted: list[bool] = []

    def worker() -> None:
        for _ in range(25):
            granted.append(store.try_consume("k", 60))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert granted.count(True) == 60 and store.calls_used("k") == 60


def test_slots() -> None:
    slots = Slots(1)
    with slots.hold():
        with pytest.raises(LimitExceeded), slots.hold():
            pass
        assert slots.held == 1
    assert slots.held == 0
    assert not Slots(0).try_acquire()
    unlimited = Slots(None)
    assert all(unlimited.try_acquire() for _ in range(100))


def test_key_concurrency_is_per_key() -> None:
    limits = KeyConcurrency()
    a = limits.slots("a", 1)
    assert a.try_acquire() and not limits.slots("a", 1).try_acquire()
    assert limits.slots("b", 1).try_acquire()


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HMTOCR_ENGINE", "baseline")
    monkeypatch.setenv("HMTOCR_INTRA_OP_THREADS", "2")
    monkeypatch.setenv("HMTOCR_DEVICE", "cuda")
    s = Settings()
    assert s.engine == "baseline"
    assert s.engine_config() == EngineConfig(device="cuda", intra_op_threads=2)
    assert s.resolved_engine_threads >= 1
    assert s.max_image_bytes == 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, ExceptionRange()),
        ("", ExceptionRange()),
        ("{}", ExceptionRange()),
        ('{"completeness": true, "face_detect": true}', ExceptionRange(completeness=True, face_detect=True)),
        ('{"text_quality": false, "logic": false, "future": 1}', ExceptionRange(text_quality=False, logic=False)),
    ],
)
def test_exception_range(text: str | None, expected: ExceptionRange) -> None:
    assert parse_exception_range(text) == expected


@pytest.mark.parametrize("text", ["{bad", "[]", '"x"', '{"logic": 1}', '{"logic": "true"}', '{"completeness": null}'])
def test_bad_exception_range(text: str) -> None:
    with pytest.raises(errors.ApiError) as info:
        parse_exception_range(text)
    assert (info.value.status, info.value.error) == (400, "BAD_ARGUMENTS: exception_range")


def test_engine_errors_map_in_one_place() -> None:
    assert errors.from_exception(UnsupportedImageError()).error == "IMAGE_ERROR_UNSUPPORTED_FORMAT: image"
    assert errors.from_exception(ImageSizeError()).error == "INVALID_IMAGE_SIZE: image"
    assert errors.from_exception(CardNotFoundError()).error == "ID_CARD_NOT_FOUND"
    internal = errors.from_exception(RuntimeError("secret detail"))
    assert (internal.status, internal.error) == (500, "INTERNAL_ERROR")
    assert not errors.DENIED.carries_request_id and not errors.API_NOT_FOUND.carries_request_id
    assert errors.CONCURRENCY_LIMIT_EXCEEDED.carries_request_id and errors.TOO_LARGE.is_plain_text


def test_each_raise_is_a_fresh_exception_with_no_history() -> None:
    # A shared exception object raised again keeps every traceback it went through (and the upload
    # its frames hold): each raise must start clean.
    seen = []
    for _ in range(3):
        try:
            raise errors.AUTHENTICATION_ERROR()
        except errors.ApiError as exc:
            seen.append(exc)
            depth = len(list(_walk(exc.__traceback__)))
    assert len({id(e) for e in seen}) == 3 and depth == 1
    assert errors.from_exception(seen[0]) is errors.AUTHENTICATION_ERROR


def _walk(tb: object) -> Iterator[object]:
    while tb is not None:
        yield tb
        tb = getattr(tb, "tb_next", None)
