"""A cut-link drill: a plant node loses its link to headquarters, keeps working, and headquarters catches up.

Headquarters is this installation (served on a free local port for the drill); the plant node is the real
`linewatch` command in subprocesses on its own data folder and SQLite database; between them runs a TCP relay that
the drill cuts ("power outage") and restores. The same pieces drive tests/nodes, so the drill shows what the tests
prove.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path


class Link:
    """A TCP relay from a plant node to headquarters that can be cut (connections refused) and restored."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.server.listen(16)
        self.up = False
        threading.Thread(target=self._accept, name="linewatch-link", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.up:
                client.close()  # the link is down: nothing gets through
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.server.close()


class PlantNode:
    """A plant node: `linewatch` in subprocesses with its own data folder, database and node name."""

    def __init__(self, folder: Path, name: str, sites: tuple[str, ...] = ()) -> None:
        self.folder = folder
        self.name = name
        self.sites = sites
        self.db = folder / "plant.sqlite3"
        folder.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DATABASE_URL"))}
        self.env.update(LINEWATCH_DATA=str(folder), DATABASE_URL=f"sqlite:///{self.db}", LINEWATCH_NODE=name,
                        LINEWATCH_SECRET_KEY=f"drill-{name}")

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "linewatch.cli", *args], env=self.env, capture_output=True,
                              text=True, timeout=300)
        if check and done.returncode:
            raise RuntimeError(f"plant node: linewatch {' '.join(args)} exited {done.returncode}: "
                               f"{done.stderr[-2000:]}")
        return done

    def sync(self, upstream: str, token: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("node", "sync", "--once", "--json", "--upstream", upstream, "--token", token,
                        *[a for s in self.sites for a in ("--site", s)], check=check)

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(self.db)) as con:
            return con.execute(sql, params).fetchall()

    def count(self, table: str, where: str = "1=1", params: tuple = ()) -> int:
        return self.rows(f"select count(*) from {table} where {where}", params)[0][0]  # noqa: S608 (our names)


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Headquarters:
    """This installation served over HTTP on a free local port for the drill (uvicorn in a thread)."""

    def __init__(self) -> None:
        import uvicorn

        from linewatch.asgi import application

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, name="linewatch-hq", daemon=True)

    def __enter__(self) -> Headquarters:
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                break
            threading.Event().wait(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def dumps(rows: object) -> str:
    return json.dumps(rows, indent=2, default=str)


def drill_events(site, now_ms: int) -> tuple[list[dict], list[dict]]:
    """What the plant records during the outage: badge-ins of people of the site (so the roll call has a roster)
    and its cameras dropping off when the power goes (VMS health records)."""
    from linewatch.core.models import Asset, SiteAffiliation

    iso = __import__("datetime").datetime.fromtimestamp
    people = list(SiteAffiliation.objects.filter(site=site).select_related("person")[:8])
    door = site.areas.filter(doors__isnull=False).first()
    badges = [{"time": iso((now_ms - 3_600_000 + i * 60_000) / 1000).astimezone().isoformat(),
               "event_id": f"drill-{site.slug}-{i}", "result": "granted", "credential": f"drill-{i}",
               "person": a.person.name, "person_id": a.person.key, "direction": "in",
               "door": door.doors.first().name if door else "Main gate", "area": door.name if door else "Site"}
              for i, a in enumerate(people)]
    cameras = list(Asset.objects.filter(site=site, kind="camera").order_by("name")[:3])
    health = [{"time": iso((now_ms - 120_000 + i * 1000) / 1000).astimezone().isoformat(), "device": c.name,
               "device_type": "camera", "event": "offline", "vms": "drill", "reason": "power lost"}
              for i, c in enumerate(cameras)]
    return badges, health


def run_drill(site_slug: str, say) -> dict:
    """Run the drill for one site of this installation; `say` narrates each step. Returns the before/after counts."""
    import secrets
    import shutil
    import time

    from django.contrib.auth import get_user_model

    from linewatch import paths
    from linewatch.core import accounts
    from linewatch.core.models import Site
    from linewatch.core.sitefile.exporter import export_text
    from linewatch.detect.models import Alert
    from linewatch.events.models import StoredEvent

    site = Site.objects.get(slug=site_slug)
    name = f"{site_slug}-node"
    user = get_user_model().objects.filter(username=name).first() or accounts.create_user(
        name, secrets.token_urlsafe(24), "node", sites=[site_slug])
    token = accounts.create_token(user, "drill")
    folder = paths.data_dir() / "drill" / name
    shutil.rmtree(folder, ignore_errors=True)
    plant = PlantNode(folder, name, (site_slug,))
    # the plant holds the organisation's plant model as code (its site refers to group teams defined elsewhere)
    site_files = []
    for other in Site.objects.filter(organisation=site.organisation).order_by("slug"):
        site_files.append(folder / f"{other.slug}.yaml")
        site_files[-1].write_text(export_text(other))
    badges, health = drill_events(site, int(time.time() * 1000))
    for file, rows in (("badges.jsonl", badges), ("vms.jsonl", health)):
        (folder / file).write_text("".join(json.dumps(r) + "\n" for r in rows))

    with Headquarters() as hq:
        link = Link(hq.port)
        try:
            say(f"Plant node [bold]{name}[/bold] set up for {site.name} (its own database in {folder}).")
            plant.run("site", "import", *map(str, site_files))
            say(f"[red]Power outage at {site.name}[/red]: the plant runs on UPS and generator; its link to "
                "headquarters is down.")
            plant.run("ingest", "--source", "pacs-generic", "--site", site_slug, str(folder / "badges.jsonl"))
            plant.run("ingest", "--source", "vms-health", "--site", site_slug, str(folder / "vms.jsonl"))
            plant.run("worker", "--drain")
            crisis = json.loads(plant.run("crisis", "declare", "--site", site_slug, "--type", "infrastructure",
                                          "--exercise", "--title", f"Power outage at {site.name}",
                                          "--json").stdout)
            answered = _answer_roll_call(plant, site_slug, crisis)
            say(f"The plant declared an exercise crisis locally, ran its roll call ({answered} answers at the "
                f"kiosk) and recorded {plant.count('detect_alert')} alerts — headquarters sees none of it yet.")
            plant.run("evidence", "checkpoint")  # the plant signs its ledger; headquarters witnesses it on sync
            cut = plant.sync(link.url, token, check=False)
            waiting = " ".join(cut.stderr.split())  # rich wrapped it for a terminal
            say(f"Sync attempt while cut: exit {cut.returncode}. {waiting}")
            link.up = True
            say("[green]Power and link restored.[/green]")
            report = json.loads(plant.sync(link.url, token).stdout)
        finally:
            link.close()
    counts = {
        "events": (plant.count("events_storedevent", "site_slug=?", (site_slug,)),
                   StoredEvent.objects.filter(site_slug=site_slug, origin=name).count()),
        "alerts": (plant.count("detect_alert", "site_slug=?", (site_slug,)),
                   Alert.objects.filter(uid__in=[u for (u,) in plant.rows("select uid from detect_alert")]).count()),
    }
    counts.update(_resilience_counts(plant, crisis))
    from linewatch.nodes.models import WitnessedCheckpoint

    counts["evidence checkpoints witnessed"] = (
        plant.count("evidence_cosignature"), WitnessedCheckpoint.objects.filter(peer=name).count())
    return {"node": name, "crisis": crisis.get("uid"), "sync": report, "counts": counts}


def _answer_roll_call(plant: PlantNode, site_slug: str, crisis: dict) -> int:
    """Answer the plant's roll call at its kiosk: most are safe, one needs help, the rest stay unaccounted."""
    codes = [code for (code,) in plant.rows(
        "select p.code from resilience_participant p join resilience_rollcall r on p.roll_call_id = r.id "
        "join core_site s on r.site_id = s.id where s.slug = ? order by p.code", (site_slug,))]
    answered = 0
    for i, code in enumerate(codes[: max(1, len(codes) - 2)]):
        plant.run("crisis", "answer", "--site", site_slug, "--code", code, "need_help" if i == 1 else "safe")
        answered += 1
    return answered


def _resilience_counts(plant: PlantNode, crisis: dict) -> dict:
    from linewatch.resilience.models import Crisis, RollCallAnswer

    uid = crisis.get("uid", "")
    return {
        "crises": (plant.count("resilience_crisis", "uid=?", (uid,)), Crisis.objects.filter(uid=uid).count()),
        "roll-call answers": (
            plant.count("resilience_rollcallanswer"),
            RollCallAnswer.objects.filter(participant__roll_call__crisis__uid=uid).count()),
    }
