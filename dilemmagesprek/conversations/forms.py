"""Forms for the conversation's own settings and its members."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dilemmagesprek.methods.loader import get_method

from .actions import NAME_MAX, TITLE_MAX
from .models import Conversation, Member

DEFAULT_METHOD = "als-openbaarheid-schuurt"


def variant_choices() -> list[tuple[str, str]]:
    method = get_method(DEFAULT_METHOD)
    return [(v.key, f"{v.label} ({v.minutes} min)") for v in method.variants]


class ConversationForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=TITLE_MAX,
        help_text=_("A short working title. Keep names and sensitive details out of it."),
    )
    variant = forms.ChoiceField(label=_("Duration"), widget=forms.RadioSelect)
    planned_at = forms.DateTimeField(
        label=_("Planned date and time"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d-%m-%Y %H:%M", "%Y-%m-%d"],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["variant"].choices = variant_choices()
        self.fields["variant"].initial = get_method(DEFAULT_METHOD).default_variant


class ConversationSettingsForm(ConversationForm):
    """The settings page: the new-conversation form plus what only matters later."""

    confidentiality = forms.ChoiceField(
        label=_("Marking on the report"),
        choices=Conversation.Confidentiality.choices,
        initial=Conversation.Confidentiality.CONFIDENTIAL,
        required=False,  # left out: the marking stays as it is
        widget=forms.RadioSelect,
        help_text=_("Printed on every page of the report."),
    )


class InviteForm(forms.Form):
    display_name = forms.CharField(label=_("Name"), max_length=NAME_MAX)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[(r.value, r.label) for r in Member.Role if r != Member.Role.FACILITATOR]
        + [(Member.Role.FACILITATOR.value, Member.Role.FACILITATOR.label)],
        initial=Member.Role.PARTICIPANT,
    )


class MemberForm(forms.Form):
    display_name = forms.CharField(label=_("Name"), max_length=NAME_MAX)
    role = forms.ChoiceField(label=_("Role"), choices=Member.Role.choices)
