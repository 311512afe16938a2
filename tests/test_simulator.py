"""The demo's event simulator produces normal traffic and cross-domain incidents on the demo plant."""

from __future__ import annotations

from linewatch.demo.simulator import Plant, Simulator
from linewatch.events.schema import ControllerActivity, EventClass


def test_simulator_emits_traffic_and_incidents(demo_loaded):
    simulator = Simulator(Plant(), seed=1, incident_every=60)
    events = simulator.tick(1_764_000_000_000)
    classes = {e.class_uid for e in events}
    assert {EventClass.PHYSICAL_ACCESS, EventClass.CONTROLLER_ACTIVITY, EventClass.NETWORK_ACTIVITY} <= classes
    first_incident = [e for e in events if e.class_uid == EventClass.SURVEILLANCE_DEVICE]
    assert first_incident and first_incident[0].attrs["device.name"] == "kol-cam-dock-03"
    forced = simulator.tick(1_764_000_000_000 + 45_000)  # the door is forced 40 s after the tamper
    assert any(e.class_uid == EventClass.PHYSICAL_ACCESS and e.activity_id == 3 for e in forced)
    later = simulator.tick(1_764_000_000_000 + 61_000) + simulator.tick(1_764_000_000_000 + 70_000)
    downloads = [e for e in later if e.class_uid == EventClass.CONTROLLER_ACTIVITY
                 and e.activity_id == ControllerActivity.PROGRAM_DOWNLOAD]
    assert downloads and downloads[0].attrs["dst_endpoint.ip"] == "10.20.112.10"  # kol-l2-plc-01
    everything = events + forced + later
    assert len({e.uid for e in everything}) == len(everything)
