"""The administrator's pages: accounts, the login policy and the audit log.

Administrators manage people and settings; they cannot open conversations they are not a
member of (conversations.access answers 404), and nothing here shows conversation content.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dilemmagesprek.audit.log import audit
from dilemmagesprek.audit.models import Entry

from .models import Policy, User

AUDIT_PAGE = 500


def admin_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_admin:
            raise PermissionDenied(_("Only administrators may do this."))
        return view(request, *args, **kwargs)

    return wrapper


@admin_only
@require_http_methods(["GET", "POST"])
def users(request: HttpRequest) -> HttpResponse:
    """All accounts; creating one shows its first password once."""
    errors: dict[str, list[str]] = {}
    new_password = ""
    username = request.POST.get("username", "").strip()
    role = request.POST.get("role", User.Role.FACILITATOR)
    status = 200
    if request.method == "POST":
        if not username or len(username) > 150:
            errors["username"] = [_("Type a username of at most 150 characters.")]
        elif User.objects.filter(username__iexact=username).exists():
            errors["username"] = [_("This username is taken.")]
        if role not in User.Role.values:
            errors["role"] = [_("Choose a role.")]
        if errors:
            status = 422
        else:
            new_password = secrets.token_urlsafe(12)
            user = User(username=username, role=role)
            validate_password(new_password, user)
            user.set_password(new_password)
            user.save()
            audit(Entry.Action.USER_CREATED, user=request.user, detail=f"{user.pk}: {role}")
    return render(
        request, "accounts/admin_users.html",
        {"accounts": User.objects.order_by("username"), "errors": errors,
         "new_password": new_password, "new_username": username if new_password else "",
         "roles": User.Role.choices, "policy": Policy.current()},
        status=status,
    )


@admin_only
@require_POST
def change_user(request: HttpRequest, user_id: int) -> HttpResponse:
    """Deactivate or reactivate an account, change its role, or reset its two-factor login."""
    account = User.objects.filter(pk=user_id).first()
    command = request.POST.get("command", "")
    if account is None:
        messages.error(request, _("This account does not exist."))
    elif account.pk == request.user.pk and command in ("deactivate", "role"):
        messages.error(request, _("You cannot change your own account here."))
    elif command == "deactivate":
        account.is_active = False
        account.save(update_fields=["is_active"])
        _end_sessions_of(account)
    elif command == "activate":
        account.is_active = True
        account.save(update_fields=["is_active"])
    elif command == "reset_2fa":
        account.totp_enabled, account.totp_secret, account.totp_last_step = False, "", None
        account.save(update_fields=["totp_enabled", "totp_secret", "totp_last_step"])
    elif command == "role" and request.POST.get("role") in User.Role.values:
        account.role = request.POST["role"]
        account.save(update_fields=["role"])
    else:
        messages.error(request, _("Unknown command."))
        return HttpResponseRedirect(reverse("dg:admin_users"), status=303)
    if account is not None:
        audit(Entry.Action.USER_CHANGED, user=request.user, detail=f"{account.pk}: {command}")
    return HttpResponseRedirect(reverse("dg:admin_users"), status=303)


@admin_only
@require_POST
def policy(request: HttpRequest) -> HttpResponse:
    current = Policy.current()
    current.mfa_required = request.POST.get("mfa_required") == "on"
    current.save()
    audit(
        Entry.Action.SETTINGS_CHANGED, user=request.user,
        detail=f"mfa_required={current.mfa_required}",
    )
    messages.success(request, _("The login policy has been saved."))
    return HttpResponseRedirect(reverse("dg:admin_users"), status=303)


@admin_only
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    return render(
        request, "accounts/admin_audit.html",
        {"entries": Entry.objects.all()[:AUDIT_PAGE], "limit": AUDIT_PAGE},
    )


def _end_sessions_of(account: User) -> None:
    """A deactivated account is signed out everywhere at once."""
    for session in Session.objects.all().iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(account.pk):
            session.delete()

