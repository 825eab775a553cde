"""Headers on every page, security.txt, login limits and logs, session lifetimes, logout."""

import datetime
import logging

import pytest
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from dilemmagesprek.accounts.models import User
from dilemmagesprek.lib.middleware import SESSION_STARTED
from dilemmagesprek.worksheets import actions

pytestmark = pytest.mark.django_db
PASSWORD = "een-lang-wachtwoord-voor-tests"


@pytest.fixture
def facilitator():
    user = User.objects.create_user("leider", password=PASSWORD)
    conversation, _member = actions.new_conversation(user, "Gesprek", "lang")
    return user, conversation


def plain_urls() -> list[str]:
    """Every URL pattern without parameters, so a new page is checked without being listed."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    return sorted({"/" + p for p in walk(get_resolver().url_patterns) if "<" not in p})


def page_urls(conversation_id: str) -> list[str]:
    urls = plain_urls()
    urls += [f"/g/{conversation_id}/{tail}" for tail in
             ("", "leden/", "instellingen/", "voorbereiding/", "scherm/", "vernietigen/")]
    return urls


def test_every_page_carries_the_protective_headers(facilitator):
    user, conversation = facilitator
    client = Client()
    client.force_login(user)
    for url in page_urls(conversation.pk):
        response = client.get(url)
        assert response.status_code < 500, url
        csp = response.headers.get("Content-Security-Policy", "")
        assert "default-src 'none'" in csp, url
        assert "frame-ancestors 'none'" in csp, url
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            assert "'nonce-" in csp, url  # the page's own scripts run by nonce only
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["X-Frame-Options"] == "DENY", url
        assert response.headers["Referrer-Policy"] == "same-origin", url
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin", url
        assert "camera=()" in response.headers["Permissions-Policy"], url
        assert "no-store" in response.headers["Cache-Control"], url


def test_security_txt_says_where_to_report():
    response = Client().get("/.well-known/security.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    body = response.content.decode()
    assert "Contact: mailto:" in body
    expires = next(line for line in body.splitlines() if line.startswith("Expires: "))
    when = datetime.datetime.fromisoformat(expires.split(": ", 1)[1].replace("Z", "+00:00"))
    now = datetime.datetime.now(datetime.UTC)
    assert now < when < now + datetime.timedelta(days=366)


def test_login_is_limited_per_account_and_address_and_logs_no_secrets(facilitator, caplog):
    caplog.set_level(logging.INFO, logger="dilemmagesprek.auth")
    client = Client()
    for _ in range(5):
        response = client.post("/inloggen/", {"username": "leider", "password": "fout-fout-fout"})
        assert response.status_code == 200
    # The sixth attempt is refused even with the right password …
    response = client.post("/inloggen/", {"username": "leider", "password": PASSWORD})
    assert response.status_code == 429
    # … but from another address the account is not locked out.
    other = Client(REMOTE_ADDR="10.9.8.7")
    response = other.post("/inloggen/", {"username": "leider", "password": PASSWORD})
    assert response.status_code == 302
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "login failed" in logged
    assert "fout-fout-fout" not in logged and PASSWORD not in logged
    assert "leider" not in logged


def test_a_new_session_id_at_login(facilitator):
    client = Client()
    client.get("/inloggen/")
    client.post("/doe-mee/", {"code": "XXXXXXXX"})  # something that makes a session
    before = client.cookies.get("dg_sessionid")
    client.post("/inloggen/", {"username": "leider", "password": PASSWORD})
    after = client.cookies.get("dg_sessionid")
    assert after is not None and (before is None or before.value != after.value)


def test_logout_clears_the_browser(facilitator):
    user, _conversation = facilitator
    client = Client()
    client.force_login(user)
    response = client.post("/uitloggen/")
    assert response["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert client.get("/gesprekken/nieuw/").status_code == 302


@override_settings(SESSION_ABSOLUTE_SECONDS=60)
def test_a_session_ends_after_its_absolute_lifetime_however_active(facilitator):
    user, _conversation = facilitator
    client = Client()
    client.force_login(user)
    assert client.get("/gesprekken/nieuw/").status_code == 200
    session = client.session
    session[SESSION_STARTED] -= 61
    session.save()
    assert client.get("/gesprekken/nieuw/").status_code == 302


def test_an_active_session_is_renewed_at_most_once_a_minute(facilitator):
    from django.conf import settings
    from django.contrib.sessions.models import Session

    from dilemmagesprek.lib.middleware import SESSION_RENEWED

    assert settings.SESSION_COOKIE_AGE == 30 * 60  # the idle timeout
    user, _conversation = facilitator
    client = Client()
    client.force_login(user)
    assert client.get("/gesprekken/nieuw/").status_code == 200
    key = client.session.session_key

    def expiry():
        return Session.objects.get(session_key=key).expire_date

    first = expiry()
    assert client.get("/gesprekken/nieuw/").status_code == 200
    assert expiry() == first  # a request within the minute writes nothing

    session = client.session
    session[SESSION_RENEWED] -= settings.SESSION_RENEW_SECONDS + 1
    session.save()
    saved = expiry()
    assert client.get("/gesprekken/nieuw/").status_code == 200
    assert expiry() > saved  # a minute later the idle timeout starts again
