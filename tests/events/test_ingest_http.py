"""POST /api/v1/events: NDJSON in, per-line answers out, each event stored once."""

from __future__ import annotations

import json

import pytest

from linewatch.core import accounts
from linewatch.events.models import StoredEvent


def event_line(uid: str | None = None, **attrs) -> str:
    event = {"class_uid": 4001, "time": 1764000000000, "source": "test",
             "attrs": {"src_endpoint.ip": "10.1.4.9", **attrs}}
    if uid:
        event["uid"] = uid
    return json.dumps(event)


@pytest.fixture
def sensor_headers(role_users):
    return {"HTTP_AUTHORIZATION": f"Bearer {accounts.create_token(role_users['sensor'], 'test')}"}


def post(client, headers, lines, site="alpha"):
    body = "\n".join(lines) + "\n"
    return client.post(f"/api/v1/events?site={site}", body, content_type="application/x-ndjson", **headers)


def test_each_line_is_answered_and_bad_lines_do_not_stop_the_batch(client, sensor_headers):
    response = post(client, sensor_headers, [
        event_line("e1"),
        "{not json",
        '{"source": "no-such-format", "raw": "x"}',
        "[1, 2]",
        event_line("e2", **{"dst_endpoint.port": 502}),
        '{"class_uid": "nope", "time": 1}',
    ])
    assert response.status_code == 200
    answer = response.json()
    assert (answer["accepted"], answer["duplicate"], answer["rejected"]) == (2, 0, 4)
    by_line = {r["line"]: r for r in answer["results"]}
    assert by_line[1] == {"line": 1, "status": "accepted", "uid": "e1"}
    assert by_line[2]["status"] == "rejected" and "invalid JSON" in by_line[2]["reason"]
    assert "unknown source" in by_line[3]["reason"]
    assert by_line[4]["reason"] == "each line is a JSON object"
    assert "not a normalized event" in by_line[6]["reason"]
    stored = StoredEvent.objects.get(uid="e2")
    assert stored.site_slug == "alpha" and stored.body["attrs"]["dst_endpoint.port"] == 502


def test_sending_the_same_batch_twice_stores_it_once(client, sensor_headers):
    lines = [event_line("a"), event_line(None, note="no uid: derived from the line"), event_line("a")]
    first = post(client, sensor_headers, lines).json()
    assert (first["accepted"], first["duplicate"]) == (2, 1)
    second = post(client, sensor_headers, lines).json()
    assert (second["accepted"], second["duplicate"]) == (0, 3)
    assert StoredEvent.objects.count() == 2


def test_a_sensor_cannot_send_for_another_site(client, sensor_headers):
    assert post(client, sensor_headers, [event_line("x")], site="beta").status_code == 403
    line = json.loads(event_line("y"))
    line["site"] = "beta"
    answer = post(client, sensor_headers, [json.dumps(line)]).json()
    assert answer["rejected"] == 1 and "site 'beta'" in answer["results"][0]["reason"]
    assert not StoredEvent.objects.exists()


def test_a_large_batch_is_accepted_and_a_huge_one_refused_with_a_reason(client, sensor_headers):
    lines = [event_line(f"big-{i}", note="x" * 300) for i in range(8000)]  # about 3.4 MB
    answer = post(client, sensor_headers, lines).json()
    assert answer["accepted"] == 8000
    huge = "x" * (32 * 1024 * 1024 + 1)
    refused = client.post("/api/v1/events?site=alpha", huge, content_type="application/x-ndjson", **sensor_headers)
    assert refused.status_code == 400 and "split it into batches" in refused.json()["detail"]
