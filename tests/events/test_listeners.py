"""The syslog listener over real sockets, and the MQTT subscriber against the machine's Mosquitto."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from linewatch.events.listeners.batching import Batcher
from linewatch.events.models import StoredEvent

DATA = Path(__file__).resolve().parents[1] / "data" / "logs"
LINES = (DATA / "syslog" / "samples.log").read_text().splitlines()[:3]


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_loop(loop, task, thread) -> None:
    """Cancel the listener, let it close its servers and flush, then stop the loop."""
    async def cancel():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(cancel(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def wait_for(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_syslog_over_udp_and_tcp_is_stored():
    from linewatch.events.listeners.syslog import SyslogListener

    udp, tcp = free_port(socket.SOCK_DGRAM), free_port()
    listener = SyslogListener(site="alpha", batcher=Batcher(max_events=1000, max_age=0.05))
    loop = asyncio.new_event_loop()
    ready = asyncio.Event()
    task = loop.create_task(listener.serve("127.0.0.1", udp=udp, tcp=tcp, ready=ready))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        assert wait_for(ready.is_set)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(LINES[0].encode(), ("127.0.0.1", udp))
        with socket.create_connection(("127.0.0.1", tcp)) as s:
            framed = LINES[1].encode()
            s.sendall(f"{len(framed)} ".encode() + framed)  # octet counting (RFC 6587)
            s.sendall(LINES[2].encode() + b"\n")  # newline framing
        assert wait_for(lambda: StoredEvent.objects.count() == 3), StoredEvent.objects.count()
        assert set(StoredEvent.objects.values_list("site_slug", flat=True)) == {"alpha"}
    finally:
        stop_loop(loop, task, thread)


def broker_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_mqtt_telemetry_is_stored_and_acknowledged_after_storing():
    if not broker_available():
        if os.environ.get("LINEWATCH_REQUIRE_SERVICES") == "1":
            pytest.fail("Mosquitto is not reachable on 127.0.0.1:1883")
        pytest.skip("Mosquitto is not reachable on 127.0.0.1:1883")
    import paho.mqtt.publish as publish

    from linewatch.events.listeners.mqtt import MqttSubscriber

    prefix = f"lwtest{os.getpid()}{int(time.time())}"
    subscriber = MqttSubscriber(topics=(f"site/alpha/{prefix}/#",), site="alpha", source="mqtt-json",
                                client_id=f"{prefix}-sub")
    stop = threading.Event()
    thread = threading.Thread(target=subscriber.run, args=(stop,), daemon=True)
    thread.start()
    try:
        time.sleep(0.5)  # let the subscription settle
        for value in (3.1, 3.4):
            payload = json.dumps({"value": value, "unit": "Cel", "ts": "2026-11-25T10:00:00Z"})
            publish.single(f"site/alpha/{prefix}/ak-cc-01/temperature", payload, qos=1,
                           hostname="127.0.0.1", port=1883)
        assert wait_for(lambda: StoredEvent.objects.filter(source="mqtt-json").count() == 2)
    finally:
        stop.set()
        thread.join(5)


@pytest.mark.django_db(transaction=True)
def test_syslog_over_tls_is_stored(tmp_path):
    import shutil
    import ssl
    import subprocess

    from linewatch.events.listeners.syslog import SyslogListener

    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    port = free_port()
    listener = SyslogListener(site="alpha", batcher=Batcher(max_events=1000, max_age=0.05))
    loop = asyncio.new_event_loop()
    ready = asyncio.Event()
    task = loop.create_task(listener.serve("127.0.0.1", tls=port, certfile=str(cert), keyfile=str(key), ready=ready))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        assert wait_for(ready.is_set)
        context = ssl.create_default_context(cafile=str(cert))
        with socket.create_connection(("127.0.0.1", port)) as raw, \
                context.wrap_socket(raw, server_hostname="localhost") as s:
            framed = LINES[0].encode()
            s.sendall(f"{len(framed)} ".encode() + framed)
        assert wait_for(lambda: StoredEvent.objects.count() == 1)
    finally:
        stop_loop(loop, task, thread)
