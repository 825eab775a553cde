"""After a change, a screen fetches only the live regions it touched (`?regions=`).

live.js asks for the step of a changed field instead of the whole worksheet; these tests hold
the server side of that: the right regions, nothing else, and the whole page whenever the
request is not a live one or names nothing we know.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.http import HttpResponse
from django.test import Client

from dilemmagesprek.worksheets import actions as wa
from tests.factories import Cast

pytest_plugins = ["tests.fixtures_domain"]

LIVE = {"HTTP_X_DG_LIVE": "1"}


def region_ids(html: str) -> list[str]:
    tags = re.findall(r"<[a-z]+\b[^>]*\bdata-dg-region\b[^>]*>", html)
    return [re.search(r'\bid="([^"]+)"', tag).group(1) for tag in tags]


def url(cast: Cast, query: str = "") -> str:
    return f"/g/{cast.conversation.pk}/{query}"


def test_a_live_refresh_renders_only_the_regions_it_asks_for(
    cast: Cast, client_as: Callable[..., Client]
) -> None:
    wa.set_field(cast.owner, "dilemma", "Delen we de notulen voor het besluit?", 0)
    response = client_as("participant").get(url(cast, "?regions=step-1,spotlight"), **LIVE)
    html = response.content.decode()
    assert response.status_code == 200
    assert region_ids(html) == ["spotlight", "step-1", "step-1-head"]  # a step holds its head
    assert "Delen we de notulen voor het besluit?" in html
    assert "data-dg-partial" in html
    assert "<html" not in html  # no page around it


def test_a_step_change_needs_only_the_heads_of_two_steps(
    cast: Cast, client_as: Callable[..., Client]
) -> None:
    """What live.js fetches after a step change: the navigation and two steps' heads, with
    the "current" mark and the timer moved, and none of the steps' fields or cards."""
    from dilemmagesprek.conversations import actions as ca

    wa.set_field(cast.owner, "dilemma", "Een tekst in stap 1", 0)
    ca.change_step(cast.facilitator, 2)
    html = client_as("participant").get(
        url(cast, "?regions=steps-nav,step-1-head,step-2-head"), **LIVE
    ).content.decode()
    assert region_ids(html) == ["steps-nav", "step-1-head", "step-2-head"]
    assert "Een tekst in stap 1" not in html  # no fields
    head_2 = html[html.index('id="step-2-head"'):]
    assert "dg-badge--current" in head_2 and "data-dg-timer" in head_2
    assert "dg-badge--current" not in html[: html.index('id="step-2-head"')]
    # The facilitator's head of a step that is not current has its "open" button.
    lead = client_as("facilitator").get(url(cast, "?regions=step-1-head"), **LIVE)
    assert "/stap/" in lead.content.decode()


def test_the_facilitator_bar_comes_only_for_whoever_leads(
    cast: Cast, client_as: Callable[..., Client]
) -> None:
    asked = url(cast, "?regions=facilitator-bar,steps-nav")
    assert region_ids(client_as("facilitator").get(asked, **LIVE).content.decode()) == [
        "facilitator-bar",
        "steps-nav",
    ]
    assert region_ids(client_as("participant").get(asked, **LIVE).content.decode()) == [
        "steps-nav"
    ]


@pytest.mark.parametrize(
    "query",
    ["?regions=", "?regions=step-99", "?regions=../../etc", "?regions=step-1%00", "?foo=bar"],
)
def test_unknown_regions_get_the_whole_page(
    cast: Cast, client_as: Callable[..., Client], query: str
) -> None:
    response = client_as("participant").get(url(cast, query), **LIVE)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html and "data-dg-partial" not in html
    assert "step-1" in region_ids(html) and "steps-nav" in region_ids(html)


def test_a_visit_always_gets_the_whole_page(
    cast: Cast, client_as: Callable[..., Client]
) -> None:
    # Someone who opens a link with ?regions= in it sees the worksheet, not a fragment.
    html = client_as("participant").get(url(cast, "?regions=step-1")).content.decode()
    assert "<html" in html and "data-dg-partial" not in html


def test_an_outsider_gets_no_region(cast: Cast) -> None:
    response = Client().get(url(cast, "?regions=step-1"), **LIVE)
    assert response.status_code in (302, 404)
    assert "data-dg-region" not in response.content.decode()


def post_with_htmx(client: Client, path: str, data: dict) -> tuple[HttpResponse, str]:
    """Post as htmx does, and follow its redirect as htmx does: the answer and the regions."""
    post = client.post(path, data, HTTP_HX_REQUEST="true")
    follow = client.get(post["Location"].split("#")[0], HTTP_HX_REQUEST="true")
    return post, follow.content.decode()


def test_a_save_sent_by_htmx_is_answered_with_its_step_only(
    cast: Cast, client_as: Callable[..., Client]
) -> None:
    client = client_as("owner")
    post, html = post_with_htmx(
        client,
        f"/g/{cast.conversation.pk}/veld/dilemma/",
        {"text": "Wat delen we wanneer?", "version": 0, "op": "op-regions-1"},
    )
    assert post.status_code == 303
    assert post["Location"].endswith("?regions=step-1#step-1")
    assert region_ids(html) == ["step-1", "step-1-head"]

    # Without htmx (no JavaScript) the browser goes back to the whole page.
    plain = client.post(
        f"/g/{cast.conversation.pk}/veld/dilemma/",
        {"text": "Wat delen we wanneer, en met wie?", "version": 1, "op": "op-regions-2"},
    )
    assert plain["Location"] == f"/g/{cast.conversation.pk}/#step-1"


def test_a_step_change_sent_by_htmx_is_answered_with_the_navigation_and_two_heads(
    cast: Cast, client_as: Callable[..., Client]
) -> None:
    """The facilitator's own page patches what the step change moved, not the whole page: a
    whole-page answer would throw away what they are typing elsewhere."""
    client = client_as("facilitator")
    post, html = post_with_htmx(
        client, f"/g/{cast.conversation.pk}/stap/", {"step": 3, "op": "op-step-1"}
    )
    assert post.status_code == 303
    assert post["Location"].endswith("?regions=steps-nav,step-1-head,step-3-head#step-3")
    assert region_ids(html) == ["steps-nav", "step-1-head", "step-3-head"]
    assert "/stap/" in html[: html.index('id="step-3-head"')]  # step 1 can be opened again
    # Without htmx the browser goes to the step opened, on the whole page.
    plain = client.post(f"/g/{cast.conversation.pk}/stap/", {"step": 2, "op": "op-step-2"})
    assert plain["Location"] == f"/g/{cast.conversation.pk}/#step-2"


def test_a_timer_command_sent_by_htmx_is_answered_with_the_head_and_the_bar(
    cast: Cast, client_as: Callable[..., Client]
) -> None:
    post, html = post_with_htmx(
        client_as("facilitator"),
        f"/g/{cast.conversation.pk}/klok/",
        {"action": "start", "op": "op-timer-1"},
    )
    assert post["Location"].endswith("?regions=step-1-head,facilitator-bar#step-1")
    assert region_ids(html) == ["facilitator-bar", "step-1-head"]
    assert 'data-running="1"' in html
    assert 'name="action" value="pause"' in html  # Start became Pause


def test_a_timer_command_sent_twice_is_applied_once(
    cast: Cast, client_as: Callable[..., Client]
) -> None:
    """A resend after a lost answer (live.js sends a form again with its operation id)."""
    from dilemmagesprek.conversations.models import Conversation

    client = client_as("facilitator")
    for _attempt in range(2):
        response = client.post(
            f"/g/{cast.conversation.pk}/klok/",
            {"action": "extend-5", "op": "op-timer-extend"},
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 303
    assert Conversation.objects.get(pk=cast.conversation.pk).timer_extra == 5


def test_an_unknown_timer_command_is_refused_with_a_message(
    cast: Cast, client_as: Callable[..., Client]
) -> None:
    from dilemmagesprek.conversations.models import Conversation

    response = client_as("facilitator").post(
        f"/g/{cast.conversation.pk}/klok/", {"action": "extend-7", "op": "op-timer-odd"}
    )
    assert response.status_code == 422
    assert "Onbekende opdracht voor de timer." in response.content.decode()
    conversation = Conversation.objects.get(pk=cast.conversation.pk)
    assert (conversation.timer_extra, conversation.timer_started_at) == (0, None)


# --- the method of a conversation, found by its digest on the busy paths ----------------------


def test_a_conversation_keeps_the_digest_of_its_frozen_method(cast: Cast) -> None:
    from dilemmagesprek.conversations.models import Conversation, method_digest

    conversation = Conversation.objects.get(pk=cast.conversation.pk)
    assert conversation.method_digest == method_digest(conversation.method_snapshot)


def test_a_write_finds_the_parsed_method_without_loading_its_snapshot(
    cast: Cast, django_assert_num_queries
) -> None:
    from dilemmagesprek.conversations.access import find_member

    session = {"dg_members": {cast.conversation.pk: cast.alice.pk}}
    cast.conversation.method  # noqa: B018 - parsed once in this process
    member = find_member(None, session, cast.conversation.pk)
    assert "method_snapshot" in member.conversation.get_deferred_fields()
    with django_assert_num_queries(0):
        assert member.conversation.method.step_of_field("dilemma").number == 1


def test_a_conversation_without_a_digest_still_has_its_method(cast: Cast) -> None:
    # Made by the previous release during a rolling upgrade: no digest yet.
    from dilemmagesprek.conversations.access import find_member
    from dilemmagesprek.conversations.models import Conversation

    Conversation.objects.filter(pk=cast.conversation.pk).update(method_digest="")
    session = {"dg_members": {cast.conversation.pk: cast.alice.pk}}
    member = find_member(None, session, cast.conversation.pk)
    assert member.conversation.method.step_of_field("dilemma").number == 1
