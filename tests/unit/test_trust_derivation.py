"""Trust between two people follows from their history, whatever order it is read in."""

from __future__ import annotations

from datetime import date

from desvirt.contacts.domain import PairEvent, derive_trust

ANA, BEN = 1, 2


def test_an_accepted_request_is_online() -> None:
    assert derive_trust([PairEvent("requested", ANA), PairEvent("accepted", BEN)]) == "online"


def test_a_request_alone_is_no_relationship() -> None:
    assert derive_trust([PairEvent("requested", ANA)]) == "none"


def test_one_claim_is_met_and_a_confirmation_of_the_same_meeting_is_verified() -> None:
    history = [PairEvent("accepted", BEN), PairEvent("met_claimed", ANA, meetup_id=7)]
    assert derive_trust(history) == "met"
    assert derive_trust([*history, PairEvent("met_claimed", BEN, meetup_id=7)]) == "verified"


def test_claims_about_different_days_do_not_verify() -> None:
    history = [
        PairEvent("accepted", BEN),
        PairEvent("met_claimed", ANA, met_on=date(2026, 5, 1)),
        PairEvent("met_claimed", BEN, met_on=date(2026, 6, 1)),
    ]
    assert derive_trust(history) == "met"


def test_check_in_by_the_host_verifies_a_claim_naming_that_meetup() -> None:
    history = [
        PairEvent("accepted", BEN),
        PairEvent("checked_in_together", ANA, meetup_id=3),
        PairEvent("met_claimed", ANA, meetup_id=3),
    ]
    assert derive_trust(history) == "verified"


def test_retracting_the_only_claim_goes_back_to_online() -> None:
    history = [
        PairEvent("accepted", BEN),
        PairEvent("met_claimed", ANA),
        PairEvent("met_retracted", ANA),
    ]
    assert derive_trust(history) == "online"


def test_a_handshake_verifies_at_once_and_a_block_hides_everything() -> None:
    assert derive_trust([PairEvent("handshake", BEN)]) == "verified"
    assert derive_trust([PairEvent("handshake", BEN), PairEvent("blocked", ANA)]) == "none"


def test_removal_forgets_claims_until_connected_again() -> None:
    history = [
        PairEvent("accepted", BEN),
        PairEvent("met_claimed", ANA),
        PairEvent("removed", BEN),
        PairEvent("accepted", ANA),
    ]
    assert derive_trust(history) == "online"
