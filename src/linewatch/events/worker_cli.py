"""`linewatch worker`: the stream-processing process.

Embedded (no LINEWATCH_NATS_URL): the detection worker reads the event store as a log — what
`linewatch demo` runs in a thread, as a process of its own for `linewatch serve` deployments.

Distributed (LINEWATCH_NATS_URL set): the same command joins the JetStream work queue (the
stateless stage) and competes for partitions of the stateful stage; start as many as the load
needs, on as many machines — they share the work and take over from each other. SIGTERM or
Ctrl-C stops a worker cleanly: it finishes its batch, snapshots and hands over its partitions.
SIGKILL loses nothing either; it only delays the takeover (docs/distributed.md).

Registered in `linewatch.cli` as `app.command("worker")(worker)`; `python -m
linewatch.events.worker_cli` runs it without that registration.
"""

from __future__ import annotations

import logging
import signal
import threading

import typer

from linewatch.clitools import err, setup_django

log = logging.getLogger(__name__)


def worker(
    batch: int = typer.Option(200, min=1, help="Events fetched per batch."),
    stateless: bool = typer.Option(True, "--stateless/--no-stateless",
                                   help="Distributed: take part in the stateless stage (store, enrich, detect)."),
    partitioned: bool = typer.Option(True, "--partitioned/--no-partitioned",
                                     help="Distributed: own partitions of the stateful (correlation) stage."),
    drain: bool = typer.Option(False, "--drain", help="Embedded: process every stored event, then exit."),
) -> None:
    """Run stream processing until stopped: the embedded detection worker, or with
    LINEWATCH_NATS_URL a distributed worker on NATS JetStream (run any number of them)."""
    from linewatch.events.bus import ConfigError, nats_url

    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if stop.is_set():  # a second Ctrl-C: leave now
            raise KeyboardInterrupt
        err.print(f"Stopping ({signal.Signals(signum).name})…")
        stop.set()

    if drain and not nats_url():
        setup_django(migrate=True)
        from linewatch.detect.worker import DetectionWorker

        done = DetectionWorker(_detectors(), batch=batch)
        while done.run_once():
            pass
        err.print(f"Worker drained the event log: {done.alerts} new alerts.")
        return
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if nats_url():
            _run_distributed(stop, batch, stateless, partitioned)
        else:
            _run_embedded(stop, batch)
    except ConfigError as exc:
        err.print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    err.print("Worker stopped.")


def _detectors(correlations: bool = True) -> list:
    """The registry's detectors (`detect.worker.default_detectors`); in the distributed mode the
    stateless stage runs them without correlations, which the partitions own."""
    from linewatch.detect.worker import default_detectors

    return list(default_detectors(correlations))


def _run_embedded(stop: threading.Event, batch: int) -> None:
    setup_django(migrate=True)
    from linewatch.detect.worker import DetectionWorker

    detectors = _detectors()
    err.print(f"Worker running (embedded, {len(detectors)} detectors); Ctrl-C stops it.")
    DetectionWorker(detectors, batch=batch).run(stop)


def _run_distributed(stop: threading.Event, batch: int, stateless: bool, partitioned: bool) -> None:
    # Many workers start at once: they must not race to migrate a shared database.
    setup_django(migrate=False)
    _require_migrated()
    from linewatch.events.bus.jetstream import JetStream, NatsConfig
    from linewatch.events.partitions import PERSON_KEYSPACE, PartitionStage, person_operators, worker_id

    config = NatsConfig.from_env()
    name = worker_id()
    try:
        js = JetStream(config, name=f"linewatch-worker-{name}")
    except Exception as exc:  # unreachable or refusing: say so plainly, exit non-zero for the supervisor
        err.print(f"[red]error[/red] cannot connect to NATS at {config.url}: {type(exc).__name__} {exc}",
                  highlight=False)
        raise typer.Exit(1) from None
    threads: list[threading.Thread] = []
    try:
        js.ensure_streams()
        partitions = js.check_partitions()
        if partitioned and partitions:
            stages = [PartitionStage(js, partitions, owner=name)]
            if person_operators():  # the person-keyed stage (workforce: one person at several sites)
                stages.append(PartitionStage(js, partitions, operator_factory=person_operators, owner=name,
                                             keyspace=PERSON_KEYSPACE))
            for stage in stages:
                thread = threading.Thread(target=stage.run, args=(stop,), daemon=True,
                                          name=f"partition-coordinator{stage.keyspace}")
                thread.start()
                threads.append(thread)
        detectors = _detectors(correlations=False)
        err.print(f"Worker {name} running on {config.url} ({config.events_stream}, {partitions} partitions, "
                  f"{len(detectors)} detectors); Ctrl-C stops it.")
        if stateless:
            from linewatch.events.bus.stateless import StatelessStage

            StatelessStage(js, detectors, partitions, batch=batch).run(stop)
        else:
            stop.wait()
    finally:
        stop.set()
        for thread in threads:
            thread.join(max(10.0, 3 * config.lease_ttl))
        js.close()


def _require_migrated() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from linewatch.events.bus import ConfigError

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise ConfigError("the database schema is behind: run `linewatch migrate` once before starting workers")


def main() -> None:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(worker)
    app()


if __name__ == "__main__":
    main()
