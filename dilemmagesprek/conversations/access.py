"""Finding the member behind a request: an account's membership or an invite-link session."""

from typing import Any

from django.db.models import Q
from django.http import Http404, HttpRequest

from .models import Member

SESSION_KEY = "dg_members"  # conversation id → member id, set when an invite link is used


def remember_member(request: HttpRequest, member: Member) -> None:
    members = dict(request.session.get(SESSION_KEY, {}))
    members[member.conversation_id] = member.pk
    request.session[SESSION_KEY] = members


def find_member(user: Any, session: Any, conversation_id: str) -> Member | None:
    """The active membership behind a signed-in user or an invite-link session, if any.

    Shared by the views and the live socket, so both answer "who is this?" the same way.
    """
    queryset = (
        Member.objects.select_related("conversation")
        .defer("conversation__method_snapshot")  # Conversation.method finds it by digest
        .filter(conversation_id=conversation_id, removed_at__isnull=True, waiting=False)
    )
    member = None
    if user is not None and user.is_authenticated:
        member = queryset.filter(user=user).first()
    if member is None and session is not None:
        member_id = session.get(SESSION_KEY, {}).get(conversation_id)
        if member_id:
            member = queryset.filter(pk=member_id).first()
    return member


def member_for(request: HttpRequest, conversation_id: str) -> Member:
    """The caller's active membership of the conversation, or 404.

    Outsiders — admins included — get 404 rather than 403, so a conversation's existence is
    not revealed to anyone who is not part of it.
    """
    member = find_member(request.user, request.session, conversation_id)
    if member is None:
        raise Http404
    return member


def conversations_for(request: HttpRequest) -> list[Member]:
    """The caller's memberships, newest conversation first, for "my conversations"."""
    ids = list(request.session.get(SESSION_KEY, {}).values())
    queryset = Member.objects.select_related("conversation").filter(
        removed_at__isnull=True, waiting=False
    )
    if request.user.is_authenticated:
        queryset = queryset.filter(Q(user=request.user) | Q(pk__in=ids))
    else:
        queryset = queryset.filter(pk__in=ids)
    seen: dict[str, Member] = {}
    for member in queryset.order_by("-conversation__created_at"):
        seen.setdefault(member.conversation_id, member)
    return list(seen.values())
