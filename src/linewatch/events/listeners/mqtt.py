"""MQTT subscriber: device telemetry from the plant broker into the event store.

Subscribes with QoS 1 and acknowledges each message only after its events are stored, so a
killed subscriber loses nothing the broker considers delivered (the broker redelivers unacked
messages to the persistent session). Topic patterns pick the parser: `spBv1.0/#` is Sparkplug B,
anything else JSON telemetry, unless `source` says otherwise.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt

from linewatch.errors import InputError
from linewatch.events import sources
from linewatch.events.ingest import parse_records
from linewatch.events.listeners.batching import Batcher

log = logging.getLogger(__name__)


def source_for_topic(topic: str, default: str = "mqtt-json") -> str:
    return "sparkplug-b" if topic.startswith("spBv1.0/") else default


class MqttSubscriber:
    def __init__(self, host: str = "127.0.0.1", port: int = 1883, topics: tuple[str, ...] = ("#",), *,
                 site: str = "", source: str = "", client_id: str = "linewatch-ingest",
                 on_error: Callable[[InputError], None] | None = None, batcher: Batcher | None = None) -> None:
        self.topics = topics
        self.site = site
        self.source = source
        self.on_error = on_error or (lambda e: log.warning("rejected %s", e))
        self.batcher = batcher or Batcher(max_events=200, max_age=0.2)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                                  manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.host, self.port = host, port
        self._stop = threading.Event()
        # Shared across messages: Sparkplug B aliases announced in a BIRTH are used by later DATA.
        self.state: dict = {}
        self.options: dict = {}

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        for topic in self.topics:
            client.subscribe(topic, qos=1)

    def _on_message(self, client, userdata, message):
        name = self.source or source_for_topic(message.topic)
        context = sources.Context(source_name=f"mqtt:{message.topic}", site=self.site, options=self.options,
                                  state=self.state)
        record = sources.Record(message.topic, (message.topic, bytes(message.payload)))
        events = []
        for item in parse_records(sources.get(name), [record], context):
            if isinstance(item, InputError):
                self.on_error(item)
            else:
                events.append(item)

        def ack(mid=message.mid, qos=message.qos):
            client.ack(mid, qos)

        self.batcher.add(events, ack)

    def run(self, until: threading.Event | None = None) -> None:
        """Connect and process until `until` (or stop()) is set."""
        stop = until or self._stop
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        try:
            while not stop.wait(0.05):
                if self.batcher.due():
                    self.batcher.flush()
            self.batcher.flush()
        finally:
            self.client.loop_stop()
            self.client.disconnect()

    def stop(self) -> None:
        self._stop.set()
