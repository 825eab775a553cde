"""Health endpoints and Prometheus metrics."""

import pytest
from django.test import Client, override_settings

from dilemmagesprek.accounts.models import User
from dilemmagesprek.worksheets import actions

pytestmark = pytest.mark.django_db


def test_live_and_ready_answer():
    client = Client()
    assert client.get("/health/live").json() == {"status": "ok"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_ready_reports_degraded_when_redis_is_unreachable():
    response = Client().get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded", "checks": {"database": "ok", "redis": "unreachable"}
    }


def test_metrics_from_this_machine_only_without_a_token():
    user = User.objects.create_user("leider", password="x" * 16)
    actions.new_conversation(user, "Gesprek", "lang")
    Client().get("/inloggen/")
    response = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'route="dg:login"' in body
    assert "dilemmagesprek_open_sockets" in body
    assert "dilemmagesprek_events_broadcast_total" in body
    assert "dilemmagesprek_request_seconds_bucket" in body
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 404


@override_settings(METRICS_TOKEN="geheim-token-voor-metrics")
def test_metrics_with_a_token():
    client = Client(REMOTE_ADDR="10.1.2.3")
    assert client.get("/metrics").status_code == 404
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer fout")
    assert wrong.status_code == 404
    right = client.get("/metrics", HTTP_AUTHORIZATION="Bearer geheim-token-voor-metrics")
    assert right.status_code == 200
