"""`linewatch ingest` and `linewatch sources`."""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from linewatch.clitools import emit, err, handles_input_errors, out, setup_django

JSON = typer.Option(False, "--json", help="Print one JSON document on stdout.")


@handles_input_errors
def ingest(
    files: list[Path] = typer.Argument(..., help="Files to read ('-' for standard input)."),
    source: str = typer.Option(..., "--source", "-s", help="Format name (see `linewatch sources`)."),
    site: str = typer.Option("", help="Site slug the events belong to."),
    option: list[str] = typer.Option([], "--option", "-o", help="Parser option key=value (repeatable)."),
    as_json: bool = JSON,
) -> None:
    """Parse files into normalized events and store each once (repeating an ingest stores nothing twice).

    Exit 0 when every record was read, 2 when some were rejected (the rest is stored)."""
    setup_django()
    import sys

    from linewatch.errors import InputError
    from linewatch.events import sources
    from linewatch.events.services import IngestReport, ingest_stream

    sources.get(source)  # fail early on an unknown name
    options = {}
    for item in option:
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError("--option", item, "expected key=value")
        options[key] = value
    total = IngestReport()
    per_file = []
    sizes = {f: (f.stat().st_size if str(f) != "-" and f.exists() else None) for f in files}
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  TextColumn("{task.fields[events]} events"), console=err, transient=as_json) as progress:
        for path in files:
            if str(path) != "-" and not path.exists():
                raise InputError(str(path), "", "no such file")
            task = progress.add_task(path.name, total=sizes[path], events=0)
            stream = sys.stdin.buffer if str(path) == "-" else path.open("rb")
            with stream:
                context = sources.Context(source_name=str(path), site=site, options=dict(options))

                def advance(report, stream=stream, task=task):
                    position = stream.tell() if stream.seekable() else None
                    progress.update(task, completed=position, events=report.events)

                report = ingest_stream(source, stream, context, on_batch=advance)
                progress.update(task, completed=sizes[path], events=report.events)
            per_file.append({"file": str(path), **report.as_dict()})
            for key in ("events", "stored", "duplicates", "records_with_errors"):
                setattr(total, key, getattr(total, key) + getattr(report, key))
            total.errors.extend(report.errors)

    summary = {"source": source, "files": per_file, **{k: v for k, v in total.as_dict().items() if k != "errors"}}

    def human() -> None:
        for e in total.errors[:20]:
            err.print(f"[yellow]rejected[/yellow] {e}", highlight=False)
        if len(total.errors) > 20:
            err.print(f"… and {total.records_with_errors - 20} more rejected records (see --json)")
        table = Table("file", "events", "stored", "duplicates", "rejected", title=f"ingested as {source}")
        for f in per_file:
            table.add_row(f["file"], str(f["events"]), str(f["stored"]), str(f["duplicates"]), str(f["rejected"]))
        out.print(table)

    emit(as_json, summary, human)
    if total.records_with_errors:
        raise typer.Exit(2)  # everything readable is stored; the rejected records are named above


def sources_command(as_json: bool = JSON) -> None:
    """List the source formats the parsers read."""
    from linewatch.events import sources

    found = sources.load_all()
    rows = [{"name": name, "description": cls.description, "formats": list(cls.formats)}
            for name, cls in sorted(found.items())]

    def human() -> None:
        table = Table("source", "reads")
        for r in rows:
            table.add_row(r["name"], r["description"])
        out.print(table)

    emit(as_json, rows, human)


listen_app = typer.Typer(help="Network listeners that feed events in.", no_args_is_help=True)


@listen_app.command("syslog")
@handles_input_errors
def listen_syslog(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    udp: int = typer.Option(None, help="UDP port (e.g. 514 or 5514)."),
    tcp: int = typer.Option(None, help="TCP port, newline or octet-counted framing."),
    tls: int = typer.Option(None, help="TLS port (RFC 5425); needs --cert and --key."),
    cert: Path = typer.Option(None, help="PEM certificate for TLS."),
    key: Path = typer.Option(None, help="PEM private key for TLS."),
    site: str = typer.Option("", help="Site slug of the senders."),
    source: str = typer.Option("syslog", help="Parser: syslog, syslog5424, syslog3164, cef, leef."),
) -> None:
    """Receive syslog and store it as normalized events until Ctrl-C."""
    setup_django()
    import asyncio

    from linewatch.errors import InputError
    from linewatch.events.listeners.syslog import SyslogListener

    if udp is None and tcp is None and tls is None:
        raise InputError("listen syslog", "", "give at least one of --udp, --tcp, --tls")
    if tls is not None and not (cert and key):
        raise InputError("listen syslog", "--tls", "TLS needs --cert and --key")
    listener = SyslogListener(site=site, source=source)
    err.print(f"listening for syslog on {host} (udp {udp}, tcp {tcp}, tls {tls}); Ctrl-C stops")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(listener.serve(host, udp, tcp, tls, str(cert) if cert else None, str(key) if key else None))
    err.print(f"stored {listener.batcher.stored} events ({listener.batcher.duplicates} duplicates)")


@listen_app.command("mqtt")
@handles_input_errors
def listen_mqtt(
    broker: str = typer.Option("127.0.0.1:1883", help="host:port of the MQTT broker."),
    topic: list[str] = typer.Option(["#"], help="Topic filter (repeatable)."),
    site: str = typer.Option("", help="Site slug of the devices."),
    source: str = typer.Option("", help="Parser; default: sparkplug-b for spBv1.0/#, else mqtt-json."),
) -> None:
    """Subscribe to device telemetry and store it as normalized events until Ctrl-C."""
    setup_django()
    from linewatch.events.listeners.mqtt import MqttSubscriber

    host, _, port = broker.partition(":")
    subscriber = MqttSubscriber(host, int(port or 1883), tuple(topic), site=site, source=source)
    err.print(f"subscribed to {', '.join(topic)} on {broker}; Ctrl-C stops")
    try:
        subscriber.run()
    except KeyboardInterrupt:
        subscriber.batcher.flush()
    err.print(f"stored {subscriber.batcher.stored} events")
