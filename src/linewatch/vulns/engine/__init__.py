"""The vulnerability engine: feed readers, a per-CVE store, matching with confidence, and risk order.

Plain Python: nothing here imports Django. Entry points:

* `read_feed(path)` -> (kind, records); `FeedStore` merges them and persists to a folder;
* `match(device, store)` -> list of `Match` with confidence and evidence;
* `rank(record, exposure, consequence)` -> `Risk` (sort key + explanation);
* `assess(devices, store)` -> ranked `Finding` list; `read_devices(csv)` for device lists.
"""

from .cpe import Cpe, parse_cpe
from .findings import DeviceContext, Finding, assess, read_devices
from .matching import Confidence, Device, Evidence, Match, match
from .readers import read_feed
from .risk import Exposure, Risk, rank
from .store import FeedStore, ImportStats
from .versions import Version, VersionRange, parse_range, parse_version

__all__ = [
    "Confidence", "Cpe", "Device", "DeviceContext", "Evidence", "Exposure", "FeedStore", "Finding", "ImportStats",
    "Match", "Risk", "Version", "VersionRange", "assess", "match", "parse_cpe", "parse_range", "parse_version",
    "rank", "read_devices", "read_feed",
]
