"""The cycle a transactional checker found, laid out for a small picture in the report.

A checker result may carry `"cycles"` (checkers.elle.run: the first cycle of each kind
found, its transactions, regions and labelled edges; older results: `"cycle"`, the first
one). `cycle_figures(checkers)` turns each into an
SVG-ready layout: transactions on a circle (networkx's circular_layout: a handful of
vertices, where networkx is plenty fast), arrows shortened to stop at the node's edge,
each labelled with its dependency (ww / wr / rw / realtime / process) and key. The
report's own template part (results/report/templates/_elle_cycle.html.j2) draws it.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

SIZE = 320
RADIUS_NODE = 26


def layout(picture: Mapping[str, Any]) -> dict:
    import networkx as nx
    nodes = list(picture["nodes"])
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    pos = nx.circular_layout(g, scale=SIZE / 2 - 50, center=(SIZE / 2, SIZE / 2))
    place = {name: (float(pos[name][0]), float(pos[name][1])) for name in nodes}
    edges = []
    for e in picture["edges"]:
        (x1, y1), (x2, y2) = place[e["from"]], place[e["to"]]
        dx, dy = x2 - x1, y2 - y1
        d = math.hypot(dx, dy) or 1.0
        ux, uy = dx / d, dy / d
        sx, sy = x1 + ux * RADIUS_NODE, y1 + uy * RADIUS_NODE
        ex, ey = x2 - ux * (RADIUS_NODE + 4), y2 - uy * (RADIUS_NODE + 4)
        # bend each arrow a little outward so a 2-cycle's arrows do not overlap
        mx, my = (sx + ex) / 2 - uy * 18, (sy + ey) / 2 + ux * 18
        label = e["rel"] + (f" {e['key']}" if e.get("key") is not None else "")
        edges.append({"path": f"M{sx:.1f},{sy:.1f} Q{mx:.1f},{my:.1f} {ex:.1f},{ey:.1f}",
                      "lx": round(mx, 1), "ly": round(my, 1), "label": label,
                      "rel": e["rel"]})
    regions = picture.get("regions") or [None] * len(nodes)
    # The picture's own extent (nodes with their region line, arrows bent outward, their
    # labels), not the layout square: a 2-cycle drawn side by side is a wide, low figure
    # with no empty band under it (issue 25).
    boxes = [(x - RADIUS_NODE, y - RADIUS_NODE, x + RADIUS_NODE, y + RADIUS_NODE)
             for x, y in place.values()]
    boxes += [(e["lx"] - 3.3 * len(e["label"]), e["ly"] - 10,
               e["lx"] + 3.3 * len(e["label"]), e["ly"] + 4) for e in edges]
    margin = 6
    x0 = min(b[0] for b in boxes) - margin
    y0 = min(b[1] for b in boxes) - margin
    width = max(b[2] for b in boxes) + margin - x0
    height = max(b[3] for b in boxes) + margin - y0
    return {"kind": picture["kind"], "size": SIZE, "r": RADIUS_NODE,
            "viewbox": f"{x0:.0f} {y0:.0f} {width:.0f} {height:.0f}",
            "width": round(width), "height": round(height),
            "explanation": picture.get("explanation", ""),
            "nodes": [{"name": name, "x": round(place[name][0], 1),
                       "y": round(place[name][1], 1), "region": reg or ""}
                      for name, reg in zip(nodes, regions)],
            "edges": edges}


def cycle_figures(checkers: Mapping[str, Any]) -> list[dict]:
    """One layout per checker result that found a cycle: [{checker, ...layout}]."""
    out = []
    for name, res in (checkers or {}).items():
        if not isinstance(res, Mapping):
            continue
        pictures = res.get("cycles")  # one per kind (checkers.elle.run); older: "cycle"
        if not isinstance(pictures, list):
            pictures = [res["cycle"]] if isinstance(res.get("cycle"), Mapping) else []
        for picture in pictures:
            try:
                out.append({"checker": name, **layout(picture)})
            except (KeyError, TypeError, ValueError) as e:  # a malformed stored result
                out.append({"checker": name, "error": f"{type(e).__name__}: {e}"})
    return out
