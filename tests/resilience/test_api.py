"""The reply webhooks of the SMS gateway and the e-mail relay, and the crisis list over the API."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from linewatch.core import accounts
from linewatch.core.models import Site
from linewatch.resilience import services
from linewatch.resilience.models import RollCallAnswer


@pytest.fixture
def sensor(role_users):
    return {"HTTP_AUTHORIZATION": f"Bearer {accounts.create_token(role_users['sensor'], 'sms gateway')}"}


@pytest.mark.django_db
def test_sms_webhook_takes_form_or_json_and_refuses_with_a_reason(client, role_users, people, drill, sensor):
    code = drill.roll_calls.get().participants.get(person__key="p-anna").code
    ok = client.post("/api/v1/resilience/rollcall/sms", {"from": "+45 20112233", "body": f"SAFE {code}"}, **sensor)
    assert ok.status_code == 200 and ok.json()["answer"] == "safe" and ok.json()["channel"] == "sms"
    ok = client.post("/api/v1/resilience/rollcall/sms", {"from": "+4520112233", "body": f"help {code} smoke"},
                     content_type="application/json", **sensor)
    assert ok.status_code == 200 and ok.json()["answer"] == "need_help"
    count = RollCallAnswer.objects.count()
    wrong = client.post("/api/v1/resilience/rollcall/sms", {"from": "+4599999999", "body": f"SAFE {code}"}, **sensor)
    assert wrong.status_code == 400 and "wrong person" in wrong.json()["detail"]
    empty = client.post("/api/v1/resilience/rollcall/sms", {"body": "SAFE"}, **sensor)
    assert empty.status_code == 400 and "`from`" in empty.json()["detail"]
    assert RollCallAnswer.objects.count() == count
    token = accounts.create_token(role_users["guard"], "not a gateway")
    assert client.post("/api/v1/resilience/rollcall/sms", {"from": "+4520112233", "body": f"SAFE {code}"},
                       HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 403


@pytest.mark.django_db
def test_a_gateway_answers_only_for_its_sites(client, people, sensor):
    beta = Site.objects.get(slug="beta")
    from linewatch.core.models import Person, SiteAffiliation

    anna = Person.objects.get(key="p-anna")
    SiteAffiliation.objects.create(person=anna, site=beta, kind="employee")
    crisis = services.declare(title="Beta fire", kind="physical", sites=[beta], by="lead")
    code = crisis.roll_calls.get().participants.get(person=anna).code
    refused = client.post("/api/v1/resilience/rollcall/sms", {"from": "+4520112233", "body": f"SAFE {code}"},
                          **sensor)  # the sensor token serves alpha only
    assert refused.status_code == 400 and "does not serve" in refused.json()["detail"]


@pytest.mark.django_db
def test_email_webhook_takes_the_raw_message(client, people, drill, sensor):
    code = drill.roll_calls.get().participants.get(person__key="p-vera").code
    m = EmailMessage()
    m["From"] = "vera@guest.example"
    m["Subject"] = f"Re: Roll call [RC {code}]"
    m.set_content("Safe\n\n> quoted text")
    response = client.post("/api/v1/resilience/rollcall/email", bytes(m), content_type="message/rfc822", **sensor)
    assert response.status_code == 200 and response.json()["person"] == "p-vera"


@pytest.mark.django_db
def test_crises_list_shows_only_the_callers_sites(client, role_users, people, drill):
    services.declare(title="Beta drill", kind="cyber", sites=[Site.objects.get(slug="beta")], by="x", exercise=True)
    lead = {"HTTP_AUTHORIZATION": f"Bearer {accounts.create_token(role_users['lead'], 'x')}"}
    rows = client.get("/api/v1/resilience/crises", **lead).json()
    assert [r["title"] for r in rows] == ["Power outage drill"] and rows[0]["roll_calls"][0]["total"] == 3
    board = client.get("/api/v1/resilience/status", **lead).json()
    assert [r["site"] for r in board] == ["alpha"] and board[0]["state"] == "unconfirmed"
