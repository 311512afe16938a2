"""Syslog listener: RFC 5424/3164 over UDP, TCP (newline or octet-counted framing, RFC 6587)
and TLS (RFC 5425), parsed by the `syslog` source and stored in batches."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable

from linewatch.errors import InputError
from linewatch.events import sources
from linewatch.events.ingest import parse_records
from linewatch.events.listeners.batching import Batcher

log = logging.getLogger(__name__)
MAX_MESSAGE = 64 * 1024


class SyslogListener:
    def __init__(self, *, site: str = "", source: str = "syslog", batcher: Batcher | None = None,
                 on_error: Callable[[InputError], None] | None = None) -> None:
        self.site = site
        self.parser = sources.get(source)
        self.batcher = batcher or Batcher()
        self.on_error = on_error or (lambda e: log.warning("rejected %s", e))
        self.received = 0

    def handle(self, text: str, peer: str) -> None:
        self.received += 1
        context = sources.Context(source_name=f"syslog:{peer}", site=self.site)
        events = []
        for item in parse_records(self.parser, [sources.Record(f"message {self.received}", text)], context):
            if isinstance(item, InputError):
                self.on_error(item)
            else:
                events.append(item)
        if events:
            self.batcher.add(events)

    async def _flusher(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            if self.batcher.due():
                await asyncio.to_thread(self.batcher.flush)

    async def _stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = writer.get_extra_info("peername")[:2]
        peer = f"{host}:{port}"
        try:
            while True:
                first = await reader.read(1)
                if not first:
                    return
                if first.isdigit():  # octet counting: "<len> <message>"
                    digits = first + await reader.readuntil(b" ")
                    length = int(digits[:-1])
                    if length > MAX_MESSAGE:
                        self.on_error(InputError(f"syslog:{peer}", "frame", f"message of {length} bytes is too long"))
                        return
                    data = await reader.readexactly(length)
                else:
                    data = first + await reader.readuntil(b"\n")
                self.handle(data.decode("utf-8", "replace").rstrip("\r\n"), peer)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, ConnectionError):
            return
        finally:
            writer.close()

    async def serve(self, host: str = "127.0.0.1", udp: int | None = None, tcp: int | None = None,
                    tls: int | None = None, certfile: str | None = None, keyfile: str | None = None,
                    ready: asyncio.Event | None = None) -> None:
        loop = asyncio.get_running_loop()
        servers = []
        listener = self

        class Datagram(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr) -> None:
                listener.handle(data.decode("utf-8", "replace").rstrip("\r\n\x00"), f"{addr[0]}:{addr[1]}")

        if udp is not None:
            transport, _ = await loop.create_datagram_endpoint(Datagram, local_addr=(host, udp))
            servers.append(transport)
        if tcp is not None:
            servers.append(await asyncio.start_server(self._stream, host, tcp, limit=MAX_MESSAGE))
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(certfile, keyfile)
            servers.append(await asyncio.start_server(self._stream, host, tls, ssl=context, limit=MAX_MESSAGE))
        if ready:
            ready.set()
        try:
            await self._flusher()
        finally:
            for server in servers:
                server.close()
            await asyncio.to_thread(self.batcher.flush)
