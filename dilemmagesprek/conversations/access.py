"""Finding the member behind a request: an account's membership or an invite-link session."""

from django.db.models import Q
from django.http import Http404, HttpRequest

from .models import Member

SESSION_KEY = "dg_members"  # conversation id → member id, set when an invite link is used


def remember_member(request: HttpRequest, member: Member) -> None:
    members = dict(request.session.get(SESSION_KEY, {}))
    members[member.conversation_id] = member.pk
    request.session[SESSION_KEY] = members


def member_for(request: HttpRequest, conversation_id: str) -> Member:
    """The caller's active membership of the conversation, or 404.

    Outsiders — admins included — get 404 rather than 403, so a conversation's existence is
    not revealed to anyone who is not part of it.
    """
    queryset = Member.objects.select_related("conversation").filter(
        conversation_id=conversation_id, removed_at__isnull=True
    )
    member = None
    if request.user.is_authenticated:
        member = queryset.filter(user=request.user).first()
    if member is None:
        member_id = request.session.get(SESSION_KEY, {}).get(conversation_id)
        if member_id:
            member = queryset.filter(pk=member_id).first()
    if member is None:
        raise Http404
    return member


def conversations_for(request: HttpRequest) -> list[Member]:
    """The caller's memberships, newest conversation first, for "my conversations"."""
    ids = list(request.session.get(SESSION_KEY, {}).values())
    queryset = Member.objects.select_related("conversation").filter(removed_at__isnull=True)
    if request.user.is_authenticated:
        queryset = queryset.filter(Q(user=request.user) | Q(pk__in=ids))
    else:
        queryset = queryset.filter(pk__in=ids)
    seen: dict[str, Member] = {}
    for member in queryset.order_by("-conversation__created_at"):
        seen.setdefault(member.conversation_id, member)
    return list(seen.values())
