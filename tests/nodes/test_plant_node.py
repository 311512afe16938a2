"""A plant node cut off from headquarters keeps recording; when the link returns, headquarters holds exactly the
plant's records, once, and the plant receives what headquarters recorded meanwhile.

Headquarters is this test process (Django's live server on the test database, node name "hq"); the plant is the
real `linewatch` command in subprocesses on its own SQLite data folder; the link between them is a TCP relay the
test cuts and restores.
"""

from __future__ import annotations

import json
import time

import pytest

from linewatch.nodes.drill import Link, PlantNode
from tests.conftest import TEST_SITES

PLANT = "plant-alpha"
VMS_RECORDS = [  # two cameras of site alpha going offline and one back online, as a VMS reports them
    {"time": "2026-11-25T06:12:09Z", "device": "cam-1", "device_type": "camera", "event": "offline",
     "vms": "NVR-1", "reason": "ping timeout 3/3"},
    {"time": "2026-11-25T06:13:40Z", "device": "cam-2", "device_type": "camera", "event": "tamper",
     "vms": "NVR-1", "reason": "scene changed"},
    {"time": "2026-11-25T06:20:31Z", "device": "cam-1", "device_type": "camera", "event": "online", "vms": "NVR-1"},
]


class Plant(PlantNode):
    def run(self, *args: str, check: bool = True):
        try:
            return super().run(*args, check=check)
        except RuntimeError as exc:
            pytest.fail(str(exc))


@pytest.fixture
def hq(settings, transactional_db, live_server):
    from linewatch.core import accounts
    from linewatch.core.sitefile.importer import import_files

    settings.LINEWATCH_NODE = "hq"
    import_files(sorted(str(p) for p in TEST_SITES.glob("*.yaml")))
    node = accounts.create_user(PLANT, "not-used-by-machines-1", "node", sites=["alpha"])
    return {"url": live_server.url, "token": accounts.create_token(node, "sync"), "port": live_server.thread.port}


def _hq_events() -> dict[str, dict]:
    from linewatch.events.models import StoredEvent

    return {e.uid: e.body for e in StoredEvent.objects.filter(site_slug="alpha")}


def test_cut_link_then_catch_up_exactly_once(hq, tmp_path):
    from linewatch.detect.cases import acknowledge
    from linewatch.detect.models import Alert, AlertNote
    from linewatch.detect.worker import DetectionWorker, default_detectors
    from linewatch.events.models import StoredEvent

    link = Link(hq["port"])
    plant = Plant(tmp_path, PLANT, ("alpha",))
    sync = ("node", "sync", "--once", "--json", "--upstream", f"http://127.0.0.1:{link.port}",
            "--token", hq["token"])
    try:
        plant.run("site", "import", str(TEST_SITES / "alpha.yaml"))
        # The link is down: the plant keeps ingesting and detecting on its own.
        health = tmp_path / "vms.jsonl"
        health.write_text("".join(json.dumps(r) + "\n" for r in VMS_RECORDS))
        plant.run("ingest", "--source", "vms-health", "--site", "alpha", str(health))
        plant.run("worker", "--drain")
        # …and runs a roll call of its own: people badge in, a crisis is declared, answers come in at the kiosk
        from linewatch.core.models import Site
        from linewatch.nodes.drill import drill_events

        badges, _ = drill_events(Site.objects.get(slug="alpha"), int(time.time() * 1000))
        (tmp_path / "badges.jsonl").write_text("".join(json.dumps(r) + "\n" for r in badges))
        plant.run("ingest", "--source", "pacs-generic", "--site", "alpha", str(tmp_path / "badges.jsonl"))
        crisis = json.loads(plant.run("crisis", "declare", "--site", "alpha", "--type", "infrastructure",
                                      "--exercise", "--json").stdout)["uid"]
        codes = [c for (c,) in plant.rows("select code from resilience_participant order by code")]
        assert codes, "the roll call has an audience"
        for code in codes[:2]:
            plant.run("crisis", "answer", "--site", "alpha", "--code", code, "safe")
        plant_answers = sorted(plant.rows("select p.code, a.answer, a.channel from resilience_rollcallanswer a "
                                          "join resilience_participant p on a.participant_id = p.id"))
        plant_events = {uid: json.loads(body) for uid, body in
                        plant.rows("select uid, body from events_storedevent where site_slug='alpha'")}
        plant_alerts = dict(plant.rows("select uid, title from detect_alert"))
        assert plant_events and plant_alerts, "the plant recorded nothing to forward"

        plant.run("evidence", "checkpoint")  # sign what the plant's ledger holds now (also every 100 records)
        cut = plant.run(*sync, check=False)
        assert cut.returncode == 1
        assert "unreachable" in cut.stderr and "records wait in the outbox" in cut.stderr
        assert not _hq_events() and not Alert.objects.exists()

        # The link returns: headquarters gets exactly the plant's records.
        link.up = True
        report = json.loads(plant.run(*sync).stdout)
        assert report[0]["pending"] == 0 and report[0]["pushed"] >= len(plant_events) + len(plant_alerts)
        assert _hq_events() == plant_events
        assert dict(Alert.objects.values_list("uid", "title")) == plant_alerts
        assert set(StoredEvent.objects.values_list("origin", flat=True)) == {PLANT}
        from linewatch.resilience.models import Participant, RollCallAnswer

        assert sorted(RollCallAnswer.objects.filter(participant__roll_call__crisis__uid=crisis)
                      .values_list("participant__code", "answer", "channel")) == plant_answers
        assert Participant.objects.filter(roll_call__crisis__uid=crisis).count() == len(codes)

        # Headquarters witnessed the plant's evidence checkpoints; the plant keeps the cosignatures it pulled.
        from linewatch.nodes.models import WitnessedCheckpoint

        plant_checkpoints = plant.rows("select c.size from evidence_checkpoint c join evidence_sitelog l "
                                       "on c.log_id = l.id where l.site_slug = 'alpha' order by c.size")
        assert plant_checkpoints, "the plant signed checkpoints of its ledger"
        witnessed = list(WitnessedCheckpoint.objects.filter(peer=PLANT).order_by("size").values_list("size"))
        assert witnessed == plant_checkpoints
        # Again: nothing is sent twice, nothing doubles.
        again = json.loads(plant.run(*sync).stdout)
        assert again[0]["pushed"] == 0
        assert len(_hq_events()) == len(plant_events) and Alert.objects.count() == len(plant_alerts)
        assert RollCallAnswer.objects.count() == len(plant_answers)
        cosigned = plant.rows("select c.note from evidence_checkpoint c join evidence_cosignature w "
                              "on w.checkpoint_id = c.id join evidence_sitelog l on c.log_id = l.id "
                              "where l.site_slug = 'alpha'")
        assert len(cosigned) == len(plant_checkpoints)
        assert all("hq.witness" in note for (note,) in cosigned)

        # Headquarters does not detect again on what the plant already detected on.
        worker = DetectionWorker(default_detectors())
        while worker.run_once():
            pass
        assert worker.alerts == 0 and Alert.objects.count() == len(plant_alerts)

        # What headquarters does meanwhile reaches the plant: an acknowledgement and its handoff note.
        from linewatch.core import accounts

        analyst = accounts.create_user("hq-analyst", "correct-horse-battery", "security_analyst", all_sites=True)
        alert = Alert.objects.order_by("uid").first()
        acknowledge(alert, analyst, note="seen at HQ")
        back = json.loads(plant.run(*sync).stdout)
        assert back[0]["pulled"] >= 2
        assert plant.rows(f"select status from detect_alert where uid='{alert.uid}'") == [("acknowledged",)]
        notes = plant.rows(f"select text from detect_alertnote where alert_id='{alert.uid}'")
        plant_notes = sorted(text for (text,) in notes)
        assert "seen at HQ" in plant_notes  # beside the plant's own routing note, forwarded earlier
        # …and does not come back up as if the plant had made it
        assert json.loads(plant.run(*sync).stdout)[0]["pushed"] == 0
        assert sorted(AlertNote.objects.filter(alert=alert).values_list("text", flat=True)) == plant_notes
    finally:
        link.close()


def _push(client, token: str, records: list[dict]):
    return client.post("/api/v1/nodes/push", data=json.dumps({"records": records}), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}")


def _event_record(seq: int, uid: str, origin: str = PLANT, site: str = "alpha") -> dict:
    body = {"uid": uid, "time": 1_700_000_000_000 + seq, "class_uid": 4001, "source": "test", "site": site}
    return {"origin": origin, "site": site, "seq": seq, "kind": "event", "key": uid, "body": body}


@pytest.fixture
def node_token(settings, alpha_beta):
    from linewatch.core import accounts

    settings.LINEWATCH_NODE = "hq"
    node = accounts.create_user(PLANT, "not-used-by-machines-1", "node", sites=["alpha"])
    return accounts.create_token(node, "sync")


def test_a_gap_in_the_sequence_is_an_alert(client, node_token):
    from linewatch.detect.models import Alert
    from linewatch.events.models import StoredEvent

    first = _push(client, node_token, [_event_record(1, "e1"), _event_record(2, "e2")])
    assert first.status_code == 200 and first.json()["acked"] == {"alpha": 2}
    answer = _push(client, node_token, [_event_record(6, "e6")]).json()
    assert answer["gaps"] == [{"site": "alpha", "origin": PLANT, "from": 3, "to": 5}]
    gap = Alert.objects.get(rule_id="lw-node-sync-gap")
    assert gap.site_slug == "alpha" and "3–5" in gap.finding["finding_info"]["desc"]
    # a retry of what was already applied is skipped, not doubled
    retry = _push(client, node_token, [_event_record(2, "e2")]).json()
    assert retry["duplicates"] == 1 and retry["acked"] == {"alpha": 6}
    assert StoredEvent.objects.filter(uid__in=["e1", "e2", "e6"]).count() == 3


@pytest.mark.parametrize(("records", "status", "reason"), [
    ([_event_record(1, "x1", site="beta")], 403, "does not serve site(s) beta"),
    ([_event_record(1, "x1", origin="other-node")], 400, "a node forwards only its own records"),
    ([{**_event_record(1, "x1"), "kind": "launch-missiles"}], 400, "unknown kind"),
    ([_event_record(1, "x1"), {**_event_record(2, "x2"), "seq": 0}], 400, "seq must be a positive integer"),
    ([{**_event_record(1, "x1"), "site": ["alpha"]}], 400, "site must be text"),
    (["not a record"], 400, "a record must be an object"),
])
def test_a_bad_push_is_refused_whole(client, node_token, records, status, reason):
    from linewatch.events.models import StoredEvent

    answer = _push(client, node_token, records)
    assert answer.status_code == status and reason in answer.content.decode()
    assert not StoredEvent.objects.filter(uid__in=["x1", "x2"]).exists()


def test_only_node_accounts_may_sync(client, role_users):
    from linewatch.core import accounts

    token = accounts.create_token(role_users["analyst"], "t")
    assert _push(client, token, [_event_record(1, "y1")]).status_code == 403
    assert client.get("/api/v1/nodes/pull?site=alpha", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 403


def _checkpoint_record(seq: int, signer, leaves: list[bytes], size: int, previous: int = 0) -> dict:
    import base64

    from linewatch.evidence.engine.checkpoint import Checkpoint, sign_checkpoint
    from linewatch.evidence.engine.merkle import MerkleTree

    tree = MerkleTree()
    for leaf in leaves[:size]:
        tree.append(leaf)
    note = sign_checkpoint(Checkpoint(signer.name, size, tree.root(size)), signer).decode()
    proof = [base64.b64encode(h).decode() for h in tree.consistency_proof(previous, size)] if previous else []
    return {"origin": PLANT, "site": "alpha", "seq": seq, "kind": "evidence-checkpoint",
            "key": f"{signer.name}@{size}", "body": {"origin": signer.name, "size": size, "note": note,
                                                     "previous_size": previous, "proof": proof,
                                                     "log_key": signer.verifier.vkey}}


def test_headquarters_never_witnesses_a_rewritten_history_or_a_swapped_key(client, node_token):
    from linewatch.evidence.engine.checkpoint import Signer
    from linewatch.nodes.models import OutboxRecord, WitnessedCheckpoint

    log = "linewatch/test/alpha-plant"
    signer = Signer.generate(log)
    history = [f"record {i}".encode() for i in range(8)]
    first = _push(client, node_token, [_checkpoint_record(1, signer, history, 3)])
    assert first.status_code == 200, first.content
    assert OutboxRecord.objects.filter(kind="evidence-cosignature", site_slug="alpha").count() == 1
    # the same log, rewritten after the witnessed checkpoint: its tree of 5 does not extend the tree of 3
    rewritten = [history[0], b"edited", *history[2:]]
    refused = _push(client, node_token, [_checkpoint_record(2, signer, rewritten, 5, previous=3)])
    assert refused.status_code == 400 and "not witnessed" in refused.content.decode()
    # the true history, signed by another key than the one pinned with the first checkpoint
    swapped = _push(client, node_token, [_checkpoint_record(2, Signer.generate(log), history, 5, previous=3)])
    assert swapped.status_code == 400 and "another key" in swapped.content.decode()
    assert list(WitnessedCheckpoint.objects.values_list("size", flat=True)) == [3]
    # the true extension by the pinned key is witnessed
    assert _push(client, node_token, [_checkpoint_record(2, signer, history, 5, previous=3)]).status_code == 200
    assert sorted(WitnessedCheckpoint.objects.values_list("size", flat=True)) == [3, 5]
