"""Downloading the report from the worksheet, the draft summary in step 5, and the marking."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import translation

from dilemmagesprek.audit.models import Entry
from dilemmagesprek.conversations import actions as conversation_actions
from dilemmagesprek.conversations.models import Conversation, Event
from dilemmagesprek.preparations.actions import save_preparation
from dilemmagesprek.reports.exporters import EXPORTERS
from dilemmagesprek.reports.report import build_report, member_label
from dilemmagesprek.reports.summary import draft_summary
from dilemmagesprek.worksheets import actions
from dilemmagesprek.worksheets.models import FieldValue
from tests.factories import Cast, bring_to_status, columns
from tests.reports import builders

pytest_plugins = ["tests.fixtures_domain"]
pytestmark = pytest.mark.django_db
ClientAs = Callable[..., Client]


def report_url(cast: Cast, fmt: str) -> str:
    return f"/g/{cast.conversation.pk}/verslag/{fmt}/"


@pytest.mark.parametrize("persona", ["facilitator", "owner"])
@pytest.mark.parametrize("fmt", sorted(EXPORTERS))
def test_it_lets_the_facilitator_and_the_owner_download(
    cast: Cast, client_as: ClientAs, persona: str, fmt: str
) -> None:
    response = client_as(persona).get(report_url(cast, fmt))

    assert response.status_code == 200
    assert response["Content-Type"] == EXPORTERS[fmt].content_type
    assert response["Content-Disposition"] == (
        f'attachment; filename="Woo-verzoek-over-de-subsidieregeling.{fmt}"'
    )
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("persona", "status"),
    [("participant", 403), ("observer", 403), ("outsider", 404), ("anonymous", 404)],
)
def test_it_refuses_the_report_to_everyone_else(
    cast: Cast, client_as: ClientAs, persona: str, status: int
) -> None:
    assert client_as(persona).get(report_url(cast, "pdf")).status_code == status


def test_it_knows_no_other_format(cast: Cast, client_as: ClientAs) -> None:
    assert client_as("facilitator").get(report_url(cast, "exe")).status_code == 404


def test_it_still_offers_the_report_of_a_closed_conversation(
    cast: Cast, client_as: ClientAs
) -> None:
    owner = client_as("owner")
    bring_to_status(cast.facilitator, Conversation.Status.ARCHIVED)

    assert owner.get(report_url(cast, "md")).status_code == 200


@pytest.mark.parametrize(
    ("persona", "shown"),
    [("facilitator", True), ("owner", True), ("participant", False), ("observer", False)],
)
def test_it_shows_the_download_links_as_the_roles_table_says(
    cast: Cast, client_as: ClientAs, persona: str, shown: bool
) -> None:
    page = client_as(persona).get(f"/g/{cast.conversation.pk}/").content.decode()

    for fmt in EXPORTERS:
        assert (f'href="{report_url(cast, fmt)}"' in page) is shown


def test_it_limits_how_many_reports_a_person_makes_a_minute(
    cast: Cast, client_as: ClientAs
) -> None:
    client = client_as("owner")

    statuses = [client.get(report_url(cast, "json")).status_code for _ in range(11)]

    assert statuses == [200] * 10 + [429]
    assert client_as("facilitator").get(report_url(cast, "json")).status_code == 200


def test_it_audits_an_export_without_its_content(cast: Cast, client_as: ClientAs) -> None:
    client_as("owner").get(report_url(cast, "md"))

    entry = Entry.objects.get(action=Entry.Action.EXPORTED)
    assert (entry.conversation_id, entry.member_id, entry.detail) == (
        cast.conversation.pk,
        cast.owner.pk,
        "md",
    )


# --- the marking ---------------------------------------------------------------------------


def test_it_prints_the_marking_chosen_in_the_settings(cast: Cast, client_as: ClientAs) -> None:
    response = client_as("facilitator").post(
        f"/g/{cast.conversation.pk}/instellingen/",
        {
            "title": cast.conversation.title,
            "variant": "kort",
            "planned_at": "",
            "confidentiality": "intern",
        },
    )

    assert response.status_code == 303
    markdown = client_as("owner").get(report_url(cast, "md")).content.decode()
    assert markdown.startswith("**Intern**")
    assert "| 1\\. Kennismaken | 7 min | — |" in markdown  # the short variant's time box


def test_it_marks_a_new_conversation_confidential(cast: Cast) -> None:
    assert cast.conversation.confidentiality == "vertrouwelijk"
    with translation.override("nl"):
        assert build_report(cast.conversation).confidentiality_label == "Vertrouwelijk"


# --- the draft summary ---------------------------------------------------------------------


def draft_url(cast: Cast) -> str:
    return f"/g/{cast.conversation.pk}/samenvatting/concept/"


def test_it_puts_a_draft_in_the_summary_box_and_saves_nothing(
    cast: Cast, client_as: ClientAs
) -> None:
    actions.set_field(cast.alice, "dilemma", "Delen we de nota nu?", None)
    actions.set_field(cast.alice, "summary", "Onze eigen samenvatting.", None)
    client = client_as("participant")
    events_before = Event.objects.filter(conversation=cast.conversation).count()

    response = client.post(draft_url(cast))

    assert response.status_code == 200
    page = response.content.decode()
    textarea = page.split('id="field-summary-text"')[1].split("</textarea>")[0]
    assert "Dilemma: Delen we de nota nu?" in textarea
    assert "Onze eigen samenvatting." not in textarea
    # The live worksheet keeps a form marked pending when others' changes come in.
    assert "data-dg-pending" in page.split('id="field-summary"')[1].split(">")[1]
    assert 'name="version" value="1"' in page.split('id="field-summary"')[1]
    summary = FieldValue.objects.get(conversation=cast.conversation, key="summary")
    assert (summary.text, summary.version) == ("Onze eigen samenvatting.", 1)
    assert Event.objects.filter(conversation=cast.conversation).count() == events_before


def test_it_offers_the_draft_button_in_the_summary_form(cast: Cast, client_as: ClientAs) -> None:
    page = client_as("participant").get(f"/g/{cast.conversation.pk}/").content.decode()
    form = page.split('id="field-summary"')[1].split("</form>")[0]

    assert f'formaction="{draft_url(cast)}"' in form


@pytest.mark.parametrize(
    ("persona", "status"), [("observer", 403), ("outsider", 404), ("anonymous", 404)]
)
def test_it_refuses_a_draft_to_who_may_not_edit(
    cast: Cast, client_as: ClientAs, persona: str, status: int
) -> None:
    assert client_as(persona).post(draft_url(cast)).status_code == status


def test_it_answers_a_draft_only_to_a_post(cast: Cast, client_as: ClientAs) -> None:
    assert client_as("facilitator").get(draft_url(cast)).status_code == 405


def test_it_writes_the_draft_from_the_content() -> None:
    built = builders.filled()
    report = build_report(built.conversation, language="en")

    draft = draft_summary(report)

    assert draft.splitlines() == [
        "Dilemma: Delen we de conceptnota nu met de indieners, of pas na het besluit? De "
        "minister wil eerst zelf spreken. " + builders.DUTCH,
        "Shared question: Mogen we de conceptnota nu al delen met de indieners?",
        "Options weighed: Option 1: Nu delen (1 advantages, 1 disadvantages); "
        "Option 2: Wachten op het besluit (1 advantages, 1 disadvantages)",
        "Conclusion: " + builders.FIELDS["conclusion"],
        "Choice: " + builders.FIELDS["choice"],
        "Next steps: Minister informeren (Olga, donderdag); "
        "Nota delen met de indieners (Fenna, vrijdag)",
        "Satisfaction: on average 4.5 out of 5 (2 answers).",
    ]


def test_it_writes_no_draft_lines_for_empty_parts(cast: Cast) -> None:
    assert draft_summary(build_report(cast.conversation)) == ""


def test_it_keeps_the_draft_within_the_fields_limit(cast: Cast) -> None:
    actions.set_field(cast.alice, "dilemma", "lang " * 799, None)
    actions.set_field(cast.alice, "conclusion", "lang " * 799, None)

    draft = draft_summary(build_report(cast.conversation))

    assert 3990 <= len(draft) <= 4000
    assert draft.endswith("…")


# --- who appears how ------------------------------------------------------------------------


def test_it_names_members_by_role_when_the_conversation_is_anonymous(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[0]
    actions.add_card(cast.alice, player.pk, "standpunten", "Een standpunt.")
    with translation.override("nl"):
        named = build_report(cast.conversation)
        anonymous = build_report(cast.conversation, anonymous=True)

    card = named.field("players").matrix.columns[0].cells[0].cards[0]
    assert card.author_label == "Alice Speler (Deelnemer)"
    card = anonymous.field("players").matrix.columns[0].cells[0].cards[0]
    assert card.author_label == "Deelnemer"
    assert [m.label for m in anonymous.members][:2] == ["Gespreksleider", "Dilemma-eigenaar"]
    with translation.override("nl"):
        assert member_label(cast.owner) == "Olga Eigenaar (Dilemma-eigenaar)"
        assert member_label(cast.owner, anonymous=True) == "Dilemma-eigenaar"


def test_it_shows_the_preparation_only_to_who_may_read_it(cast: Cast) -> None:
    save_preparation(cast.owner, {"facts": "Feiten."}, [], True)

    assert build_report(cast.conversation, viewer=cast.facilitator).shows_preparation
    assert build_report(cast.conversation).shows_preparation
    assert build_report(cast.conversation, viewer=cast.alice).preparation is None


def test_it_carries_planned_and_measured_minutes(cast: Cast) -> None:
    Conversation.objects.filter(pk=cast.conversation.pk).update(step_seconds={"1": 629})
    conversation = Conversation.objects.get(pk=cast.conversation.pk)
    conversation_actions.update_settings(cast.facilitator, conversation.title, "kort", None)

    report = build_report(Conversation.objects.get(pk=cast.conversation.pk))

    assert [s.planned_minutes for s in report.steps] == [7, 18, 15, 12, 8]
    assert [s.actual_minutes for s in report.steps] == [10, None, None, None, None]


def test_it_reads_a_conversation_in_a_fixed_number_of_queries(
    cast: Cast, django_assert_num_queries
) -> None:
    small = Conversation.objects.get(pk=cast.conversation.pk)
    large = builders.large().refresh()

    for conversation in (small, large):
        # members, the five worksheet tables, the preparation
        with django_assert_num_queries(7):
            build_report(conversation, viewer=None)


def test_it_links_to_the_import_from_the_list_of_conversations(
    cast: Cast, client_as: ClientAs
) -> None:
    page = client_as("facilitator").get("/gesprekken/").content.decode()

    assert 'href="/gesprekken/importeren/"' in page
