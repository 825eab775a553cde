from __future__ import annotations

import datetime
import hashlib
import logging

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from dilemmagesprek.throttle.limits import allow, count

from . import two_factor

log = logging.getLogger("dilemmagesprek.auth")

# Failed logins: per account and address, and per address over all accounts.
FAILURES_PER_ACCOUNT = (5, 900)  # 5 per 15 minutes
FAILURES_PER_ADDRESS = (50, 3600)


def client_address(request: HttpRequest) -> str:
    """The peer address as the server saw it; never a header the client can set."""
    return request.META.get("REMOTE_ADDR", "")


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        address = client_address(request)
        username = request.POST.get("username", "")[:150].casefold()
        account_key = hashlib.sha256(f"{username}|{address}".encode()).hexdigest()
        if _blocked("login-account", account_key, FAILURES_PER_ACCOUNT) or _blocked(
            "login-address", address, FAILURES_PER_ADDRESS
        ):
            log.warning("login refused: too many failures from %s", address)
            form = self.get_form()
            form.errors.clear()
            return render(
                request, self.template_name,
                {"form": form, "blocked": True,
                 "next": request.POST.get("next", "")},
                status=429,
            )
        response = super().post(request, *args, **kwargs)
        if response.status_code not in (302, 303):
            # Only the address: neither the password nor the name typed is ever logged.
            allow("login-account-fail", account_key, *FAILURES_PER_ACCOUNT)
            allow("login-address-fail", address, *FAILURES_PER_ADDRESS)
            log.info("login failed from %s", address)
        else:
            log.info("login succeeded for user %s from %s", request.user.pk, address)
        return response


    def form_valid(self, form) -> HttpResponse:
        user = form.get_user()
        if user.totp_enabled:
            # The password was right; the account is signed in only after the code.
            return two_factor.start(self.request, user, self.get_success_url())
        return super().form_valid(form)


def _blocked(scope: str, value: str, limit: tuple[int, int]) -> bool:
    """True when the failures counted under `scope` already reached the limit."""
    return count(f"{scope}-fail", value, limit[1]) >= limit[0]


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        # Nothing of a confidential conversation stays behind in this browser.
        response["Clear-Site-Data"] = '"cache", "cookies", "storage"'
        return response


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; remembered on the account and in a cookie."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    response = HttpResponseRedirect(next_url, status=303)
    if language in dict(settings.LANGUAGES):
        if request.user.is_authenticated:
            request.user.language = language
            request.user.save(update_fields=["language"])
        translation.activate(language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=settings.HTTPS,
            httponly=True,
        )
    return response


@require_GET
def security_txt(request: HttpRequest) -> HttpResponse:
    """RFC 9116: where to report a vulnerability, from settings."""
    lines = [f"Contact: {contact}" for contact in settings.SECURITY_CONTACTS]
    expires = settings.SECURITY_TXT_EXPIRES or (
        (timezone.now() + datetime.timedelta(days=182)).strftime("%Y-%m-%dT00:00:00Z")
    )
    lines.append(f"Expires: {expires}")
    lines.append("Preferred-Languages: nl, en")
    lines.append(f"Canonical: {settings.SITE_URL}/.well-known/security.txt")
    if settings.SECURITY_POLICY_URL:
        lines.append(f"Policy: {settings.SECURITY_POLICY_URL}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")

