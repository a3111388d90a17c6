"""The flow chart of the reciprocity page, drawn on the server as SVG geometry.

Two columns: senders on the left, hosts on the right, each institution a bar as tall as
its placements; a band joins a sender to a host, as wide as the placements between them.
The template draws it; the table beside it says the same for screen readers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

WIDTH = 880
LEFT_X = 260  # senders' bars end here (their names are to the left)
RIGHT_X = WIDTH - 260  # hosts' bars start here
BAR = 10
GAP = 14
UNIT = 18  # pixels per placement, shrunk when there are many
MAX_HEIGHT = 900


@dataclass(frozen=True)
class Node:
    name: str
    total: int
    x: float
    y: float
    height: float

    @property
    def label_y(self) -> float:
        return self.y + self.height / 2 + 4


@dataclass(frozen=True)
class Band:
    sender: str
    host: str
    count: int
    path: str
    width: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    senders: list[Node]
    hosts: list[Node]
    bands: list[Band]
    label_right_x: int = RIGHT_X + BAR + 6
    label_left_x: int = LEFT_X - BAR - 6


def flow_chart(flows: Sequence[Any]) -> Chart | None:
    """``flows``: items with ``sender``, ``host`` (named) and ``count``."""
    flows = [flow for flow in flows if flow.count > 0]
    if not flows:
        return None
    sent: dict[Any, int] = defaultdict(int)
    hosted: dict[Any, int] = defaultdict(int)
    for flow in flows:
        sent[flow.sender] += flow.count
        hosted[flow.host] += flow.count
    total = sum(sent.values())
    gaps = GAP * (max(len(sent), len(hosted)) + 1)
    unit = min(UNIT, max(2.0, (MAX_HEIGHT - gaps) / total))

    def column(totals: dict[Any, int], x: float) -> dict[Any, Node]:
        nodes, y = {}, float(GAP)
        for institution in sorted(totals, key=lambda inst: (inst.name, inst.pk)):
            height = totals[institution] * unit
            nodes[institution] = Node(str(institution.name), totals[institution], x, y, height)
            y += height + GAP
        return nodes

    senders = column(sent, LEFT_X - BAR)
    hosts = column(hosted, RIGHT_X)
    out_offset: dict[Any, float] = defaultdict(float)
    in_offset: dict[Any, float] = defaultdict(float)
    bands = []
    for flow in sorted(flows, key=lambda f: (f.sender.name, f.host.name)):
        width = flow.count * unit
        start = senders[flow.sender].y + out_offset[flow.sender] + width / 2
        end = hosts[flow.host].y + in_offset[flow.host] + width / 2
        out_offset[flow.sender] += width
        in_offset[flow.host] += width
        middle = (LEFT_X + RIGHT_X) / 2
        path = (
            f"M{LEFT_X},{start:.1f} C{middle:.1f},{start:.1f} {middle:.1f},{end:.1f} "
            f"{RIGHT_X},{end:.1f}"
        )
        bands.append(
            Band(str(flow.sender.name), str(flow.host.name), flow.count, path, round(width, 1))
        )
    height = int(
        max(
            max(node.y + node.height for node in senders.values()),
            max(node.y + node.height for node in hosts.values()),
        )
        + GAP
    )
    return Chart(
        width=WIDTH,
        height=height,
        senders=list(senders.values()),
        hosts=list(hosts.values()),
        bands=bands,
    )
