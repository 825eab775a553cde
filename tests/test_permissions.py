"""Every URL, for every kind of visitor, answers as permissions.TABLE says.

The route tables below name every URL of the app. `test_it_knows_every_url` compares them with
Django's resolver, so a new URL without an entry here fails the suite until someone decides who
may use it.

Inside a conversation: a member whose role holds the permission gets the page (200) or is sent
on after the change (303); any other member gets 403. Anyone who is not a member (a visitor
without a session, a member or the facilitator of another conversation) gets 404, so a
conversation's existence is never revealed. A method the URL does not accept gets 405 from
everyone. Never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from dilemmagesprek.conversations import joining
from dilemmagesprek.conversations.actions import change_status
from dilemmagesprek.conversations.models import Conversation, Member
from dilemmagesprek.conversations.permissions import CONTENT_PERMS, TABLE, Perm
from tests.factories import (
    OTHER_SECRET,
    PERSONAS,
    SHARED_QUESTION,
    Cast,
    Furniture,
    bring_to_status,
    client_for,
    last_seq,
    state_of,
)

pytest_plugins = ["tests.fixtures_domain"]


@pytest.fixture
def cast(shared_world: tuple[Cast, Furniture], db) -> Cast:
    """Hundreds of requests read the same cast: build it once for the module."""
    return shared_world[0]


@pytest.fixture
def furniture(shared_world: tuple[Cast, Furniture], db) -> Furniture:
    return shared_world[1]


ROLE_OF = {
    "facilitator": Member.Role.FACILITATOR,
    "owner": Member.Role.OWNER,
    "participant": Member.Role.PARTICIPANT,
    "observer": Member.Role.OBSERVER,
}
NOT_MEMBERS = ("outsider", "outsider_facilitator", "anonymous")
Args = Callable[[Cast, Furniture], dict[str, str]]


def no_args(cast: Cast, furniture: Furniture) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Route:
    """A URL inside a conversation: its arguments, and the permission behind GET and POST.

    `get` or `post` None: the URL refuses that method (405). `data` is a valid form for POST.
    `theirs` builds the same arguments with objects of the conversation next door.
    """

    args: Args
    get: Perm | None
    post: Perm | None
    data: Callable[[Cast, Furniture], dict[str, str]] = no_args
    theirs: Args | None = None
    # What an allowed POST answers (most redirect; a few render a page), and what a change
    # aimed at the neighbours' object answers (most 422; a few redirect with a message).
    post_ok: int = 303
    refused: int = 422
    # Brings the conversation into the state the URL needs, before the request.
    setup: Callable[[Cast], None] | None = None


def member_arg(cast: Cast, furniture: Furniture) -> dict[str, str]:
    return {"member_id": cast.bob.pk}


def their_member(cast: Cast, furniture: Furniture) -> dict[str, str]:
    return {"member_id": cast.other_participant.pk}


def column_arg(cast: Cast, furniture: Furniture) -> dict[str, str]:
    return {"column_id": furniture.player.pk}


def their_column(cast: Cast, furniture: Furniture) -> dict[str, str]:
    return {"column_id": furniture.other_player.pk}


def card_arg(cast: Cast, furniture: Furniture) -> dict[str, str]:
    # Written by the facilitator: for everyone else it is someone else's card.
    return {"card_id": furniture.card.pk}


def their_card(cast: Cast, furniture: Furniture) -> dict[str, str]:
    return {"card_id": furniture.other_card.pk}


def newcomer_arg(cast: Cast, furniture: Furniture) -> dict[str, str]:
    return {"member_id": furniture.newcomer.pk}


def their_newcomer(cast: Cast, furniture: Furniture) -> dict[str, str]:
    return {"member_id": furniture.other_newcomer.pk}


def open_join_code(cast: Cast) -> None:
    change_status(cast.facilitator, Conversation.Status.PREPARATION)
    joining.enable_join_code(cast.facilitator)


def step_arg(cast: Cast, furniture: Furniture) -> dict[str, str]:
    return {"step_id": furniture.next_step.pk}


def their_step(cast: Cast, furniture: Furniture) -> dict[str, str]:
    return {"step_id": furniture.other_next_step.pk}


def fixed(**kwargs: str) -> Args:
    return lambda cast, furniture: kwargs


def form(**kwargs: str) -> Callable[[Cast, Furniture], dict[str, str]]:
    return lambda cast, furniture: kwargs


CONVERSATION_ROUTES: dict[str, Route] = {
    "worksheet": Route(no_args, get=Perm.VIEW, post=None),
    "members": Route(
        no_args,
        get=Perm.MANAGE,
        post=Perm.MANAGE,
        data=form(display_name="Nieuwe Speler", role=Member.Role.PARTICIPANT),
    ),
    "update_member": Route(
        member_arg,
        get=None,
        post=Perm.MANAGE,
        data=form(display_name="Bob B.", role=Member.Role.PARTICIPANT),
        theirs=their_member,
    ),
    "renew_link": Route(member_arg, get=None, post=Perm.MANAGE, theirs=their_member),
    "revoke_link": Route(member_arg, get=None, post=Perm.MANAGE, theirs=their_member),
    "remove_member": Route(member_arg, get=Perm.MANAGE, post=Perm.MANAGE, theirs=their_member),
    "admit": Route(
        newcomer_arg,
        get=None,
        post=Perm.MANAGE,
        data=form(role=Member.Role.PARTICIPANT),
        theirs=their_newcomer,
        refused=303,  # back to the members page, with the reason as a message
    ),
    "join_code": Route(no_args, get=None, post=Perm.MANAGE, data=form(enabled="0")),
    # Any method shows the QR code: it changes nothing.
    "join_qr": Route(no_args, get=Perm.MANAGE, post=Perm.MANAGE, post_ok=200, setup=open_join_code),
    "timer": Route(no_args, get=None, post=Perm.MANAGE, data=form(action="start")),
    "projector": Route(no_args, get=Perm.VIEW, post=None),
    "lead": Route(no_args, get=None, post=Perm.MANAGE, data=form(command="anonymous", value="0")),
    "report": Route(fixed(fmt="md"), get=Perm.EXPORT, post=None),
    # The draft only fills the summary's box on the page; nothing is saved.
    "summary_draft": Route(no_args, get=None, post=Perm.EDIT_FIELDS, post_ok=200),
    "settings": Route(
        no_args,
        get=Perm.MANAGE,
        post=Perm.MANAGE,
        data=form(title="Nieuwe titel", variant="kort", planned_at=""),
    ),
    "change_status": Route(
        no_args, get=None, post=Perm.MANAGE, data=form(status=Conversation.Status.PREPARATION)
    ),
    "change_step": Route(no_args, get=None, post=Perm.MANAGE, data=form(step="2")),
    "retention": Route(no_args, get=None, post=Perm.MANAGE, data=form(retention_days="30")),
    "tag_woo_grounds": Route(
        lambda cast, furniture: {"column_id": furniture.option.pk},
        get=None,
        post=Perm.EDIT_COLUMNS,
        data=form(woo_grounds="5.2"),
        theirs=their_column,
    ),
    # Nothing was removed here, so every member who may try is told it cannot come back.
    "restore_card": Route(
        fixed(card_id="nietverwijderd"), get=None, post=Perm.VIEW, post_ok=422, theirs=their_card
    ),
    # A wrong confirmation word: the page is refused, nothing is destroyed.
    "destroy": Route(
        no_args, get=Perm.DESTROY, post=Perm.DESTROY, data=form(confirm="nee"), post_ok=422
    ),
    "preparation": Route(
        no_args,
        get=Perm.VIEW_PREPARATION,
        post=Perm.EDIT_PREPARATION,
        data=form(facts="De feiten op een rij.", dilemma_kinds="ethiek"),
    ),
    "set_field": Route(
        fixed(key="dilemma"),
        get=None,
        post=Perm.EDIT_FIELDS,
        data=form(text="Het dilemma in het kort.", version="0"),
    ),
    "confirm_field": Route(
        fixed(key="shared_question"), get=None, post=Perm.CONFIRM, data=form(version="1")
    ),
    "add_next_step": Route(
        fixed(key="next_steps"),
        get=None,
        post=Perm.EDIT_NEXT_STEPS,
        data=form(what="Indieners bellen", who="Olga", when="maandag"),
    ),
    "save_evaluation": Route(
        fixed(key="satisfaction"),
        get=None,
        post=Perm.EVALUATE,
        data=form(score="4", remark="Goed gesprek."),
    ),
    "add_column": Route(
        fixed(matrix="players"), get=None, post=Perm.EDIT_COLUMNS, data=form(name="De pers")
    ),
    "rename_column": Route(
        column_arg,
        get=None,
        post=Perm.EDIT_COLUMNS,
        data=form(name="Minister"),
        theirs=their_column,
    ),
    "move_column": Route(
        column_arg,
        get=None,
        post=Perm.ARRANGE_COLUMNS,
        data=form(direction="right"),
        theirs=their_column,
    ),
    "remove_column": Route(
        column_arg, get=Perm.ARRANGE_COLUMNS, post=Perm.ARRANGE_COLUMNS, theirs=their_column
    ),
    "add_card": Route(
        column_arg,
        get=None,
        post=Perm.ADD_CARD,
        data=form(row="belangen", text="Een nieuwe kaart"),
        theirs=their_column,
    ),
    "edit_card": Route(
        card_arg, get=None, post=Perm.EDIT_ANY_CARD, data=form(text="Anders"), theirs=their_card
    ),
    "remove_card": Route(
        card_arg, get=Perm.EDIT_ANY_CARD, post=Perm.EDIT_ANY_CARD, theirs=their_card
    ),
    "edit_next_step": Route(
        step_arg,
        get=None,
        post=Perm.EDIT_NEXT_STEPS,
        data=form(what="Indieners mailen", who="", when=""),
        theirs=their_step,
    ),
    "remove_next_step": Route(
        step_arg, get=Perm.EDIT_NEXT_STEPS, post=Perm.EDIT_NEXT_STEPS, theirs=their_step
    ),
}

# Known gaps, each reported to the lead: the confirmation page for removing a card or an action
# is shown to members who may not remove it (the POST is refused with 403 afterwards).
CONFIRM_PAGE_BUG = (
    "bug: worksheets/views.py remove_card / remove_next_step render the 'remove?' confirmation "
    "page on GET without checking the permission (remove_column and remove_member do check)"
)
KNOWN_GAPS: dict[tuple[str, str, str], str] = {}


@dataclass(frozen=True)
class SiteRoute:
    """A URL outside any conversation, with the status each persona gets ("*": the rest)."""

    args: Args
    get: dict[str, int]
    post: dict[str, int]
    data: Callable[[Cast, Furniture], dict[str, str]] = no_args
    # Where a redirect for that persona must point, if it matters.
    location: dict[str, str] = field(default_factory=dict)


ACCOUNTS = {"facilitator", "outsider_facilitator"}
LOGIN = "/inloggen/"

SITE_ROUTES: dict[str, SiteRoute] = {
    "home": SiteRoute(no_args, get={"*": 302}, post={"*": 302}, location={"anonymous": LOGIN}),
    "login": SiteRoute(
        no_args,
        get={"facilitator": 302, "outsider_facilitator": 302, "*": 200},
        post={"facilitator": 302, "outsider_facilitator": 302, "*": 200},
        data=form(username="niemand", password="fout-wachtwoord"),
    ),
    "logout": SiteRoute(no_args, get={"*": 405}, post={"*": 302}, location={"*": LOGIN}),
    "set_language": SiteRoute(
        no_args,
        get={"*": 405},
        post={"*": 303},
        data=form(language="en", next="/gesprekken/"),
        location={"*": "/gesprekken/"},
    ),
    "conversations": SiteRoute(
        no_args,
        get={"anonymous": 302, "*": 200},
        post={"anonymous": 302, "*": 200},
        location={"anonymous": LOGIN},
    ),
    "new_conversation": SiteRoute(
        no_args,
        get={"facilitator": 200, "outsider_facilitator": 200, "*": 302},
        post={"*": 302},
        data=form(title="Nog een gesprek", variant="lang", planned_at=""),
        location={p: LOGIN for p in PERSONAS if p not in ACCOUNTS},
    ),
    "join": SiteRoute(
        lambda cast, furniture: {"token": cast.bob_token}, get={"*": 302}, post={"*": 302}
    ),
    "import_conversation": SiteRoute(
        no_args,
        get={"facilitator": 200, "outsider_facilitator": 200, "*": 302},
        post={"facilitator": 422, "outsider_facilitator": 422, "*": 302},  # no file sent
        data=form(note="zonder bestand"),
        location={p: LOGIN for p in PERSONAS if p not in ACCOUNTS},
    ),
    "enter_code": SiteRoute(no_args, get={"*": 200}, post={"*": 422}, data=form(code="ABCD-EFGH")),
    # Without a code entered first, the lobby sends everyone back to enter one.
    "lobby_name": SiteRoute(
        no_args,
        get={"*": 302},
        post={"*": 302},
        data=form(display_name="Nina"),
        location={"*": "/doe-mee/"},
    ),
    "lobby_wait": SiteRoute(no_args, get={"*": 302}, post={"*": 302}, location={"*": "/doe-mee/"}),
    # Without a password entered first, the code step sends everyone back to log in.
    "login_code": SiteRoute(no_args, get={"*": 302}, post={"*": 302}, location={"*": LOGIN}),
    "two_factor": SiteRoute(
        no_args,
        get={"facilitator": 200, "outsider_facilitator": 200, "*": 302},
        post={"facilitator": 422, "outsider_facilitator": 422, "*": 302},
        data=form(code="000000"),
    ),
    # Administrators only: facilitators are refused, everyone else must log in first.
    **{
        name: SiteRoute(
            args,
            get={"facilitator": 403, "outsider_facilitator": 403, "*": 302},
            post={"facilitator": 403, "outsider_facilitator": 403, "*": 302},
        )
        for name, args in (
            ("admin_users", no_args),
            ("admin_change_user", fixed(user_id="1")),
            ("admin_policy", no_args),
            ("admin_audit", no_args),
        )
    },
    "privacy": SiteRoute(no_args, get={"*": 200}, post={"*": 405}),
    "accessibility": SiteRoute(no_args, get={"*": 200}, post={"*": 405}),
    "security_txt": SiteRoute(no_args, get={"*": 200}, post={"*": 405}),
    "health_live": SiteRoute(no_args, get={"*": 200}, post={"*": 405}),
    "health_ready": SiteRoute(no_args, get={"*": 200}, post={"*": 405}),
    "metrics": SiteRoute(no_args, get={"*": 200}, post={"*": 405}),  # the test client is local
}


# --- the tables cover every URL ------------------------------------------------------------


def url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            else:
                assert pattern.name, f"URL {pattern.pattern} has no name"
                names.add(f"{namespace}{pattern.name}")

    walk(get_resolver().url_patterns, "")
    return names


def test_it_knows_every_url() -> None:
    tabled = {f"dg:{name}" for name in [*CONVERSATION_ROUTES, *SITE_ROUTES]}

    assert url_names() == tabled, "add each new URL to CONVERSATION_ROUTES or SITE_ROUTES"


def test_it_gives_every_permission_a_row_in_the_table() -> None:
    assert set(TABLE) == set(Perm)


# --- walking the tables --------------------------------------------------------------------


def expected_status(route: Route, method: str, persona: str) -> int:
    perm = route.get if method == "GET" else route.post
    if perm is None:
        return 405
    if persona in NOT_MEMBERS:
        return 404
    if ROLE_OF[persona] in TABLE[perm]:
        return 200 if method == "GET" else route.post_ok
    return 403


def request(client: Client, method: str, url: str, data: dict[str, Any]) -> Any:
    if method == "GET":
        return client.get(url)
    return client.post(url, data)


def conversation_cases() -> list:
    cases = []
    for name in CONVERSATION_ROUTES:
        for method in ("GET", "POST"):
            for persona in PERSONAS:
                gap = KNOWN_GAPS.get((name, method, persona))
                marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
                cases.append(pytest.param(name, method, persona, marks=marks))
    return cases


def site_cases() -> list:
    return [
        pytest.param(name, method, persona)
        for name in SITE_ROUTES
        for method in ("GET", "POST")
        for persona in PERSONAS
    ]


@pytest.mark.parametrize(("name", "method", "persona"), conversation_cases())
def test_it_answers_every_conversation_url_as_the_table_says(
    cast: Cast, furniture: Furniture, name: str, method: str, persona: str
) -> None:
    route = CONVERSATION_ROUTES[name]
    if route.setup:
        route.setup(cast)
    client = client_for(cast, persona)
    url = reverse(
        f"dg:{name}",
        kwargs={"conversation_id": cast.conversation.pk, **route.args(cast, furniture)},
    )
    theirs_before = state_of(cast.other_conversation.pk)

    response = request(client, method, url, route.data(cast, furniture))

    assert response.status_code == expected_status(route, method, persona)
    assert state_of(cast.other_conversation.pk) == theirs_before
    if persona in NOT_MEMBERS:
        body = response.content.decode()
        assert cast.conversation.title not in body
        assert SHARED_QUESTION not in body
        assert furniture.card.text not in body


@pytest.mark.parametrize(("name", "method", "persona"), site_cases())
def test_it_answers_every_site_url_as_expected(
    cast: Cast, furniture: Furniture, name: str, method: str, persona: str
) -> None:
    route = SITE_ROUTES[name]
    table = route.get if method == "GET" else route.post
    client = client_for(cast, persona)
    url = reverse(f"dg:{name}", kwargs=route.args(cast, furniture))

    response = request(client, method, url, route.data(cast, furniture))

    assert response.status_code == table.get(persona, table["*"])
    location = route.location.get(persona, route.location.get("*"))
    if location and response.status_code in (302, 303):
        assert response["Location"].split("?")[0] == location


def test_it_never_lists_another_conversation(cast: Cast, furniture: Furniture) -> None:
    for persona in ("facilitator", "owner", "participant", "observer"):
        body = client_for(cast, persona).get("/gesprekken/").content.decode()

        assert cast.conversation.title in body
        assert cast.other_conversation.title not in body


def test_it_refuses_an_unknown_invitation_link(cast: Cast) -> None:
    response = Client().get("/uitnodiging/geen-geldige-link/")

    assert response.status_code == 404
    assert cast.conversation.title not in response.content.decode()


def test_it_forgets_a_link_member_once_removed(cast: Cast, furniture: Furniture) -> None:
    client = client_for(cast, "participant")
    worksheet = reverse("dg:worksheet", args=[cast.conversation.pk])
    assert client.get(worksheet).status_code == 200

    facilitator = client_for(cast, "facilitator")
    url = reverse("dg:remove_member", args=[cast.conversation.pk, cast.alice.pk])
    assert facilitator.post(url).status_code == 303

    assert client.get(worksheet).status_code == 404


# --- objects of another conversation -------------------------------------------------------


def foreign_object_cases() -> list:
    return [
        pytest.param(name, method)
        for name, route in CONVERSATION_ROUTES.items()
        if route.theirs is not None
        for method in ("GET", "POST")
        if (route.get if method == "GET" else route.post) is not None
    ]


@pytest.mark.parametrize(("name", "method"), foreign_object_cases())
def test_it_never_reaches_into_another_conversation_through_an_id(
    cast: Cast, furniture: Furniture, name: str, method: str
) -> None:
    """Our facilitator puts the neighbours' ids in our own URLs: nothing of theirs is touched."""
    route = CONVERSATION_ROUTES[name]
    client = client_for(cast, "facilitator")
    url = reverse(
        f"dg:{name}",
        kwargs={"conversation_id": cast.conversation.pk, **route.theirs(cast, furniture)},
    )
    theirs_before, their_seq = (
        state_of(cast.other_conversation.pk),
        last_seq(cast.other_conversation.pk),
    )
    ours_before, our_seq = state_of(cast.conversation.pk), last_seq(cast.conversation.pk)

    response = request(client, method, url, route.data(cast, furniture))

    # A confirmation page for something that is not ours sends us back; a change is refused.
    assert response.status_code == (302 if method == "GET" else route.refused)
    assert OTHER_SECRET not in response.content.decode()
    assert cast.other_conversation.title not in response.content.decode()
    assert state_of(cast.other_conversation.pk) == theirs_before
    assert last_seq(cast.other_conversation.pk) == their_seq
    assert state_of(cast.conversation.pk) == ours_before
    assert last_seq(cast.conversation.pk) == our_seq


# --- closed conversations ------------------------------------------------------------------


def closed_cases() -> list:
    cases = []
    for name, route in CONVERSATION_ROUTES.items():
        if route.setup:  # e.g. a join code, which ending the conversation takes away
            continue
        for method, perm in (("GET", route.get), ("POST", route.post)):
            if perm is None:
                continue
            persona = next(p for p in ROLE_OF if ROLE_OF[p] in TABLE[perm])
            gap = False
            marks = [pytest.mark.xfail(strict=True, reason=CONFIRM_PAGE_BUG)] if gap else []
            cases.append(pytest.param(name, method, persona, perm in CONTENT_PERMS, marks=marks))
    return cases


@pytest.mark.parametrize(("name", "method", "persona", "is_content"), closed_cases())
def test_it_stops_content_changes_once_the_conversation_is_closed(
    cast: Cast, furniture: Furniture, name: str, method: str, persona: str, is_content: bool
) -> None:
    bring_to_status(cast.facilitator, Conversation.Status.CLOSED)
    route = CONVERSATION_ROUTES[name]
    client = client_for(cast, persona)
    url = reverse(
        f"dg:{name}",
        kwargs={"conversation_id": cast.conversation.pk, **route.args(cast, furniture)},
    )
    data = route.data(cast, furniture)
    if name == "change_status":
        data = {"status": Conversation.Status.RUNNING}  # the way back from "closed"

    response = request(client, method, url, data)

    if is_content:
        assert response.status_code == 403
    else:
        assert response.status_code == (200 if method == "GET" else route.post_ok)


# --- what each role sees -------------------------------------------------------------------


@pytest.mark.parametrize("persona", list(ROLE_OF))
def test_it_shows_each_role_only_the_controls_it_may_use(
    cast: Cast, furniture: Furniture, persona: str
) -> None:
    conversation_id = cast.conversation.pk
    body = client_for(cast, persona).get(f"/g/{conversation_id}/").content.decode()
    role = ROLE_OF[persona]

    def shown(name: str, **kwargs: str) -> bool:
        url = reverse(f"dg:{name}", kwargs={"conversation_id": conversation_id, **kwargs})
        return f'"{url}"' in body

    assert shown("set_field", key="dilemma") == (role in TABLE[Perm.EDIT_FIELDS])
    assert shown("confirm_field", key="shared_question") == (role in TABLE[Perm.CONFIRM])
    assert shown("add_card", column_id=furniture.player.pk) == (role in TABLE[Perm.ADD_CARD])
    assert shown("move_column", column_id=furniture.player.pk) == (
        role in TABLE[Perm.ARRANGE_COLUMNS]
    )
    assert shown("add_column", matrix="players") == (role in TABLE[Perm.EDIT_COLUMNS])
    assert shown("add_next_step", key="next_steps") == (role in TABLE[Perm.EDIT_NEXT_STEPS])
    assert shown("save_evaluation", key="satisfaction") == (role in TABLE[Perm.EVALUATE])
    assert shown("members") == (role in TABLE[Perm.MANAGE])
    assert shown("preparation") == (role in TABLE[Perm.VIEW_PREPARATION])
    assert shown("edit_card", card_id=furniture.card.pk) == (role in TABLE[Perm.EDIT_ANY_CARD])
    assert ("dg-guidance" in body) == (role in TABLE[Perm.VIEW_GUIDANCE])
