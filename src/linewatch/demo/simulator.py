"""The live event simulator of the demo: normal plant traffic plus scripted incidents.

It reads the demo manufacturer from the database (assets with addresses, areas with doors,
people with their sites) and emits normalized events as a sensor would: badge reads, network
flows between zones, HMI reads of PLCs, telemetry, logons — and, on a cycle, incidents that
cross IT, OT and physical security, so a newcomer sees alerts with consequences within a
minute. Deterministic for a given seed and start time.
"""

from __future__ import annotations

import heapq
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from linewatch.events.schema import (
    ControllerActivity,
    Event,
    EventClass,
    PhysicalAccessActivity,
    Severity,
    SurveillanceActivity,
    event_uid,
)

SOURCE = "simulator"


@dataclass(frozen=True)
class Device:
    name: str
    site: str
    kind: str
    ip: str
    area: str
    zone: str


@dataclass(frozen=True)
class Door:
    name: str
    site: str
    area: str
    reader: str
    restricted: bool = False


@dataclass(frozen=True)
class Worker:
    key: str
    name: str
    site: str
    affiliation: str


class Plant:
    """What the simulator needs of the model, read once."""

    def __init__(self) -> None:
        from linewatch.core.models import Door as DoorModel
        from linewatch.core.models import Interface, SiteAffiliation

        self.devices: list[Device] = []
        for i in Interface.objects.exclude(ip=None).select_related("asset__site", "asset__area", "asset__zone"):
            a = i.asset
            self.devices.append(Device(a.name, a.site.slug, a.kind, i.ip, a.area.slug if a.area else "",
                                       a.zone.slug if a.zone else ""))
        from linewatch.core.choices import RestrictedLevel
        from linewatch.workforce.models import Authorisation

        self.doors = [
            Door(d.slug, d.site.slug, d.area.slug, next((r.name for r in d.readers.all()), ""),
                 d.area.restricted_level >= RestrictedLevel.RESTRICTED)
            for d in DoorModel.objects.select_related("site", "area").prefetch_related("readers")
        ]
        homes: dict[str, Worker] = {}  # one home site per person: everyday badging never spans two plants
        for a in SiteAffiliation.objects.select_related("person", "site").order_by("person__key", "id"):
            homes.setdefault(a.person.key, Worker(a.person.key, a.person.name, a.site.slug, a.kind))
        self.people = list(homes.values())
        # people with a grant for an area badge there on its schedule, which the incidents exercise; the everyday
        # traffic is the others, through doors that need no authorisation
        self.granted = set(Authorisation.objects.values_list("person__key", "area__slug"))

    def of_kind(self, *kinds: str, site: str | None = None) -> list[Device]:
        return [d for d in self.devices if d.kind in kinds and (site is None or d.site == site)]

    def device(self, name: str) -> Device | None:
        return next((d for d in self.devices if d.name == name), None)


class Simulator:
    def __init__(self, plant: Plant, seed: int = 7, incident_every: float = 45.0) -> None:
        self.plant = plant
        self.rng = random.Random(seed)
        self.incident_every = incident_every
        self.counter = 0
        self.next_incident = 0.0
        self.incidents: list[Callable[[int], list[Event]]] = [
            self.camera_tamper_then_door_forced,
            self.program_download_from_office,
            self.badge_denials_then_vpn,
            self.camera_talks_to_erp,
            self.remote_session_into_ot,
            self.contractor_after_work_order,
            self.visitor_wanders_unescorted,
        ]
        self.incident_index = 0
        self.pending: list[tuple[int, int, Event]] = []

    # ------------------------------------------------------------ building blocks

    def event(self, now_ms: int, class_uid: int, activity: int, site: str, attrs: dict, **kw) -> Event:
        self.counter += 1
        return Event(uid=event_uid(SOURCE, str(now_ms), str(self.counter)), time=now_ms, class_uid=class_uid,
                     activity_id=activity, source=SOURCE, site=site, attrs=attrs, **kw)

    def badge(self, now: int, door: Door, person: Worker, activity: int, access_event: str) -> Event:
        return self.event(now, EventClass.PHYSICAL_ACCESS, activity, door.site, {
            "door.name": door.name, "area.name": door.area, "reader.name": door.reader,
            "actor.user.name": person.key, "actor.user.full_name": person.name, "access.event": access_event,
        }, status_id=1 if activity == PhysicalAccessActivity.GRANTED else 2)

    def flow(self, now: int, src: Device, dst: Device | str, port: int, proto: str = "tcp") -> Event:
        dst_ip = dst.ip if isinstance(dst, Device) else dst
        return self.event(now, EventClass.NETWORK_ACTIVITY, 6, src.site, {
            "src_endpoint.ip": src.ip, "dst_endpoint.ip": dst_ip, "dst_endpoint.port": port,
            "connection_info.protocol_name": proto,
        })

    # ------------------------------------------------------------ normal traffic

    def normal(self, now: int) -> Iterator[Event]:
        rng, plant = self.rng, self.plant
        everyday = [d for d in plant.doors if not d.restricted] or plant.doors
        for _ in range(rng.randint(2, 5)):
            door = rng.choice(everyday)
            staff = [p for p in plant.people if p.site == door.site and (p.key, door.area) not in plant.granted]
            if staff:
                yield self.badge(now, door, rng.choice(staff), PhysicalAccessActivity.GRANTED, "granted")
        hmis, plcs = plant.of_kind("hmi"), plant.of_kind("plc")
        for _ in range(rng.randint(3, 8)):
            hmi = rng.choice(hmis)
            local = [p for p in plcs if p.site == hmi.site] or plcs
            plc = rng.choice(local)
            yield self.event(now, EventClass.CONTROLLER_ACTIVITY, ControllerActivity.READ, hmi.site, {
                "src_endpoint.ip": hmi.ip, "dst_endpoint.ip": plc.ip, "controller.protocol": "s7comm",
                "controller.operation": "read-var",
            })
        workstations = plant.of_kind("workstation", "laptop")
        servers = plant.of_kind("server", "domain_controller")
        for _ in range(rng.randint(3, 8)):
            yield self.flow(now, rng.choice(workstations), rng.choice(servers), rng.choice([443, 445, 88, 389]))
        for sensor in rng.sample(plant.of_kind("bms_controller", "sensor"), k=min(3, len(plant.of_kind("sensor")))):
            yield self.event(now, EventClass.DEVICE_TELEMETRY, 1, sensor.site, {
                "device.ip": sensor.ip, "device.name": sensor.name, "metric.name": "temperature",
                "metric.value": round(rng.uniform(1.5, 4.5), 2), "metric.unit": "Cel",
            })
        cameras, recorders = plant.of_kind("camera"), plant.of_kind("nvr", "vms_server")
        for camera in rng.sample(cameras, k=min(4, len(cameras))):
            nvr = next((r for r in recorders if r.site == camera.site), None)
            if nvr:
                yield self.flow(now, camera, nvr, 554)

    # ------------------------------------------------------------ scripted incidents

    def camera_tamper_then_door_forced(self, now: int) -> list[Event]:
        camera = self.plant.device("kol-cam-dock-03") or self.rng.choice(self.plant.of_kind("camera"))
        door = next((d for d in self.plant.doors if d.site == camera.site and d.area == camera.area),
                    next(d for d in self.plant.doors if d.site == camera.site))
        intruder = Worker("unknown", "unknown credential", camera.site, "")
        return [
            self.event(now, EventClass.SURVEILLANCE_DEVICE, SurveillanceActivity.TAMPER, camera.site, {
                "device.ip": camera.ip, "device.name": camera.name, "device.type": "camera",
                "area.name": camera.area}, severity_id=Severity.MEDIUM, message="camera view obstructed"),
            self.badge(now + 40_000, door, intruder, PhysicalAccessActivity.FORCED, "none"),
        ]

    def program_download_from_office(self, now: int) -> list[Event]:
        plc = self.plant.device("kol-l2-plc-01") or self.rng.choice(self.plant.of_kind("plc"))
        office = next((d for d in self.plant.of_kind("workstation", site=plc.site) if d.zone == "office"),
                      self.rng.choice(self.plant.of_kind("workstation")))
        return [
            self.flow(now, office, plc, 44818),
            self.event(now + 5_000, EventClass.CONTROLLER_ACTIVITY, ControllerActivity.PROGRAM_DOWNLOAD, plc.site, {
                "src_endpoint.ip": office.ip, "dst_endpoint.ip": plc.ip, "controller.protocol": "enip",
                "controller.operation": "program download"}, severity_id=Severity.HIGH),
            self.event(now + 9_000, EventClass.CONTROLLER_ACTIVITY, ControllerActivity.MODE_CHANGE, plc.site, {
                "src_endpoint.ip": office.ip, "dst_endpoint.ip": plc.ip, "controller.protocol": "enip",
                "controller.operation": "mode change", "controller.mode": "program"}, severity_id=Severity.HIGH),
        ]

    def badge_denials_then_vpn(self, now: int) -> list[Event]:
        contractors = [p for p in self.plant.people if p.affiliation == "contractor"] or self.plant.people
        person = self.rng.choice(contractors)
        door = next(d for d in self.plant.doors if d.site == person.site)
        events = [self.badge(now + i * 20_000, door, person, PhysicalAccessActivity.DENIED,
                             "denied-zone-no-access-rights") for i in range(4)]
        jump = (self.plant.of_kind("jump_host") or self.plant.of_kind("server"))[0]
        events.append(self.event(now + 120_000, EventClass.AUTHENTICATION, 1, jump.site, {
            "user.name": person.key, "actor.user.name": person.key, "src_endpoint.ip": "198.51.100.23",
            "dst_endpoint.ip": jump.ip, "is_remote": True, "auth_protocol": "openvpn"}, status_id=1))
        return events

    def camera_talks_to_erp(self, now: int) -> list[Event]:
        camera = self.rng.choice(self.plant.of_kind("camera"))
        erp = next((d for d in self.plant.of_kind("server") if "erp" in d.name or "sap" in d.name),
                   self.plant.of_kind("server")[0])
        return [self.flow(now, camera, erp, 445), self.flow(now + 2_000, camera, "203.0.113.50", 443)]

    def remote_session_into_ot(self, now: int) -> list[Event]:
        jump = (self.plant.of_kind("jump_host") or self.plant.of_kind("server"))[0]
        ews = next((d for d in self.plant.of_kind("engineering_workstation") if d.site == jump.site),
                   self.plant.of_kind("engineering_workstation")[0])
        person = self.rng.choice([p for p in self.plant.people if p.affiliation in ("contractor", "technician")]
                                 or self.plant.people)
        return [self.event(now, EventClass.AUTHORIZE_SESSION, 1, jump.site, {
            "user.name": person.key, "actor.user.name": person.key, "src_endpoint.ip": jump.ip,
            "dst_endpoint.ip": ews.ip, "is_remote": True, "session.uid": f"rdp-{self.counter}"})]

    def contractor_after_work_order(self, now: int) -> list[Event]:
        """The compressor contractor's work order closed; their grant did not (linewatch.workforce)."""
        person = next((p for p in self.plant.people if p.key == "ctr-20203"), None)
        door = next((d for d in self.plant.doors if d.area == "ammonia-machine-room"), None)
        if person is None or door is None:
            return []
        return [self.badge(now, door, person, PhysicalAccessActivity.GRANTED, "granted")]

    def visitor_wanders_unescorted(self, now: int) -> list[Event]:
        """The auditor visiting HQ badges into the server room without her host."""
        person = next((p for p in self.plant.people if p.affiliation == "visitor"), None)
        door = next((d for d in self.plant.doors if person and d.site == person.site and d.area == "server-room"),
                    None)
        if person is None or door is None:
            return []
        return [self.badge(now, door, person, PhysicalAccessActivity.GRANTED, "granted")]

    # ------------------------------------------------------------ driving

    def tick(self, now_ms: int) -> list[Event]:
        """The events of one tick. A scenario's later steps wait until their time comes, as a
        real sensor would report them (events from the future would confuse event-time windows)."""
        events = list(self.normal(now_ms))
        if now_ms / 1000 >= self.next_incident:
            scenario = self.incidents[self.incident_index % len(self.incidents)]
            self.incident_index += 1
            for event in scenario(now_ms):
                heapq.heappush(self.pending, (event.time, self.counter, event))
                self.counter += 1
            self.next_incident = now_ms / 1000 + self.incident_every
        while self.pending and self.pending[0][0] <= now_ms:
            events.append(heapq.heappop(self.pending)[2])
        return events


def run(stop: threading.Event, interval: float = 1.0, seed: int = 7,
        sink: Callable[[list[Event]], None] | None = None) -> None:
    """Emit a tick of events every `interval` seconds into the store until `stop` is set."""
    from django.db import close_old_connections

    from linewatch.events.bus import get_bus

    sink = sink or get_bus().publish
    simulator = Simulator(Plant(), seed)
    while not stop.is_set():
        sink(simulator.tick(int(time.time() * 1000)))
        close_old_connections()
        stop.wait(interval)
