"""Both sides end to end: generated photos through the real server and the real `hmt` engine."""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest
from api_server import Server

from api.client import ClientReply, OcrClient, client_cipher
from benchmarks.synth import Sample, generate_sample

FRONT_KEYS = ["name", "gender", "birth_year", "birth_month", "birth_day", "idcard_number", "address"]
BACK_KEYS = ["issued_by", "valid_date_start", "valid_date_end", "eep_number", "epp_number", "hmt_issue_count"]


@pytest.fixture(scope="module")
def samples() -> dict[str, Sample]:
    return {
        "front": generate_sample(seed=3, tier="clean", side=0),
        "back": generate_sample(seed=3, tier="clean", side=1),
        "no_face": generate_sample(seed=1, tier="clean", special="no_face"),
    }


@pytest.fixture(scope="module")
def client(server: Server) -> OcrClient:
    main = server.keys["main"]
    return OcrClient(server.url, main.api_key, main.api_secret)


def check_shape(body: dict[str, Any], field_keys: list[str]) -> None:
    assert isinstance(body["time_used"], int) and re.fullmatch(r"\d+,[0-9a-f-]{36}", body["request_id"])
    assert body["result"] in (1001, 1002) and body["completeness"] in (0, 1, 2)
    for key in field_keys:
        f = body[key]
        assert list(f) == ["quality", "result", "rect", "logic"]
        assert isinstance(f["quality"], float) and 0 <= f["quality"] <= 1 and round(f["quality"], 3) == f["quality"]
        assert list(f["rect"]) == ["rt", "lt", "lb", "rb"]
        assert all(isinstance(v, int) for p in f["rect"].values() for v in p.values())
    assert list(body["card_rect"]) == ["rt", "lt", "lb", "rb"]


def texts(reply: ClientReply, keys: list[str]) -> dict[str, str]:
    assert isinstance(reply.body, dict)
    return {k: reply.body[k]["result"] for k in keys}


def test_front(client: OcrClient, samples: dict[str, Sample]) -> None:
    sample = samples["front"]
    reply = client.recognize(sample.image_bytes, return_portrait=True)
    assert reply.status == 200, reply.body
    assert isinstance(reply.body, dict) and reply.body["side"] == 0
    check_shape(reply.body, FRONT_KEYS)
    assert not set(BACK_KEYS) & set(reply.body)
    assert texts(reply, FRONT_KEYS) == {k: sample.truth["fields"][k] for k in FRONT_KEYS}
    portrait = base64.b64decode(reply.body["portrait"]["result"])
    assert portrait[:2] == b"\xff\xd8"
    assert reply.wire is not None and reply.wire.card is not None and reply.wire.card.portrait is not None

    without = client.recognize(sample.image_bytes)
    assert without.status == 200 and isinstance(without.body, dict) and "portrait" not in without.body


def test_back(client: OcrClient, samples: dict[str, Sample]) -> None:
    sample = samples["back"]
    reply = client.recognize(sample.image_bytes, return_portrait=True)  # never a portrait on the back
    assert reply.status == 200, reply.body
    assert isinstance(reply.body, dict) and reply.body["side"] == 1
    check_shape(reply.body, BACK_KEYS)
    assert "portrait" not in reply.body and not set(FRONT_KEYS) & set(reply.body)
    truth = sample.truth["fields"]
    got = texts(reply, BACK_KEYS)
    assert got["epp_number"] == got["eep_number"] == truth["eep_number"]
    assert got["hmt_issue_count"] == truth["issue_count"]
    assert {k: got[k] for k in BACK_KEYS[:3]} == {k: truth[k] for k in BACK_KEYS[:3]}


def test_exception_range_switches_1001_and_1002(client: OcrClient, samples: dict[str, Sample]) -> None:
    image = samples["no_face"].image_bytes
    default = client.recognize(image, return_portrait=True)
    strict = client.recognize(image, return_portrait=True, exception_range={"face_detect": True})
    assert isinstance(default.body, dict) and isinstance(strict.body, dict)
    assert (default.body["result"], strict.body["result"]) == (1001, 1002)
    # asked: the photo area comes back though no face was found (which only face_detect turns into 1002)
    assert default.body["portrait"]["result"] and strict.body["portrait"]["result"]


@pytest.mark.parametrize(("encryption_type", "side"), [(1, "front"), (2, "back")], ids=["sm2", "rsa"])
def test_encrypted_round_trip(server: Server, samples: dict[str, Sample], encryption_type: int, side: str) -> None:
    main = server.keys["main"]
    client_private, server_public = server.client_pems[encryption_type]
    cipher = client_cipher(encryption_type, client_private, server_public)
    sample = samples[side]
    keys = FRONT_KEYS if side == "front" else BACK_KEYS
    with OcrClient(server.url, main.api_key, main.api_secret, cipher=cipher) as sealed_client:
        # What travels: the image framed and encrypted, the fields' results encrypted.
        form = sealed_client.form(return_portrait=True, encryption_type=encryption_type)
        from api.crypto import encrypt_file

        raw = httpx.post(
            server.endpoint,
            data=form,
            files={"image": ("i", encrypt_file(sample.image_bytes, cipher.encrypt).encode(), "text/plain")},
            timeout=120,
        )
        assert raw.status_code == 200, raw.text
        wire_body = raw.json()
        name = keys[0]
        assert wire_body[name]["result"] != sample.truth["fields"][name]
        base64.b64decode(wire_body[name]["result"], validate=True)
        # The client decrypts them back.
        reply = sealed_client.recognize(sample.image_bytes, return_portrait=True, encryption_type=encryption_type)
    assert reply.status == 200, reply.body
    truth = sample.truth["fields"]
    got = texts(reply, keys)
    assert got[keys[0]] == truth[keys[0]]
    if side == "front":
        assert base64.b64decode(reply.body["portrait"]["result"])[:2] == b"\xff\xd8"  # type: ignore[index]


def test_log_lines_carry_ids_not_personal_data(server: Server, client: OcrClient, samples: dict[str, Sample]) -> None:
    sample = samples["front"]
    reply = client.recognize(sample.image_bytes)
    assert isinstance(reply.body, dict)
    log = server.log_path.read_text(encoding="utf-8", errors="replace")
    lines = [line for line in log.splitlines() if reply.body["request_id"] in line]
    assert len(lines) == 1 and "status=200" in lines[0] and "stages=" in lines[0]
    for value in sample.truth["fields"].values():
        if (len(value) >= 2 and not value.isdigit()) or len(value) >= 8:
            assert value not in log


def test_stage_metrics(server: Server, client: OcrClient, samples: dict[str, Sample]) -> None:
    client.recognize(samples["back"].image_bytes)
    text = httpx.get(server.url + "/metrics").text
    assert "hmtocr_engine_stage_seconds_count{stage=" in text
    assert 'hmtocr_requests_total{error="",status="200"}' in text
