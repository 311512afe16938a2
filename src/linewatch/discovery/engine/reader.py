"""Streaming pcap / pcapng reader (gzip too) in constant memory.

Reads the file in large chunks and slices records out with `struct`, which is several times faster
than reading record by record. Every record carries the byte offset of its header (in the
uncompressed stream), so a truncated or corrupt file gets an `InputError` naming the file and place.
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Iterator
from pathlib import Path

from linewatch.errors import InputError

CHUNK = 1 << 20
MAX_RECORD = 1 << 26  # 64 MiB: anything larger is a corrupt length field, not a packet

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"

# A packet as the engine sees it: (link type, timestamp in seconds, frame bytes, byte offset of the record).
Packet = tuple[int, float, bytes, int]


class _Stream:
    """A forward-only byte stream over a (possibly gzip) file with an absolute offset."""

    def __init__(self, fh, name: str) -> None:
        self.fh = fh
        self.name = name
        self.buf = b""
        self.pos = 0  # position of buf[0] in the stream
        self.i = 0  # cursor within buf

    def take(self, n: int) -> bytes | None:
        """Exactly n bytes, b"" at a clean end of file, None when the file ends within the n bytes."""
        if self.i + n > len(self.buf):
            rest = self.buf[self.i:]
            self.pos += self.i
            try:
                more = self.fh.read(max(CHUNK, n))
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                raise InputError(self.name, f"byte {self.pos + len(rest)}", f"cannot decompress: {exc}") from None
            self.buf = rest + more
            self.i = 0
            if len(self.buf) < n:
                if not self.buf:
                    return b""
                return None
        out = self.buf[self.i:self.i + n]
        self.i += n
        return out

    @property
    def offset(self) -> int:
        return self.pos + self.i


def _open(path: Path):
    with open(path, "rb") as probe:
        head = probe.read(2)
    return gzip.open(path, "rb") if head == b"\x1f\x8b" else open(path, "rb")  # noqa: SIM115 - closed by caller


def read_packets(path: str | Path, name: str | None = None) -> Iterator[Packet]:
    """Yield every packet of a pcap or pcapng file (plain or gzip), raising InputError on bad input."""
    for batch in read_batches(path, name):
        yield from batch


def read_batches(path: str | Path, name: str | None = None) -> Iterator[list[Packet]]:
    """Like read_packets, in lists of the packets of about one chunk (fewer generator switches)."""
    path = Path(path)
    name = name or str(path)
    try:
        fh = _open(path)
    except OSError as exc:
        raise InputError(name, "", f"cannot read: {exc.strerror or exc}") from None
    with fh:
        s = _Stream(fh, name)
        magic = s.take(4)
        if magic == b"":
            raise InputError(name, "byte 0", "empty file: not a packet capture")
        if magic is None:
            raise InputError(name, "byte 0", "file too short to be a packet capture")
        if magic in PCAP_MAGICS:
            yield from _pcap(s, magic)
        elif magic == PCAPNG_SHB:
            batch: list[Packet] = []
            for pkt in _pcapng(s, magic):
                batch.append(pkt)
                if len(batch) >= 4096:
                    yield batch
                    batch = []
            yield batch
        else:
            raise InputError(name, "byte 0", f"not a pcap or pcapng file (magic {magic.hex()})")


def _pcap(s: _Stream, magic: bytes) -> Iterator[list[Packet]]:
    endian, scale = PCAP_MAGICS[magic]
    head = s.take(20)
    if not head:
        raise InputError(s.name, "byte 4", "truncated pcap file header")
    _vmaj, _vmin, _tz, _sig, _snaplen, linktype = struct.unpack(endian + "HHiIII", head)
    linktype &= 0x0FFFFFFF
    unpack_from = struct.Struct(endian + "III").unpack_from  # seconds, fraction, captured length
    buf = s.buf[s.i:]  # the rest of the first chunk
    base = s.offset
    fh = s.fh
    while True:
        try:
            more = fh.read(CHUNK)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(s.name, f"byte {base + len(buf)}", f"cannot decompress: {exc}") from None
        if more:
            buf = buf + more if buf else more
        n = len(buf)
        i = 0
        batch: list[Packet] = []
        append = batch.append
        end16 = n - 16
        while i <= end16:
            sec, frac, incl = unpack_from(buf, i)
            j = i + 16 + incl
            if j > n:  # the record runs past the chunk: read more, unless its length is corrupt
                if incl > MAX_RECORD:
                    raise InputError(s.name, f"byte {base + i}", f"corrupt packet record (captured length {incl})")
                break
            append((linktype, sec + frac * scale, buf[i + 16:j], base + i))
            i = j
        if batch:
            yield batch
        buf = buf[i:]
        base += i
        if not more:
            if buf:
                what = "packet record header" if len(buf) < 16 else "packet"
                raise InputError(s.name, f"byte {base}", f"truncated {what}: file ends {len(buf)} bytes into it")
            return


def _pcapng(s: _Stream, first: bytes) -> Iterator[Packet]:
    endian = "<"
    interfaces: list[tuple[int, float]] = []  # (link type, seconds per timestamp unit)
    block_type_raw = first
    while True:
        off = s.offset - 4
        lenb = s.take(4)
        if not lenb:
            raise InputError(s.name, f"byte {off}", "truncated pcapng block header")
        if block_type_raw == PCAPNG_SHB:
            bom = s.take(4)
            if not bom:
                raise InputError(s.name, f"byte {off}", "truncated pcapng section header")
            if bom == b"\x4d\x3c\x2b\x1a":
                endian = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                endian = ">"
            else:
                raise InputError(s.name, f"byte {off + 8}", "corrupt pcapng section header (byte-order magic)")
            (length,) = struct.unpack(endian + "I", lenb)
            if length < 28 or length > MAX_RECORD or length % 4:
                raise InputError(s.name, f"byte {off}", f"corrupt pcapng section header (length {length})")
            body = s.take(length - 12)
            if not body:
                raise InputError(s.name, f"byte {off}", "truncated pcapng section header")
            interfaces = []
        else:
            (btype,) = struct.unpack(endian + "I", block_type_raw)
            (length,) = struct.unpack(endian + "I", lenb)
            if length < 12 or length > MAX_RECORD or length % 4:
                raise InputError(s.name, f"byte {off}", f"corrupt pcapng block (type {btype:#x}, length {length})")
            body = s.take(length - 8)
            if not body:
                raise InputError(s.name, f"byte {off}", f"truncated pcapng block (type {btype:#x})")
            body = body[:-4]
            if btype == 1:  # interface description
                linktype = struct.unpack_from(endian + "H", body, 0)[0]
                interfaces.append((linktype, _ts_resolution(body[8:], endian)))
            elif btype == 6 and len(body) >= 20:  # enhanced packet
                iface, hi, lo, caplen, _orig = struct.unpack_from(endian + "IIIII", body, 0)
                if iface >= len(interfaces):
                    raise InputError(s.name, f"byte {off}", f"packet on undeclared interface {iface}")
                lt, res = interfaces[iface]
                yield lt, ((hi << 32) | lo) * res, body[20:20 + caplen], off
            elif btype == 3 and len(body) >= 4:  # simple packet
                if not interfaces:
                    raise InputError(s.name, f"byte {off}", "packet before any interface description")
                (orig,) = struct.unpack_from(endian + "I", body, 0)
                yield interfaces[0][0], 0.0, body[4:4 + orig], off
        nxt = s.take(4)
        if nxt == b"":
            return
        if nxt is None:
            raise InputError(s.name, f"byte {s.offset}", "truncated pcapng block header")
        block_type_raw = nxt


def _ts_resolution(options: bytes, endian: str) -> float:
    """Seconds per timestamp unit from the if_tsresol option (default microseconds)."""
    i = 0
    while i + 4 <= len(options):
        code, ln = struct.unpack_from(endian + "HH", options, i)
        if code == 0:
            break
        if code == 9 and ln >= 1:
            v = options[i + 4]
            return 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
        i += 4 + ((ln + 3) & ~3)
    return 1e-6
