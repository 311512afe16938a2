"""A drill end to end on a real SMTP relay (aiosmtpd): the roll-call e-mails go out through the
outbox, a person replies to the e-mail they received, the answer stops their messages with an
"answered" receipt, and the crisis room counts deliveries and receipts per channel."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re

import pytest
from django.urls import reverse

from linewatch.core.models import Site
from linewatch.resilience import services
from linewatch.response.models import Notification, Receipt
from linewatch.response.notify import dispatch_due
from tests.resilience.conftest import NOW
from tests.response.test_notify import smtp_relay  # noqa: F401  (fixture)


@pytest.mark.django_db(transaction=True)
def test_roll_call_mail_goes_out_and_a_reply_to_it_is_the_answer(people, smtp_relay, monkeypatch, client,  # noqa: F811
                                                                  role_users):
    port, received = smtp_relay
    monkeypatch.setenv("LINEWATCH_SMTP_RELAY", f"127.0.0.1:{port}")
    monkeypatch.setenv("LINEWATCH_SMTP_FROM", "rollcall@alpha.example")
    now = NOW  # the fixture's badge-ins are minutes before it
    crisis = services.declare(title="Evacuation drill", kind="physical", sites=[Site.objects.get(slug="alpha")],
                              by="lead", exercise=True, now=now)
    assert dispatch_due(now) == 3  # Anna, Tom and Vera each get one e-mail
    to_anna = next(e for e in received if e.rcpt_tos == ["anna@testco.example"])
    mail = email.message_from_bytes(to_anna.content, policy=email.policy.default)
    assert mail["Subject"].startswith("EXERCISE") and "[RC " in mail["Subject"]
    # Anna answers with her mail client's "reply": the subject keeps the code, the original is quoted.
    body = mail.get_body(preferencelist=("plain",)).get_content()
    reply = (f"From: Anna Berg <anna@testco.example>\r\nTo: rollcall@alpha.example\r\nSubject: Re: {mail['Subject']}"
             "\r\n\r\nSafe, at muster point B\r\n\r\n" + "".join(f"> {line}\r\n" for line in body.splitlines()))
    row = services.answer_by_email(reply.encode(), now=now + dt.timedelta(minutes=1))
    assert (row.participant.person.key, row.answer, row.text) == ("p-anna", "safe", "at muster point B")
    n = Notification.objects.get(person__key="p-anna")
    assert n.status == "acknowledged"
    assert list(Receipt.objects.filter(notification=n).values_list("kind", flat=True)) == ["transport", "answered"]
    # Vera answers with the personal link in her e-mail.
    to_vera = next(e for e in received if e.rcpt_tos == ["vera@guest.example"])
    text = email.message_from_bytes(to_vera.content, policy=email.policy.default).get_body(
        preferencelist=("plain",)).get_content()
    token = re.search(r"/r/([^/\s]+)/", text)[1]
    assert client.post(reverse("web:rollcall_answer", args=[token]), {"answer": "safe"}).status_code == 200
    # Reminder wave 2 reaches only Tom; the relay receives it.
    assert dispatch_due(now + dt.timedelta(minutes=5)) == 1
    reminder = email.message_from_bytes(received[-1].content, policy=email.policy.default)
    assert received[-1].rcpt_tos == ["tom@fixit.example"] and "Reminder 2" in reminder["Subject"]
    client.force_login(role_users["lead"])
    page = client.get(reverse("web:crisis", args=[crisis.uid])).content.decode()
    row = re.search(r"<td>mailto</td>(.*?)</tr>", page, re.S)[1]
    assert [int(x) for x in re.findall(r'class="num">(\d+)<', row)] == [4, 0, 0, 4, 0, 2]
