"""Views for the conversation itself: the list, members and invites, settings, status, step."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dilemmagesprek.lib.views import error_messages, posted_int

from . import actions, joining
from . import retention as retention_actions
from .access import conversations_for, member_for, remember_member
from .forms import ConversationSettingsForm, InviteForm
from .models import Conversation, Member
from .permissions import Perm, permissions_of, require

NEW_LINKS_KEY = "dg_new_links"  # member id → invite token, shown to the facilitator once


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated or request.session.get("dg_members"):
        return redirect("dg:conversations")
    return redirect("dg:login")


def index(request: HttpRequest) -> HttpResponse:
    memberships = conversations_for(request)
    if not memberships and not request.user.is_authenticated:
        return redirect("dg:login")
    return render(request, "conversations/index.html", {"memberships": memberships})


def join(request: HttpRequest, token: str) -> HttpResponse:
    """Exchange an invite token for a session, then continue on a clean URL."""
    member = actions.join_with_token(token)
    if member is None:
        return render(request, "conversations/join_invalid.html", status=404)
    remember_member(request, member)
    if member.role == Member.Role.OWNER and member.conversation.status in (
        Conversation.Status.CONCEPT,
        Conversation.Status.PREPARATION,
        Conversation.Status.PLANNED,
    ):
        return redirect("dg:preparation", member.conversation_id)
    return redirect("dg:worksheet", member.conversation_id)


def _links(request: HttpRequest) -> dict[str, str]:
    return dict(request.session.get(NEW_LINKS_KEY, {}))


def _remember_link(request: HttpRequest, member: Member, token: str) -> None:
    links = _links(request)
    links[member.pk] = token
    request.session[NEW_LINKS_KEY] = links


def _members_page(
    request: HttpRequest,
    member: Member,
    form: InviteForm | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
    submitted: dict[str, dict[str, str]] | None = None,
) -> HttpResponse:
    conversation = member.conversation
    links = _links(request)
    rows = [
        {
            "member": m,
            "link": request.build_absolute_uri(reverse("dg:join", args=[links[m.pk]]))
            if m.pk in links and m.token_hash
            else "",
        }
        for m in conversation.members.filter(removed_at__isnull=True, waiting=False)
    ]
    waiting = conversation.members.filter(removed_at__isnull=True, waiting=True)
    return render(
        request,
        "conversations/members.html",
        {
            "conversation": conversation,
            "member": member,
            "perms": permissions_of(member, conversation),
            "rows": rows,
            "waiting": waiting,
            "join_code": joining.display(conversation.join_code or ""),
            "join_url": request.build_absolute_uri(reverse("dg:enter_code")),
            "form": form or InviteForm(),
            "errors": errors or {},
            "error_summary": [m for messages in (errors or {}).values() for m in messages],
            "submitted": submitted or {},
            "roles": Member.Role.choices,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, conversation_id: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    require(member, Perm.MANAGE)
    if request.method == "GET":
        return _members_page(request, member)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invited, token = actions.invite_member(
                member, form.cleaned_data["display_name"], form.cleaned_data["role"]
            )
        except ValidationError as error:
            for key, messages in error_messages(error).items():
                for message in messages:
                    form.add_error(key if key in form.fields else None, message)
        else:
            _remember_link(request, invited, token)
            return HttpResponseRedirect(
                reverse("dg:members", args=[conversation_id]) + f"#member-{invited.pk}", status=303
            )
    return _members_page(request, member, form=form, status=422)


def _member_action(request: HttpRequest, conversation_id: str, member_id: str, run) -> HttpResponse:
    member = member_for(request, conversation_id)
    try:
        run(member)
    except ValidationError as error:
        messages = [m for ms in error_messages(error).values() for m in ms]
        return _members_page(
            request, member, errors={member_id: messages}, status=422,
            submitted={member_id: request.POST.dict()},
        )
    return HttpResponseRedirect(
        reverse("dg:members", args=[conversation_id]) + f"#member-{member_id}", status=303
    )


@require_POST
def update_member(request: HttpRequest, conversation_id: str, member_id: str) -> HttpResponse:
    return _member_action(
        request,
        conversation_id,
        member_id,
        lambda actor: actions.update_member(
            actor, member_id, request.POST.get("display_name", ""), request.POST.get("role", "")
        ),
    )


@require_POST
def renew_link(request: HttpRequest, conversation_id: str, member_id: str) -> HttpResponse:
    def run(actor: Member) -> None:
        renewed, token = actions.renew_invite(actor, member_id)
        _remember_link(request, renewed, token)

    return _member_action(request, conversation_id, member_id, run)


@require_POST
def revoke_link(request: HttpRequest, conversation_id: str, member_id: str) -> HttpResponse:
    return _member_action(
        request,
        conversation_id,
        member_id,
        lambda actor: actions.revoke_invite(actor, member_id),
    )


@require_http_methods(["GET", "POST"])
def remove_member(request: HttpRequest, conversation_id: str, member_id: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    require(member, Perm.MANAGE)
    if request.method == "POST":
        return _member_action(
            request,
            conversation_id,
            member_id,
            lambda actor: actions.remove_member(actor, member_id),
        )
    target = member.conversation.members.filter(pk=member_id, removed_at__isnull=True).first()
    if target is None:
        return redirect("dg:members", conversation_id)
    return render(
        request,
        "worksheets/confirm_remove.html",
        {
            "conversation": member.conversation,
            "member": member,
            "question": _("Remove %(name)s from this conversation? Their link stops working.")
            % {"name": target.display_name},
            "action": reverse("dg:remove_member", args=[conversation_id, member_id]),
            "back": reverse("dg:members", args=[conversation_id]),
        },
    )


@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest, conversation_id: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    require(member, Perm.MANAGE)
    conversation = member.conversation
    initial = {
        "title": conversation.title,
        "variant": conversation.variant,
        "planned_at": conversation.planned_at,
        "confidentiality": conversation.confidentiality,
    }
    form = ConversationSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_settings(
                member,
                form.cleaned_data["title"],
                form.cleaned_data["variant"],
                form.cleaned_data["planned_at"],
                confidentiality=form.cleaned_data["confidentiality"] or None,
            )
        except ValidationError as error:
            for key, messages in error_messages(error).items():
                for message in messages:
                    form.add_error(key if key in form.fields else None, message)
        else:
            return HttpResponseRedirect(reverse("dg:worksheet", args=[conversation_id]), status=303)
    return render(
        request,
        "conversations/settings.html",
        {
            "conversation": conversation,
            "member": member,
            "form": form,
            "perms": permissions_of(member, conversation),
            "retention_min": settings.RETENTION_MIN_DAYS,
            "retention_max": settings.RETENTION_MAX_DAYS,
        },
        status=422 if form.errors else 200,
    )


@require_POST
def change_status(request: HttpRequest, conversation_id: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    try:
        actions.change_status(member, request.POST.get("status", ""))
    except ValidationError as error:
        for message_list in error_messages(error).values():
            for message in message_list:
                messages.error(request, message)
    return HttpResponseRedirect(reverse("dg:worksheet", args=[conversation_id]), status=303)


@require_POST
def retention(request: HttpRequest, conversation_id: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    days = posted_int(request, "retention_days")
    try:
        retention_actions.set_retention(member, -1 if days is None else days)
    except ValidationError as error:
        for message_list in error_messages(error).values():
            for message in message_list:
                messages.error(request, message)
    else:
        messages.success(request, _("The retention period has been saved."))
    return HttpResponseRedirect(reverse("dg:settings", args=[conversation_id]), status=303)


@require_http_methods(["GET", "POST"])
def destroy(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """Destroy the conversation now, after a confirmation that offers a download first."""
    member = member_for(request, conversation_id)
    require(member, Perm.DESTROY)
    if request.method == "POST":
        if request.POST.get("confirm") != "vernietigen":
            return render(
                request, "conversations/destroy.html",
                {"conversation": member.conversation, "member": member,
                 "perms": permissions_of(member, member.conversation), "error": True},
                status=422,
            )
        retention_actions.destroy(member)
        messages.success(request, _("The conversation and everything in it have been destroyed."))
        return HttpResponseRedirect(reverse("dg:home"), status=303)
    return render(
        request, "conversations/destroy.html",
        {"conversation": member.conversation, "member": member,
         "perms": permissions_of(member, member.conversation)},
    )
