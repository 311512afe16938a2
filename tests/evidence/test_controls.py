"""Control KPIs are computed from records only: present data gives figures, absent data says "no data"."""

from __future__ import annotations

from linewatch.evidence.engine.controls import BY_ID, CONTROLS, NO_DATA, compute, controls_document


def rec(kind: str, time: str, **body) -> dict:
    return {"kind": kind, "site": "s", "time": time, "body": body}


def test_nothing_recorded_means_no_data_everywhere():
    kpis = compute([])
    for control in CONTROLS:
        for k in kpis[control.id]:
            assert k["value"] is None and k["display"] == NO_DATA, (control.id, k)


def test_figures_follow_from_the_records():
    records = list(enumerate([
        rec("patrol.scan", "2026-03-01T22:00:00Z", verified=True),
        rec("patrol.scan", "2026-03-01T22:10:00Z", verified=False),
        rec("patrol.exception", "2026-03-01T22:20:00Z", exception="missed"),
        rec("patrol.exception", "2026-03-01T22:30:00Z", exception="late"),
        rec("alert.raised", "2026-03-02T10:00:00.000000Z", alert="a"),
        rec("alert.acknowledged", "2026-03-02T10:06:00.000000Z", alert="a"),
        rec("alert.acknowledged", "2026-03-02T10:30:00.000000Z", alert="a"),  # only the first counts
        rec("alert.closed", "2026-03-02T11:00:00.000000Z", alert="a"),
        rec("alert.closed", "2026-03-02T11:00:00.000000Z", alert="unknown"),  # no raise in the pack: ignored
        rec("rollcall.closed", "2026-03-03T09:00:00Z", opened="2026-03-03T08:40:00Z", closed="2026-03-03T08:52:00Z"),
        rec("rollcall.closed", "2026-03-04T09:00:00Z", duration_seconds=600),
        rec("vuln.finding_status", "2026-03-05T09:00:00Z", to="mitigated"),
        rec("vuln.finding_status", "2026-03-05T09:00:00Z", to="open"),
    ]))
    kpis = compute(records)
    assert kpis["physical-patrols"][0]["value"] == 50.0  # 1 verified of 1 verified + 1 missed
    assert kpis["physical-patrols"][1]["value"] == {"late": 1, "missed": 1}
    assert kpis["incident-response"][0]["value"] == {"median": 6.0, "p90": 6.0, "count": 1}
    assert kpis["incident-response"][1]["value"]["median"] == 60.0
    assert kpis["emergency-roll-call"][0]["value"]["median"] == 11.0  # 12 and 10 minutes
    assert kpis["vulnerability-management"][0]["value"] == 1
    assert kpis["network-segmentation"][0]["display"] == NO_DATA


def test_every_control_maps_to_the_three_frameworks():
    document = controls_document([])
    assert {c["id"] for c in document["controls"]} == set(BY_ID)
    for c in document["controls"]:
        maps = c["mappings"]
        assert maps["nist_csf_2.0"] and maps["iec_62443_2_1"] and maps["iso_27001_2022_annex_a"]
    physical = BY_ID["physical-patrols"]
    assert any(m.startswith("A.7.4") for m in physical.iso27001) and "DE.CM-02" in physical.nist_csf
