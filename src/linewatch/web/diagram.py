"""The zones-and-conduits diagram: zones as boxes in Purdue-level bands, conduits as arrows.

Pure layout arithmetic; the template draws the result as inline SVG, so the page needs no
JavaScript and no drawing library.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from linewatch.core.choices import PurdueLevel
from linewatch.core.models import Conduit, Zone
from linewatch.web.queries import PURDUE_TOP_DOWN

WIDTH = 1240
LABEL_W = 190  # the level labels on the left
PAD = 14
BAND_H = 104
EMPTY_BAND_H = 30
BOX_H = 46
BOX_MAX_W = 230
LABELS_UP_TO = 8  # conduits; beyond this the diagram shows numbers and the table the services
BOX_GAP = 26


@dataclass
class Band:
    level: str
    label: str
    y: int
    h: int
    empty: bool

    @property
    def text_y(self) -> int:
        return self.y + self.h // 2 + 4


@dataclass
class Box:
    zone: Zone
    x: int
    y: int
    w: int
    h: int = BOX_H
    out_ports: int = 0
    in_ports: int = 0

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def title(self) -> str:
        name = self.zone.name
        room = max(6, self.w // 7)
        return name if len(name) <= room else name[: room - 1] + "…"


@dataclass
class Arrow:
    number: int  # the conduit's row in the table
    conduit: Conduit
    path: str
    label: str  # services, or "" when the diagram is too busy for them
    lx: int  # the middle of the curve, where the number sits
    ly: int
    both: bool


@dataclass
class Diagram:
    width: int
    height: int
    bands: list[Band] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)
    label_x: int = PAD


def layout(zones: list[Zone], conduits: list[Conduit]) -> Diagram:
    by_level: dict[str, list[Zone]] = defaultdict(list)
    for zone in zones:
        by_level[zone.purdue_level].append(zone)
    labels = dict(PurdueLevel.choices)
    bands: list[Band] = []
    boxes: dict[int, Box] = {}
    y = PAD
    usable = WIDTH - LABEL_W - 2 * PAD
    for level in PURDUE_TOP_DOWN:
        members = sorted(by_level.get(level, []), key=lambda z: z.name)
        h = BAND_H if members else EMPTY_BAND_H
        bands.append(Band(level, labels[level].replace("Level ", "L").replace(" — ", " "), y, h, not members))
        if members:
            n = len(members)
            w = min(BOX_MAX_W, (usable - BOX_GAP * (n - 1)) // n)
            total = n * w + (n - 1) * BOX_GAP
            x0 = LABEL_W + PAD + (usable - total) // 2
            for i, zone in enumerate(members):
                boxes[zone.pk] = Box(zone, x0 + i * (w + BOX_GAP), y + (h - BOX_H) // 2, w)
        y += h
    diagram = Diagram(WIDTH, y + PAD, bands, list(boxes.values()))

    # Count the conduits touching each box side, to spread their ends along the edge.
    ends: dict[tuple[int, str], list[int]] = defaultdict(list)
    plans = []
    for index, conduit in enumerate(conduits):
        a, b = boxes.get(conduit.from_zone_id), boxes.get(conduit.to_zone_id)
        if a is None or b is None:
            continue
        if a.y == b.y:  # same band: an arc over the top
            sides = ("top", "top")
        elif a.y < b.y:
            sides = ("bottom", "top")
        else:
            sides = ("top", "bottom")
        ends[a.zone.pk, sides[0]].append(index)
        ends[b.zone.pk, sides[1]].append(index)
        plans.append((index, conduit, a, b, sides))

    def port(box: Box, side: str, index: int) -> tuple[int, int]:
        users = ends[box.zone.pk, side]
        slot = users.index(index)
        x = box.x + box.w * (slot + 1) // (len(users) + 1)
        return x, box.y if side == "top" else box.y + box.h

    with_labels = len(plans) <= LABELS_UP_TO
    for index, conduit, a, b, sides in plans:
        x1, y1 = port(a, sides[0], index)
        x2, y2 = port(b, sides[1], index)
        if sides == ("top", "top"):  # an arc over the band, higher the farther it goes
            c1y = c2y = y1 - min(64, 18 + abs(x2 - x1) // 10)
            y2 -= 3
        else:
            c1y = c2y = (y1 + y2) // 2
            y2 += -3 if sides[1] == "top" else 3
        path = f"M{x1},{y1} C{x1},{c1y} {x2},{c2y} {x2},{y2}"
        # the curve's middle (t = 1/2 of the cubic Bézier)
        lx = (x1 + 3 * x1 + 3 * x2 + x2) // 8
        ly = (y1 + 3 * c1y + 3 * c2y + y2) // 8
        label = (", ".join(conduit.services) or "no services") if with_labels else ""
        diagram.arrows.append(Arrow(index + 1, conduit, path, label, lx, ly, conduit.direction == "both"))
    return diagram
