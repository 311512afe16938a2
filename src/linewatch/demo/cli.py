"""`linewatch demo`, `linewatch serve`, `linewatch migrate`: the process-level commands."""

from __future__ import annotations

import json
import secrets
import threading
import time
from pathlib import Path

import typer
from rich.table import Table

from linewatch.clitools import err, handles_input_errors, setup_django

SITES_DIR = Path(__file__).parent / "sites"
LOGINS_FILE = "demo-logins.json"


def migrate() -> None:
    """Create or upgrade the database schema."""
    setup_django(migrate=True)


def demo_site_files() -> list[Path]:
    return sorted(SITES_DIR.glob("*.yaml"))


def load_demo(reload: bool = False) -> bool:
    """Import the demo manufacturer unless the database already holds sites. Returns True if imported."""
    from linewatch.core import audit
    from linewatch.core.models import Site
    from linewatch.core.sitefile.importer import import_files

    if Site.objects.exists() and not reload:
        return False
    import_files([str(p) for p in demo_site_files()], actor=audit.Actor(name="demo", via="demo"))
    return True


def load_domain_demos() -> list[str]:
    """Each domain's demo data beyond the site files (captures, feeds, configs, people, patrol history…): the
    `load()` of `linewatch.<domain>.demo` where one exists, in linewatch.web.domains order. Each returns the
    lines it wants printed; each must be idempotent (a second `linewatch demo` adds nothing)."""
    from linewatch.web.domains import modules

    lines: list[str] = []
    for module in modules("demo"):
        lines.extend(module.load())
    return lines


def demo_logins(data_dir: Path) -> list[dict]:
    """One login per role, made once per data folder with random passwords kept beside the database."""
    from django.contrib.auth import get_user_model

    from linewatch.core import accounts
    from linewatch.core.models import Site

    path = data_dir / LOGINS_FILE
    if path.exists():
        logins = json.loads(path.read_text())
        if all(get_user_model().objects.filter(username=x["username"]).exists() for x in logins):
            return logins
    plants = list(Site.objects.filter(kind="plant").order_by("slug").values_list("slug", flat=True))
    plant = plants[0] if plants else None
    wanted = [
        ("admin", "admin", [], True),
        ("analyst", "security_analyst", [], True),
        ("lead", "site_security_lead", [plant] if plant else [], False),
        ("engineer", "ot_engineer", [plant] if plant else [], False),
        ("auditor", "auditor", [], True),
        ("guard", "guard", [plant] if plant else [], False),
    ]
    logins = []
    User = get_user_model()
    for username, role, sites, all_sites in wanted:
        password = secrets.token_urlsafe(12)
        User.objects.filter(username=username).delete()
        accounts.create_user(username, password, role, sites=sites, all_sites=all_sites, validate=False)
        logins.append({"username": username, "password": password, "role": role, "sites": sites or ["all"]})
    path.write_text(json.dumps(logins, indent=2))
    path.chmod(0o600)
    return logins


@handles_input_errors
def demo(
    port: int = typer.Option(8000, help="Port for the web server."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    reload: bool = typer.Option(False, "--reload-demo", help="Import the demo files again over the current data."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Prepare the data folder, then exit."),
    live: bool = typer.Option(True, "--live/--no-live", help="Run the detection worker and the event simulator."),
) -> None:
    """Run the demo: data folder, database, demo manufacturer, logins, web server."""
    started = time.monotonic()
    from linewatch import paths

    data = paths.data_dir()
    with err.status("Preparing the database…"):
        migrate()
    with err.status("Loading the demo manufacturer…"):
        imported = load_demo(reload)
        logins = demo_logins(data)
    with err.status("Loading the demo's captures, feeds, configs and history…"):
        domain_lines = load_domain_demos()
    from linewatch.core.models import Asset, Site

    err.print(f"Data folder: {data}")
    err.print(f"{'Loaded' if imported else 'Using'} {Site.objects.count()} sites, {Asset.objects.count()} assets "
              f"({time.monotonic() - started:.1f} s).")
    table = Table("user", "password", "role", "sites", title="Logins (also in " + str(data / LOGINS_FILE) + ")")
    for login in logins:
        table.add_row(login["username"], login["password"], login["role"], ", ".join(login["sites"]))
    err.print(table)
    for line in domain_lines:
        err.print(line)
    _print_segmentation_findings()
    if no_serve:
        return
    admin = logins[0]
    stop = threading.Event()
    if live:
        _start_background(stop)
        err.print("Detection worker and live event simulator running: alerts arrive within a minute.")
    print(f"Linewatch is running at http://{host}:{port}/  — log in as {admin['username']} / {admin['password']}",
          flush=True)
    try:
        _run_server(host, port)
    finally:
        stop.set()


def _start_background(stop: threading.Event) -> list[threading.Thread]:
    """The worker and the simulator, as daemon threads of the demo process."""
    from linewatch.demo import simulator
    from linewatch.detect.worker import DetectionWorker, default_detectors

    worker = DetectionWorker(default_detectors())
    threads = [
        threading.Thread(target=worker.run, args=(stop,), name="linewatch-worker", daemon=True),
        threading.Thread(target=simulator.run, args=(stop,), name="linewatch-simulator", daemon=True),
    ]
    for thread in threads:
        thread.start()
    return threads


def serve(
    port: int = typer.Option(8000, help="Port for the web server."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
) -> None:
    """Run the web server and API (ASGI) on the configured database."""
    migrate()
    print(f"Linewatch is running at http://{host}:{port}/", flush=True)
    _run_server(host, port)


def _run_server(host: str, port: int) -> None:
    import uvicorn

    # uvicorn stops cleanly on Ctrl-C (SIGINT) and SIGTERM: it finishes open requests, then exits 0.
    uvicorn.run("linewatch.asgi:application", host=host, port=port, log_level="warning", lifespan="off")
    err.print("Linewatch stopped.")


def _print_segmentation_findings() -> None:
    """The demo plant's firewall config against its zones: the critical paths, with what they put at risk."""
    from linewatch.errors import InputError, InputErrors
    from linewatch.segmentation.cli import run_check

    try:
        result = run_check("kolding", None, [])
    except (InputError, InputErrors) as exc:  # the demo sites were replaced: nothing to show
        err.print(f"[dim]segmentation check skipped: {exc}[/dim]")
        return
    for finding in result["findings"]:
        if finding["severity"] != "critical":
            continue
        lines = ", ".join(f"{li['line']} ({li['cost_per_hour']:,.0f} {li.get('currency', 'EUR')}/h)"
                          for li in finding.get("lines_at_risk", []))
        err.print(f"[red]Segmentation[/red] {finding['title']}" + (f" — puts at risk {lines}" if lines else "")
                  + "; see `linewatch segmentation check --site kolding`")
