"""Roll call: the audience comes from the live roster and the site's people; answers arrive by
personal link, SMS keyword, e-mail reply or kiosk, every one is kept; a malformed reply is refused
with its reason and changes nothing; non-responders get reminder waves, then the emergency team
gets the unaccounted list."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import pytest
from django.core import signing

from linewatch.core.models import Team
from linewatch.resilience import services
from linewatch.resilience.models import AnswerLink, RollCall, RollCallAnswer
from linewatch.resilience.services import ReplyRefused
from linewatch.response.models import ContactPath, Notification, Receipt

from .conftest import NOW, link_token


def participant(rc: RollCall, key: str):
    return rc.participants.select_related("person").get(person__key=key)


def message_to(key: str) -> Notification:
    return Notification.objects.filter(person__key=key).order_by("-id").first()


def unchanged():
    return (RollCallAnswer.objects.count(), AnswerLink.objects.filter(used__isnull=False).count())


@pytest.mark.django_db
def test_audience_is_the_live_roster_plus_the_sites_people(drill):
    rc = drill.roll_calls.get()
    rows = {p.person.key: p for p in rc.participants.select_related("person")}
    assert set(rows) == {"p-anna", "p-tom", "p-vera"}  # p-old's badge-in is a day old and unknown
    assert rows["p-anna"].on_site and rows["p-vera"].on_site
    assert not rows["p-tom"].on_site and "affiliated" in rows["p-tom"].why  # badged out, still accounted for
    assert "badge" in rows["p-anna"].why and "visitor check-in" in rows["p-vera"].why
    assert len({p.code for p in rows.values()}) == 3


@pytest.mark.django_db
def test_first_wave_is_marked_exercise_and_carries_link_and_code(drill):
    rc = drill.roll_calls.get()
    anna = participant(rc, "p-anna")
    n = message_to("p-anna")
    assert n.exercise and n.subject.startswith("EXERCISE") and "THIS IS A DRILL" in n.body
    assert f"SAFE {anna.code}" in n.body and "/r/" in n.body
    assert n.ladder == ["mailto://127.0.0.1:2525?from=linewatch@localhost&to=anna@testco.example&mode=insecure"]


@pytest.mark.django_db
def test_a_link_answers_once_and_the_replay_is_refused_changing_nothing(drill):
    token = link_token(message_to("p-anna").body)
    row = services.answer_by_link(token, "safe", "at muster point B", now=NOW + dt.timedelta(minutes=2))
    assert (row.participant.person.key, row.answer, row.channel) == ("p-anna", "safe", "link")
    before = unchanged()
    with pytest.raises(ReplyRefused, match="already used"):
        services.answer_by_link(token, "need_help", now=NOW + dt.timedelta(minutes=3))
    assert unchanged() == before
    # The answer stopped Anna's message and is kept as its "answered" receipt.
    n = message_to("p-anna")
    assert n.status == "acknowledged" and Receipt.objects.filter(notification=n, kind="answered").exists()


@pytest.mark.django_db
def test_unknown_altered_and_expired_links_are_refused(drill):
    token = link_token(message_to("p-vera").body)
    before = unchanged()
    with pytest.raises(ReplyRefused, match="unknown link"):
        services.answer_by_link("not-a-token", "safe", now=NOW)
    with pytest.raises(ReplyRefused, match="unknown link"):
        services.answer_by_link(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "safe", now=NOW)
    link_id, _ = signing.loads(token, salt=services.LINK_SALT)
    forged = signing.dumps([link_id, "guessed-secret"], salt=services.LINK_SALT, compress=True)
    with pytest.raises(ReplyRefused, match="unknown link"):  # a valid signature does not help without the secret
        services.answer_by_link(forged, "safe", now=NOW)
    with pytest.raises(ReplyRefused, match="expired"):
        services.answer_by_link(token, "safe", now=NOW + dt.timedelta(hours=services.LINK_HOURS, seconds=1))
    with pytest.raises(ReplyRefused, match="unknown answer"):
        services.answer_by_link(token, "maybe", now=NOW)
    assert unchanged() == before


@pytest.mark.django_db
def test_sms_keyword_reply_from_the_persons_number(drill):
    rc = drill.roll_calls.get()
    tom = participant(rc, "p-tom")
    row = services.answer_by_sms("0045 30445566", f"out {tom.code} working from home", now=NOW)
    assert (row.answer, row.channel, row.text) == ("not_on_site", "sms", "working from home")
    row = services.answer_by_sms("+4530445566", f"{tom.code} SAFE", now=NOW + dt.timedelta(minutes=1))
    assert row.answer == "safe"
    assert list(tom.answers.values_list("answer", flat=True)) == ["not_on_site", "safe"]  # every answer kept
    assert next(r for r in services.current(rc) if r["person"].key == "p-tom")["answer"] == "safe"


@pytest.mark.django_db
@pytest.mark.parametrize("sender, body, reason", [
    ("+4520112233", "SAFE {tom}", "wrong person"),  # Anna's phone quoting Tom's code
    ("+4530445566", "SAFE 99999", "unknown code"),
    ("+4530445566", "I am fine thanks", "no answer found"),
    ("+4530445566", "MAYBE {tom}", "unknown answer word"),
])
def test_malformed_sms_replies_are_refused_and_change_nothing(drill, sender, body, reason):
    tom = participant(drill.roll_calls.get(), "p-tom")
    before = unchanged()
    with pytest.raises(ReplyRefused, match=reason):
        services.answer_by_sms(sender, body.format(tom=tom.code), now=NOW)
    assert unchanged() == before


def reply(sender: str, subject: str, body: str) -> bytes:
    m = EmailMessage()
    m["From"] = f"Someone <{sender}>"
    m["To"] = "rollcall@linewatch.example"
    m["Subject"] = subject
    m.set_content(body)
    return bytes(m)


@pytest.mark.django_db
def test_email_reply_with_code_in_subject_and_answer_on_first_line(drill):
    vera = participant(drill.roll_calls.get(), "p-vera")
    raw = reply("VERA@guest.example", f"Re: EXERCISE — [Linewatch Alpha] Roll call: are you safe? [RC {vera.code}]",
                "help\nI am stuck in the visitor lounge\n\n> Vera Visitor, a roll call is open\n> SAFE 1234")
    row = services.answer_by_email(raw, now=NOW)
    assert (row.answer, row.channel, row.via) == ("need_help", "email", "vera@guest.example")


@pytest.mark.django_db
def test_email_from_another_address_or_without_code_is_refused(drill):
    vera = participant(drill.roll_calls.get(), "p-vera")
    before = unchanged()
    with pytest.raises(ReplyRefused, match="wrong person"):
        services.answer_by_email(reply("mallory@evil.example", f"Re: [RC {vera.code}]", "SAFE"), now=NOW)
    with pytest.raises(ReplyRefused, match="no roll-call code"):
        services.answer_by_email(reply("vera@guest.example", "Re: roll call", "SAFE"), now=NOW)
    with pytest.raises(ReplyRefused, match="no From"):
        services.answer_by_email(b"Subject: x\r\n\r\nSAFE 1234\r\n", now=NOW)
    assert unchanged() == before


@pytest.mark.django_db
def test_kiosk_answer_and_tallies(drill):
    rc = drill.roll_calls.get()
    services.answer_at_kiosk(rc, participant(rc, "p-anna").code, "safe", "guard")
    with pytest.raises(ReplyRefused, match="unknown code"):
        services.answer_at_kiosk(rc, "0000", "safe", "guard")
    assert services.tally(rc) == {"safe": 1, "need_help": 0, "not_on_site": 0, "no_answer": 2, "total": 3}
    assert [p.person.key for p in services.unaccounted(rc)] == ["p-vera", "p-tom"]  # on-site first


@pytest.mark.django_db
def test_reminder_waves_reach_only_non_responders_then_the_emergency_team(drill):
    rc = drill.roll_calls.get()
    ContactPath.objects.create(team=Team.objects.get(slug="alpha-sec"), priority=1, url="json://127.0.0.1:9/ert")
    services.answer_by_sms("+4520112233", f"SAFE {participant(rc, 'p-anna').code}", now=NOW)
    assert services.remind_due(NOW + dt.timedelta(minutes=4)) == 0  # not yet due
    assert services.remind_due(NOW + dt.timedelta(minutes=5)) == 1
    rc.refresh_from_db()
    assert rc.waves == 2
    wave2 = Notification.objects.filter(subject__contains="Reminder 2")
    assert sorted(wave2.values_list("person__key", flat=True)) == ["p-tom", "p-vera"]
    assert services.remind_due(NOW + dt.timedelta(minutes=10)) == 1  # max waves reached: escalate
    ert = Notification.objects.get(team__slug="alpha-sec", subject__contains="unaccounted")
    assert ert.subject.startswith("EXERCISE") and "Tom Fix" in ert.body and "Vera Visitor" in ert.body
    assert "Anna Berg" not in ert.body
    assert services.remind_due(NOW + dt.timedelta(minutes=30)) == 0  # told once


@pytest.mark.django_db
def test_a_closed_crisis_refuses_answers(drill):
    rc = drill.roll_calls.get()
    token = link_token(message_to("p-vera").body)
    services.set_phase(drill, "closed", "lead", now=NOW + dt.timedelta(minutes=30))
    before = unchanged()
    with pytest.raises(ReplyRefused, match="closed"):
        services.answer_by_link(token, "safe", now=NOW + dt.timedelta(minutes=31))
    with pytest.raises(ReplyRefused, match="no open roll call"):
        services.answer_by_sms("+49170123456", f"SAFE {participant(rc, 'p-vera').code}", now=NOW)
    assert unchanged() == before


@pytest.mark.django_db
def test_answers_are_recorded_in_the_site_evidence_ledger(drill):
    from linewatch.evidence.models import Entry

    rc = drill.roll_calls.get()
    services.answer_by_sms("+4530445566", f"OUT {participant(rc, 'p-tom').code}", now=NOW)
    kinds = [k for k in Entry.objects.filter(log__site__slug="alpha").order_by("seq").values_list("kind", flat=True)
             if k.split(".")[0] in ("crisis", "rollcall")]  # other domains record plant changes too
    assert kinds[:2] == ["crisis.declared", "rollcall.opened"] and kinds[-1] == "rollcall.answer"
    entry = Entry.objects.filter(kind="rollcall.answer").get()
    assert '"person":"p-tom"' in entry.canonical and '"channel":"sms"' in entry.canonical
