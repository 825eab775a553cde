"""Joining with a code: enter the code, give a name, wait to be let in."""

from __future__ import annotations

import io

import segno
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dilemmagesprek.lib.views import error_messages

from . import joining
from .access import member_for, remember_member
from .models import Conversation, Member
from .permissions import Perm, require

LOBBY_KEY = "dg_lobby"  # the conversation whose code this browser entered
WAITING_KEY = "dg_waiting"  # conversation id → the member id waiting in its lobby


@require_http_methods(["GET", "POST"])
def enter_code(request: HttpRequest) -> HttpResponse:
    code = request.POST.get("code", request.GET.get("code", ""))[:40]
    error, status = "", 200
    if request.method == "POST":
        address = request.META.get("REMOTE_ADDR", "")
        try:
            conversation = joining.find_by_code(code, address)
        except joining.TooManyAttempts:
            error = _("Too many attempts. Wait ten minutes and try again.")
            status = 429
        else:
            if conversation is not None:
                request.session[LOBBY_KEY] = conversation.pk
                return HttpResponseRedirect(reverse("dg:lobby_name"), status=303)
            error = _("We do not know this code, or the conversation is no longer open. "
                      "Check the code with the facilitator.")
            status = 422
    return render(
        request, "conversations/join_code.html", {"code": code, "error": error}, status=status
    )


@require_http_methods(["GET", "POST"])
def lobby_name(request: HttpRequest) -> HttpResponse:
    conversation = Conversation.objects.filter(
        pk=request.session.get(LOBBY_KEY, ""), status__in=joining.OPEN_STATUSES,
        join_code__isnull=False,
    ).first()
    if conversation is None:
        return redirect("dg:enter_code")
    name, errors, status = request.POST.get("display_name", ""), [], 200
    if request.method == "POST":
        try:
            member = joining.enter_lobby(conversation, name)
        except ValidationError as error:
            errors = [m for ms in error_messages(error).values() for m in ms]
            status = 422
        else:
            waiting = dict(request.session.get(WAITING_KEY, {}))
            waiting[conversation.pk] = member.pk
            request.session[WAITING_KEY] = waiting
            del request.session[LOBBY_KEY]
            return HttpResponseRedirect(reverse("dg:lobby_wait"), status=303)
    return render(
        request, "conversations/lobby_name.html",
        {"conversation": conversation, "name": name, "errors": errors}, status=status,
    )


def lobby_wait(request: HttpRequest) -> HttpResponse:
    """Shown until the facilitator lets the newcomer in; refreshes itself, no script needed."""
    waiting = dict(request.session.get(WAITING_KEY, {}))
    for conversation_id, member_id in waiting.items():
        member = Member.objects.filter(pk=member_id, conversation_id=conversation_id).first()
        if member is None or member.removed_at is not None:
            del waiting[conversation_id]
            request.session[WAITING_KEY] = waiting
            return render(request, "conversations/lobby_refused.html", status=403)
        if not member.waiting:
            del waiting[conversation_id]
            request.session[WAITING_KEY] = waiting
            remember_member(request, member)
            return redirect("dg:worksheet", conversation_id)
        return render(request, "conversations/lobby_wait.html", {"member": member})
    return redirect("dg:enter_code")


@require_POST
def join_code(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """Turn joining with a code on or off."""
    member = member_for(request, conversation_id)
    try:
        if request.POST.get("enabled") == "1":
            joining.enable_join_code(member)
        else:
            joining.disable_join_code(member)
    except ValidationError as error:
        for message_list in error_messages(error).values():
            for message in message_list:
                messages.error(request, message)
    return HttpResponseRedirect(reverse("dg:members", args=[conversation_id]), status=303)


@require_POST
def admit(request: HttpRequest, conversation_id: str, member_id: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    try:
        joining.admit(member, member_id, request.POST.get("role", Member.Role.PARTICIPANT))
    except ValidationError as error:
        for message_list in error_messages(error).values():
            for message in message_list:
                messages.error(request, message)
    return HttpResponseRedirect(reverse("dg:members", args=[conversation_id]), status=303)


def join_qr(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """The QR code for the join page with this conversation's code filled in (SVG)."""
    member = member_for(request, conversation_id)
    require(member, Perm.MANAGE)
    code = member.conversation.join_code
    if not code:
        raise Http404
    url = request.build_absolute_uri(reverse("dg:enter_code")) + f"?code={code}"
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer, kind="svg", scale=5, border=2, title=_("QR code to join the conversation")
    )
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response
