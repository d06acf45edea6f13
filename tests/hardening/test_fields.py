"""Typed fields: bounded strict integers and text without control characters, on both
engines alike; the guard for what has no schema (query, path, page forms)."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi.testclient import TestClient
from pydantic import Field, TypeAdapter, ValidationError

from crosspromo.fields import ONE_LINE, PLAIN_TEXT, Int, Minor, Version, control_character
from crosspromo.web import i18n
from tests.conftest import sign_in

Title = TypeAdapter(Annotated[str, Field(min_length=1, max_length=5), ONE_LINE])
Note = TypeAdapter(Annotated[str, Field(max_length=50), PLAIN_TEXT])


@pytest.mark.parametrize("value", [True, "100", 1.0, 2**63, -(2**63) - 1, 10**30])
def test_integers_are_strict_and_fit_64_bits(value: Any) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Int).validate_python(value)
    with pytest.raises(ValidationError):
        TypeAdapter(Minor).validate_json(repr(value).lower() if value is True else f"{value!r}")


def test_named_integers_have_bounds() -> None:
    assert TypeAdapter(Version).validate_json("3") == 3
    for bad in ("0", str(2**31), "true", '"3"'):
        with pytest.raises(ValidationError):
            TypeAdapter(Version).validate_json(bad)
    assert TypeAdapter(Minor).json_schema() == {"maximum": 10**13, "minimum": 0, "type": "integer"}


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\u2028", "\ud800"])
def test_text_refuses_control_characters(char: str) -> None:
    assert control_character(f"a{char}b") == char
    # (pydantic itself refuses a lone surrogate as "not a unicode string")
    with pytest.raises(ValidationError, match="control character|unicode"):
        Note.validate_python(f"a{char}b")
    with pytest.raises(ValidationError, match="control character|unicode"):
        Title.validate_python(f"a{char}")


def test_text_keeps_tabs_and_line_breaks_and_a_line_does_not() -> None:
    assert Note.validate_python("one\ttwo\r\nthree\n") == "one\ttwo\r\nthree\n"
    assert Title.validate_python("a\tb") == "a\tb"
    with pytest.raises(ValidationError):
        Title.validate_python("a\nb")
    with pytest.raises(ValidationError, match="at most 5 characters"):
        Title.validate_python("abcdef")  # the length is a string's, not a list's


def test_api_refuses_what_used_to_be_500s(client: TestClient, world: dict[str, Any]) -> None:
    h, proposal = world["headers"], world["ids"]["proposal_id"]
    url = f"/api/v1/partnerships/{proposal}"
    for body in ({"version": 2**63}, {"version": True}, {"version": "1"}, {"version": 10**30}):
        answer = client.post(f"{url}/accept", headers=h, json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == "version"
    answer = client.post(f"{url}/messages", headers=h, json={"text": "hi\x00there"})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "text"
    answer = client.get("/api/v1/notifications", headers=h, params={"limit": str(2**64)})
    assert answer.status_code == 422
    campaign = world["ids"]["campaign_id"]
    answer = client.get(f"/api/v1/campaigns/{campaign}/tasks", headers=h, params={"cursor": 10**30})
    assert answer.status_code == 422
    # the guard: a query value, a path value and a header
    answer = client.get("/api/v1/businesses", headers=h, params={"cursor": "a\x00"})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "cursor"
    answer = client.get("/api/v1/partnerships/%00", headers=h)
    assert answer.status_code == 422 and answer.json()["type"] == "/problems/validation"


def test_a_nul_in_a_page_form_is_a_form_error(client: TestClient, world: dict[str, Any]) -> None:
    token = sign_in(client, "a@example.com")
    answer = client.post(
        "/account/password",
        data={"current_password": "x\x00", "new_password": "y", "csrf_token": token},
        headers={"accept": "text/html"},
    )
    assert answer.status_code == 422
    assert "text/html" in answer.headers["content-type"]
    assert "Current password: control character U+0000" in answer.text  # its label, not its key


def test_the_new_messages_read_in_russian() -> None:
    token = i18n.current_locale.set("ru")
    try:
        assert i18n.message("control character U+0000 is not allowed") == (
            "управляющий символ U+0000 недопустим"
        )
        assert i18n.message("Input should be a valid integer") == "должно быть целым числом"
        assert i18n.message("give a date between 1900-01-01 and 2999-12-31") == (
            "укажите дату между 1900-01-01 и 2999-12-31"
        )
    finally:
        i18n.current_locale.reset(token)
