"""Two-factor login, the administrator's pages, and the promise that admins cannot read
conversations they are not part of."""

import pytest
from django.test import Client

from dilemmagesprek.accounts import totp
from dilemmagesprek.accounts.models import Policy, User
from dilemmagesprek.audit.models import Entry
from dilemmagesprek.worksheets import actions

pytestmark = pytest.mark.django_db
PASSWORD = "een-lang-wachtwoord-voor-tests"


def test_totp_matches_the_rfc_6238_test_vector():
    # RFC 6238 appendix B, SHA-1: secret "12345678901234567890", T = 59 s → 94287082 (8 digits).
    import base64

    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp.code_at(secret, 59 // 30) == "287082"  # the last 6 of 94287082


def test_a_code_works_once_and_only_near_its_time():
    secret = totp.new_secret()
    now = 1_800_000_000
    code = totp.code_at(secret, totp.current_step(now))
    step = totp.verify(secret, code, None, now)
    assert step is not None
    assert totp.verify(secret, code, step, now) is None  # no replay
    assert totp.verify(secret, code, None, now + 120) is None  # too late
    assert totp.verify(secret, "12345", None, now) is None


@pytest.fixture
def facilitator():
    return User.objects.create_user("leider", password=PASSWORD)


def test_login_asks_for_the_code_when_two_factor_is_on(facilitator):
    facilitator.totp_secret = totp.new_secret()
    facilitator.totp_enabled = True
    facilitator.save()
    client = Client()
    response = client.post("/inloggen/", {"username": "leider", "password": PASSWORD})
    assert response.status_code == 303 and response["Location"] == "/inloggen/code/"
    assert client.get("/gesprekken/nieuw/").status_code == 302  # not signed in yet
    assert client.post("/inloggen/code/", {"code": "000000"}).status_code == 422
    code = totp.code_at(facilitator.totp_secret, totp.current_step())
    assert client.post("/inloggen/code/", {"code": code}).status_code == 303
    assert client.get("/gesprekken/nieuw/").status_code == 200


def test_setting_up_two_factor(facilitator):
    client = Client()
    client.force_login(facilitator)
    page = client.get("/account/tweestaps/")
    assert page.status_code == 200 and b"<svg" in page.content
    secret = client.session["dg_2fa_secret"]
    assert client.post("/account/tweestaps/", {"code": "123"}).status_code == 422
    code = totp.code_at(secret, totp.current_step())
    assert client.post("/account/tweestaps/", {"code": code}).status_code == 303
    facilitator.refresh_from_db()
    assert facilitator.totp_enabled and facilitator.totp_secret == secret


def test_an_admin_can_require_two_factor_for_everyone(facilitator):
    policy = Policy.current()
    policy.mfa_required = True
    policy.save()
    client = Client()
    client.force_login(facilitator)
    response = client.get("/gesprekken/")
    assert response.status_code == 302 and response["Location"] == "/account/tweestaps/"


@pytest.fixture
def admin():
    return User.objects.create_user("beheer", password=PASSWORD, role=User.Role.ADMIN)


def test_an_admin_manages_accounts_and_sees_the_audit_log(admin, facilitator):
    client = Client()
    client.force_login(admin)
    response = client.post("/beheer/", {"username": "nieuw", "role": "facilitator"})
    assert response.status_code == 200
    new = User.objects.get(username="nieuw")
    assert new.has_usable_password()
    client.post(f"/beheer/gebruikers/{facilitator.pk}/", {"command": "deactivate"})
    facilitator.refresh_from_db()
    assert not facilitator.is_active
    log = client.get("/beheer/audit/")
    assert log.status_code == 200
    assert Entry.objects.filter(action=Entry.Action.USER_CHANGED).exists()


def test_a_facilitator_cannot_use_the_admin_pages(facilitator):
    client = Client()
    client.force_login(facilitator)
    for url in ("/beheer/", "/beheer/audit/"):
        assert client.get(url).status_code == 403


def test_an_admin_cannot_read_a_conversation_they_are_not_part_of(admin, facilitator):
    conversation, facilitator_member = actions.new_conversation(facilitator, "Geheim", "lang")
    actions.set_field(facilitator_member, "dilemma", "Zeer vertrouwelijke inhoud", None)
    client = Client()
    client.force_login(admin)
    for tail in ("", "leden/", "instellingen/", "voorbereiding/", "scherm/", "verslag/pdf/",
                 "verslag/json/"):
        response = client.get(f"/g/{conversation.pk}/{tail}")
        assert response.status_code == 404, tail
        assert b"Zeer vertrouwelijke inhoud" not in response.content
    for url in ("/gesprekken/", "/beheer/", "/beheer/audit/"):
        body = client.get(url).content
        assert b"Zeer vertrouwelijke inhoud" not in body and b"Geheim" not in body, url
    # Django's own admin site is not installed at all.
    assert client.get("/admin/").status_code == 404
