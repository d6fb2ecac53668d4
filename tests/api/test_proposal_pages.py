"""Proposals in the browser without JavaScript: propose, vote with radio buttons, fix a time."""

from __future__ import annotations

import re

import httpx

from tests.api.test_meetup_pages import HTML, local, post_form
from tests.api.test_proposals import connected
from tests.conftest import ClientFactory, SignUp

Client = httpx.AsyncClient


def proposal_form(**changes: str) -> dict[str, str]:
    values = {
        "title": "Kaffee zum Kennenlernen",
        "timezone": "Europe/Berlin",
        "venue_name": "Café Einstein",
        "venue_address": "Kurfürstenstraße 58, Berlin",
        "starts_at_1": local(5, 9),
        "ends_at_1": local(5, 10),
        "starts_at_2": local(6, 17),
        "ends_at_2": local(6, 18),
        "description": "",
        "online_url": "",
    }
    values.update(changes)
    return values


async def test_a_contact_votes_in_the_page_and_the_host_fixes_the_time(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    jonas = await sign_up(client, "jonas", timezone="Europe/Berlin", locale="de")
    lena_client = await new_client()
    lena = await sign_up(lena_client, "lena", timezone="Europe/Berlin", locale="de")
    await connected(jonas, lena)

    form_page = (await client.get("/m/propose", headers=HTML)).text
    assert 'name="invitees" value="lena"' in form_page
    sent = await post_form(
        client, "/m/propose", {**proposal_form(), "invitees": "lena"}, "/m/propose"
    )
    assert sent.status_code == 303, sent.text
    page_path = sent.headers["location"].split("?")[0]

    invited_view = (await lena_client.get(page_path, headers=HTML)).text
    assert "Terminvorschläge" in invited_view or "Candidate times" in invited_view
    # Nothing to add to a calendar, and nobody going, until a time is fixed.
    assert ".ics" not in invited_view and "Wer kommt" not in invited_view
    option_ids = re.findall(r'name="vote_(\d+)" value="yes"', invited_view)
    assert len(option_ids) == 2
    voted = await post_form(
        lena_client,
        f"{page_path}/votes",
        {f"vote_{option_ids[0]}": "no", f"vote_{option_ids[1]}": "yes"},
        page_path,
    )
    assert voted.status_code == 303

    host_view = (await client.get(page_path, headers=HTML)).text
    assert 'name="option_id"' in host_view
    fixed = await post_form(
        client, f"{page_path}/schedule", {"option_id": option_ids[1]}, page_path
    )
    assert fixed.status_code == 303
    scheduled = (await lena_client.get(page_path, headers=HTML)).text
    assert 'name="response" value="yes"' in scheduled
    assert f'{page_path}.ics"' in scheduled and "Wer kommt" in scheduled
    assert (await lena_client.get(f"{page_path}.ics")).status_code == 200
    assert "Lena" in (await client.get(page_path, headers=HTML)).text


async def test_a_proposal_without_times_comes_back_with_the_message_and_the_input_kept(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    await sign_up(client, "jonas", timezone="Europe/Berlin")
    refused = await post_form(
        client,
        "/m/propose",
        {**proposal_form(starts_at_1="", ends_at_1="", starts_at_2="", ends_at_2=""),
         "more_invitees": "lena"},
        "/m/propose",
    )  # fmt: skip
    assert refused.status_code == 422
    assert 'id="time_options-error"' in refused.text
    assert 'value="Kaffee zum Kennenlernen"' in refused.text
    assert 'value="lena"' in refused.text
