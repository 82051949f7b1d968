"""The dependency graph of the claims, as an SVG in the style of a Lean blueprint.

Drawn directly (no graphviz binary): each family is a band of layers, a claim
sits one layer below the deepest claim of its family that it uses, and edges run
from a result to the results that use it. Node shape gives the kind (definition:
box; lemma: rounded box; theorem and others: ellipse), the border whether it is
only stated (blue) or derived (green), the fill whether it is verified (light
green) or fully verified (dark green); a red fill marks a latest check that
FAILed or a decoy that survived. Every node links to the claim's page.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["GraphNode", "dependency_svg", "STATUS_STYLE"]

NODE_WIDTH, NODE_HEIGHT = 196, 44
COLUMN, ROW, MAX_PER_ROW = 222, 80, 4
MARGIN, BAND_TITLE, LEGEND_HEIGHT = 16, 28, 84
LEGEND_COLUMN = 214
_LEGEND_SPAN = MARGIN + 4 * LEGEND_COLUMN

STATUS_STYLE = {
    # status: (border colour, fill colour, text colour)
    "stated": ("#1f6feb", "#ffffff", "#1f2328"),
    "derived": ("#1a7f37", "#ffffff", "#1f2328"),
    "verified": ("#1a7f37", "#aceebb", "#1f2328"),
    "fully verified": ("#1a7f37", "#1a7f37", "#ffffff"),
}
REFUTED_FILL = "#ffd8d3"


@dataclass
class GraphNode:
    """One claim in the graph."""

    id: str
    label: str
    kind: str
    status: str
    href: str
    title: str = ""
    refuted: bool = False


def _shape(node: GraphNode, x: float, y: float, stroke: str, fill: str) -> str:
    w, h = NODE_WIDTH, NODE_HEIGHT
    common = f'fill="{fill}" stroke="{stroke}" stroke-width="2.5"'
    if node.kind == "definition":
        return f'<rect x="{x - w / 2}" y="{y - h / 2}" width="{w}" height="{h}" {common}/>'
    if node.kind == "lemma":
        return (f'<rect x="{x - w / 2}" y="{y - h / 2}" width="{w}" height="{h}" rx="{h / 2}" '
                f'{common}/>')
    return f'<ellipse cx="{x}" cy="{y}" rx="{w / 2}" ry="{h / 2}" {common}/>'


def _split(label: str, width: int = 25) -> list[str]:
    """One line, or two split at the underscore nearest the middle."""
    if len(label) <= width or "_" not in label:
        return [label]
    cuts = [i for i, c in enumerate(label) if c == "_"]
    cut = min(cuts, key=lambda i: abs(i - len(label) / 2))
    return [label[:cut + 1], label[cut + 1:]]


def _label(label: str, x: float, y: float, ink: str) -> str:
    lines = _split(label)
    out = []
    for number, line in enumerate(lines):
        offset = 4 + 14 * (number - (len(lines) - 1) / 2)
        squeeze = (f' textLength="{NODE_WIDTH - 30}" lengthAdjust="spacingAndGlyphs"'
                   if len(line) > 25 else "")
        out.append(f'<text x="{x}" y="{y + offset:.1f}" text-anchor="middle" fill="{ink}" '
                   f'class="tl-label"{squeeze}>{html.escape(line)}</text>')
    return "".join(out)


def _layers(nodes: Sequence[GraphNode], edges: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Depth of each node within its family: one more than its deepest dependency there."""
    family = {n.id: n.id.split(".", 1)[0] for n in nodes}
    depth: dict[str, int] = {}

    def visit(node_id: str, trail: frozenset[str]) -> int:
        if node_id in depth:
            return depth[node_id]
        parents = [p for p in edges.get(node_id, ()) if p in family and p not in trail
                   and family[p] == family[node_id]]
        value = 1 + max((visit(p, trail | {node_id}) for p in parents), default=-1)
        depth[node_id] = value
        return value

    for node in nodes:
        visit(node.id, frozenset())
    return depth


def dependency_svg(nodes: Sequence[GraphNode], uses: Mapping[str, Sequence[str]]) -> str:
    """An inline SVG of the claims and what each uses, with a legend.

    Args:
        nodes: the claims, in display order (grouped by family).
        uses: claim id -> ids of the claims it uses (edges to absent ids are dropped).

    """
    depth = _layers(nodes, uses)
    families: dict[str, list[GraphNode]] = {}
    for node in nodes:
        families.setdefault(node.id.split(".", 1)[0], []).append(node)
    position: dict[str, tuple[float, float]] = {}
    parts: list[str] = []
    y = MARGIN + LEGEND_HEIGHT
    width = _LEGEND_SPAN
    for family, members in families.items():
        parts.append(f'<text x="{MARGIN}" y="{y + 16}" class="tl-band">{html.escape(family)}'
                     '</text>')
        y += BAND_TITLE
        by_layer: dict[int, list[GraphNode]] = {}
        for node in members:
            by_layer.setdefault(depth[node.id], []).append(node)
        for layer in sorted(by_layer):
            row_nodes = by_layer[layer]
            # Order a layer by the mean position of what it uses (fewer crossings).
            def barycentre(node: GraphNode) -> float:
                xs = [position[p][0] for p in uses.get(node.id, ()) if p in position]
                return sum(xs) / len(xs) if xs else 0.0

            row_nodes.sort(key=barycentre)
            for start in range(0, len(row_nodes), MAX_PER_ROW):
                chunk = row_nodes[start:start + MAX_PER_ROW]
                for column, node in enumerate(chunk):
                    x = MARGIN + NODE_WIDTH / 2 + column * COLUMN
                    position[node.id] = (x, y + NODE_HEIGHT / 2)
                    width = max(width, x + NODE_WIDTH / 2)
                y += ROW
        y += 8
    height = y + MARGIN
    total_width = width + MARGIN

    edges: list[str] = []
    for node in nodes:
        for used in uses.get(node.id, ()):
            if used not in position:
                continue
            (x1, y1), (x2, y2) = position[used], position[node.id]
            y1 += NODE_HEIGHT / 2
            y2 -= NODE_HEIGHT / 2 + 3
            if y2 <= y1:  # same row (a cross-family or wrapped edge): go around below
                y2 += NODE_HEIGHT + 6
                middle = max(y1, y2) + ROW / 2
                path = f"M{x1},{y1} C{x1},{middle} {x2},{middle} {x2},{y2}"
            elif abs(x2 - x1) < 1 and y2 - y1 > ROW:  # skips a row: bend round its nodes
                side = NODE_WIDTH * 0.7
                path = (f"M{x1},{y1} C{x1 + side},{y1 + ROW / 2} {x2 + side},{y2 - ROW / 2} "
                        f"{x2},{y2}")
            else:
                middle = (y1 + y2) / 2
                path = f"M{x1},{y1} C{x1},{middle} {x2},{middle} {x2},{y2}"
            edges.append(f'<path d="{path}" class="tl-edge" marker-end="url(#tl-arrow)">'
                         f'<title>{html.escape(node.id)} uses {html.escape(used)}</title></path>')

    drawn: list[str] = []
    for node in nodes:
        x, y_node = position[node.id]
        stroke, fill, ink = STATUS_STYLE.get(node.status, STATUS_STYLE["stated"])
        if node.refuted:
            fill, ink = REFUTED_FILL, "#1f2328"
        tooltip = f"{node.id}: {node.title} ({node.status}" + (
            ", latest check failed" if node.refuted else "") + ")"
        drawn.append(
            f'<a href="{html.escape(node.href)}" class="tl-node" '
            f'data-claim="{html.escape(node.id)}">'
            f"<title>{html.escape(tooltip)}</title>"
            + _shape(node, x, y_node, stroke, fill)
            + _label(node.label, x, y_node, ink) + "</a>")

    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="tl-graph" role="img" '
        f'aria-label="dependency graph of the claims" width="{total_width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {total_width:.0f} {height:.0f}">',
        "<defs><marker id=\"tl-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
        "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
        "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#57606a\"/></marker></defs>",
        "<style>.tl-edge{fill:none;stroke:#57606a;stroke-width:1.4}"
        ".tl-label{font:600 12px system-ui,sans-serif}"
        ".tl-band{font:600 14px system-ui,sans-serif;fill:#57606a}"
        ".tl-legend{font:12px system-ui,sans-serif;fill:#1f2328}"
        ".tl-node:hover ellipse,.tl-node:hover rect{stroke-width:4}</style>",
        *parts, *edges, *drawn, _legend(MARGIN), "</svg>",
    ]
    return "\n".join(svg)


def _legend(x: float) -> str:
    """The legend: shapes, border and fill colours, edges; four columns, two rows."""
    items: list[tuple[str, str]] = [
        ('<ellipse cx="{X}" cy="{Y}" rx="16" ry="9" fill="#fff" stroke="#57606a" '
         'stroke-width="2"/>', "theorem"),
        ('<rect x="{L}" y="{T}" width="32" height="18" rx="9" fill="#fff" stroke="#57606a" '
         'stroke-width="2"/>', "lemma"),
        ('<rect x="{L}" y="{T}" width="32" height="18" fill="#fff" stroke="#57606a" '
         'stroke-width="2"/>', "definition"),
        ('<path d="M{L},{Y} L{R},{Y}" class="tl-edge" marker-end="url(#tl-arrow)"/>',
         "A → B: B uses A"),
    ]
    for status, text in (("stated", "blue border: stated"),
                         ("derived", "green border: derived"),
                         ("verified", "light fill: verified"),
                         ("fully verified", "dark fill: fully verified")):
        stroke, fill, _ = STATUS_STYLE[status]
        items.append((f'<ellipse cx="{{X}}" cy="{{Y}}" rx="16" ry="9" fill="{fill}" '
                      f'stroke="{stroke}" stroke-width="2.5"/>', text))
    items.append((f'<ellipse cx="{{X}}" cy="{{Y}}" rx="16" ry="9" fill="{REFUTED_FILL}" '
                  'stroke="#57606a" stroke-width="2"/>', "red fill: latest check failed"))
    rows = []
    for number, (shape, text) in enumerate(items):
        row, column = divmod(number, 4) if number < 4 else divmod(number - 4, 4)
        row = 0 if number < 4 else 1 + row
        left = x + column * LEGEND_COLUMN
        y = MARGIN + 8 + 22 * row
        rows.append(shape.format(X=left + 16, Y=y, L=left, R=left + 30, T=y - 9))
        rows.append(f'<text x="{left + 40}" y="{y + 4}" class="tl-legend">{text}</text>')
    return "\n".join(rows)
