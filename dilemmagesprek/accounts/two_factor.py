"""Two-factor login: the code step after the password, and setting up an authenticator app."""

from __future__ import annotations

from collections.abc import Callable

import segno
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from dilemmagesprek.throttle.limits import allow

from . import totp
from .models import Policy, User

PENDING_USER = "dg_2fa_user"  # passed the password, still owes the code
PENDING_NEXT = "dg_2fa_next"
PENDING_SECRET = "dg_2fa_secret"  # noqa: S105 - a session key; the secret set up
CODE_ATTEMPTS = (5, 900)  # per account per 15 minutes


def start(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    """Called by the login view once the password is right and the account uses 2FA."""
    request.session.cycle_key()
    request.session[PENDING_USER] = user.pk
    request.session[PENDING_NEXT] = next_url
    return HttpResponseRedirect(reverse("dg:login_code"), status=303)


@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    user = User.objects.filter(pk=request.session.get(PENDING_USER), is_active=True).first()
    if user is None or not user.totp_enabled:
        return redirect("dg:login")
    error, status = "", 200
    if request.method == "POST":
        if not allow("totp-login", str(user.pk), *CODE_ATTEMPTS):
            error, status = _("Too many wrong codes. Wait a quarter of an hour."), 429
        else:
            step = totp.verify(user.totp_secret, request.POST.get("code", ""), user.totp_last_step)
            if step is not None:
                user.totp_last_step = step
                user.save(update_fields=["totp_last_step"])
                next_url = request.session.get(PENDING_NEXT, "")
                login(request, user)
                if not url_has_allowed_host_and_scheme(
                    next_url, {request.get_host()}, request.is_secure()
                ):
                    next_url = reverse("dg:conversations")
                return HttpResponseRedirect(next_url or reverse("dg:conversations"), status=303)
            error, status = _("This code is not right. Use the newest code from your app."), 422
    return render(request, "accounts/login_code.html", {"error": error}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Turn two-factor login on (scan, then confirm with a code), or off when allowed."""
    user: User = request.user
    policy = Policy.current()
    error, status = "", 200
    if request.method == "POST" and request.POST.get("action") == "disable":
        if policy.mfa_required:
            error, status = _("Two-factor login is required here; it cannot be turned off."), 422
        elif totp.verify(user.totp_secret, request.POST.get("code", ""), user.totp_last_step):
            user.totp_enabled, user.totp_secret, user.totp_last_step = False, "", None
            user.save(update_fields=["totp_enabled", "totp_secret", "totp_last_step"])
            return HttpResponseRedirect(reverse("dg:two_factor"), status=303)
        else:
            error, status = _("This code is not right. Use the newest code from your app."), 422
    elif request.method == "POST":
        secret = request.session.get(PENDING_SECRET, "")
        step = totp.verify(secret, request.POST.get("code", ""), None)
        if step is not None:
            user.totp_secret, user.totp_enabled, user.totp_last_step = secret, True, step
            user.save(update_fields=["totp_secret", "totp_enabled", "totp_last_step"])
            del request.session[PENDING_SECRET]
            return HttpResponseRedirect(reverse("dg:conversations"), status=303)
        error, status = _("This code is not right. Scan the code again and try once more."), 422
    context = {"error": error, "enabled": user.totp_enabled, "required": policy.mfa_required}
    if not user.totp_enabled:
        secret = request.session.get(PENDING_SECRET) or totp.new_secret()
        request.session[PENDING_SECRET] = secret
        uri = totp.provisioning_uri(secret, user.get_username())
        qr_svg = segno.make(uri, error="m").svg_inline(
            scale=4, border=2, title=_("QR code for your authenticator app")
        )
        context.update(secret=secret, qr_svg=qr_svg)
    return render(request, "accounts/two_factor.html", context, status=status)


class RequireTwoFactorMiddleware:
    """When the administrator requires it, an account without two-factor login can do
    nothing but set it up (or log out)."""

    ALLOWED = ("/account/tweestaps/", "/uitloggen/", "/static/", "/taal/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.totp_enabled
            and not request.path.startswith(self.ALLOWED)
            and Policy.current().mfa_required
        ):
            return redirect("dg:two_factor")
        return self.get_response(request)
