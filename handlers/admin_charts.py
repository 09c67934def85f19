"""Charts for the dashboard as inline SVG drawn on the server: no script, no library, readable without JS."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 640, 220, 36
#: One colour per series, in order; distinguishable in print and for the common colour blindnesses.
COLOURS = ("#1b7f3b", "#e08a00", "#c0392b", "#2c6fbb")


def line_chart(title: str, days: list[str], series: dict[str, list[float]], percent: bool = False) -> Markup:
    """One line per series over the days; the y axis from 0 to the largest value (or 100 %)."""
    top = 1.0 if percent else max([1.0, *(v for values in series.values() for v in values)])
    step = (WIDTH - 2 * PAD) / max(len(days) - 1, 1)

    def point(i: int, value: float) -> str:
        return f"{PAD + i * step:.1f},{HEIGHT - PAD - value / top * (HEIGHT - 2 * PAD):.1f}"

    parts = [_frame(title, _label(top, percent))]
    for (name, values), colour in zip(series.items(), COLOURS, strict=False):
        points = " ".join(point(i, v) for i, v in enumerate(values))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        for i, v in enumerate(values):
            x, y = point(i, v).split(",")
            label = escape(f"{name} {days[i]}: {_label(v, percent)}")
            parts.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}"><title>{label}</title></circle>')
    parts.append(_legend(list(series)))
    if days:
        parts.append(f'<text x="{PAD}" y="{HEIGHT - 12}" font-size="11">{escape(days[0])}</text>')
        parts.append(
            f'<text x="{WIDTH - PAD}" y="{HEIGHT - 12}" font-size="11" text-anchor="end">{escape(days[-1])}</text>'
        )
    else:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">暂无数据</text>')
    return Markup(_svg(title, "".join(parts)))


def bar_chart(title: str, bars: list[tuple[str, float]]) -> Markup:
    """Horizontal bars, one per label, longest first as given."""
    top = max([1.0, *(v for _, v in bars)])
    row = 22
    height = PAD + row * max(len(bars), 1) + 10
    parts = [f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>']
    for i, (label, value) in enumerate(bars):
        y = PAD + i * row
        width = value / top * (WIDTH - 260)
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{escape(label)}</text>')
        parts.append(f'<rect x="200" y="{y}" width="{width:.1f}" height="16" fill="{COLOURS[0]}"/>')
        parts.append(f'<text x="{205 + width:.1f}" y="{y + 13}" font-size="12">{value:g}</text>')
    if not bars:
        parts.append(f'<text x="0" y="{PAD + 14}">暂无数据</text>')
    return Markup(
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )


def _label(value: float, percent: bool) -> str:
    return f"{value:.0%}" if percent else f"{value:g}"


def _frame(title: str, top_label: str) -> str:
    bottom = HEIGHT - PAD
    return (
        f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{bottom}" stroke="#888"/>'
        f'<line x1="{PAD}" y1="{bottom}" x2="{WIDTH - PAD}" y2="{bottom}" stroke="#888"/>'
        f'<text x="{PAD - 4}" y="{PAD + 4}" font-size="11" text-anchor="end">{escape(top_label)}</text>'
        f'<text x="{PAD - 4}" y="{bottom}" font-size="11" text-anchor="end">0</text>'
    )


def _legend(names: list[str]) -> str:
    """Along the bottom, between the first and last day, clear of the title."""
    parts = []
    start = (WIDTH - len(names) * 100) / 2
    for i, (name, colour) in enumerate(zip(names, COLOURS, strict=False)):
        x = start + i * 100
        parts.append(f'<rect x="{x}" y="{HEIGHT - 22}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="{HEIGHT - 12}" font-size="12">{escape(name)}</text>')
    return "".join(parts)


def _svg(title: str, body: str) -> str:
    return (
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )
