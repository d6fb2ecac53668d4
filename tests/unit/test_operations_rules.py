"""Pure rules of operations: the client behind proxies, request ids, what logs may show."""

from __future__ import annotations

import ipaddress
import json
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desvirt.operations.domain import acceptable_request_id, client_address, loggable_path
from desvirt.operations.logs import REQUEST_ID, JsonFormatter, RequestIdFilter
from desvirt.settings import Settings, SettingsError

CADDY = ("127.0.0.1/32", "10.0.0.0/8")
addresses = st.ip_addresses(v=4).map(str)
anything_a_client_writes = st.lists(st.text(max_size=40), max_size=5)


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_address("203.0.113.9", ["198.51.100.1"], ()) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_forwarded_client_counts() -> None:
    assert client_address("127.0.0.1", ["203.0.113.9"], CADDY) == "203.0.113.9"


def test_a_chain_of_trusted_proxies_is_walked_past() -> None:
    assert client_address("10.0.0.2", ["203.0.113.9, 10.0.0.7"], CADDY) == "203.0.113.9"


def test_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    assert client_address("198.51.100.4", ["203.0.113.9"], CADDY) == "198.51.100.4"


def test_ports_and_brackets_in_forwarded_hops_are_understood() -> None:
    assert client_address("127.0.0.1", ["203.0.113.9:5123"], CADDY) == "203.0.113.9"
    assert client_address("127.0.0.1", ["[2001:db8::1]:443"], CADDY) == "2001:db8::1"


def test_a_garbled_hop_falls_back_to_the_nearest_known_address() -> None:
    assert client_address("127.0.0.1", ["not-an-address"], CADDY) == "127.0.0.1"


@given(spoofed=anything_a_client_writes, real=addresses)
def test_a_client_cannot_choose_its_own_address_by_sending_forwarded_for(
    spoofed: list[str], real: str
) -> None:
    # Caddy appends the address it saw; whatever the client put before it does not matter.
    if ipaddress.ip_address(real) in ipaddress.ip_network(CADDY[1]) or real == "127.0.0.1":
        return
    header = ", ".join([*spoofed, real])
    assert client_address("127.0.0.1", [header], CADDY) == real


@given(peer=addresses, forwarded=anything_a_client_writes)
def test_with_no_trusted_proxy_forwarded_for_never_matters(peer: str, forwarded: list[str]) -> None:
    assert client_address(peer, forwarded, ()) == peer


def test_request_ids_are_echoed_only_when_short_and_plain() -> None:
    assert acceptable_request_id("abc-123_X.y:z") == "abc-123_X.y:z"
    assert acceptable_request_id("has space") is None
    assert acceptable_request_id("line\nbreak") is None
    assert acceptable_request_id("x" * 129) is None
    assert acceptable_request_id("") is None


def test_secret_paths_are_logged_as_their_route_template() -> None:
    assert loggable_path("/cal/s3cr3t.ics", "/cal/{feed_token:str}.ics") == (
        "/cal/{feed_token:str}.ics"
    )
    assert loggable_path("/handshake/ABCD", "/handshake/{code:str}") == "/handshake/{code:str}"
    assert loggable_path("/m/picnic", "/m/{slug:str}") == "/m/picnic"
    assert loggable_path("/nowhere", None) == "/nowhere"
    assert loggable_path("/cal/rotated-token.ics", None) == "/cal/{feed_token}.ics"
    assert loggable_path("/cal/public.ics", None) == "/cal/public.ics"


def test_json_log_lines_carry_the_request_id_and_extras() -> None:
    record = logging.LogRecord("desvirt.access", logging.INFO, __file__, 1, "GET %s", ("/",), None)
    record.status = 200
    token = REQUEST_ID.set("req-42")
    try:
        RequestIdFilter().filter(record)
    finally:
        REQUEST_ID.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "GET /"
    assert line["request_id"] == "req-42"
    assert line["status"] == 200
    assert line["level"] == "INFO"
    assert line["logger"] == "desvirt.access"


def test_log_format_and_trusted_proxies_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {"DESVIRT_LOG_FORMAT": "JSON", "DESVIRT_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8 ::1"}
    )
    assert settings.log_format == "json"
    assert settings.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8", "::1/128")


@pytest.mark.parametrize(
    "environment",
    [{"DESVIRT_LOG_FORMAT": "xml"}, {"DESVIRT_TRUSTED_PROXIES": "caddy"}],
)
def test_unusable_operations_settings_fail_at_start(environment: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(environment)
