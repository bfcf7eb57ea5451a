"""The weekly trend as a chart: block-character bars for text, a PNG for HTML.

The PNG is drawn with matplotlib's Agg canvas directly (no pyplot, no global
backend switch), imported only when a chart is drawn. Only week dates and
counts go in; the caption and alt text say nothing else either.
"""

from __future__ import annotations

import io
from datetime import date

EIGHTHS = " ▏▎▍▌▋▊▉"
FULL = "█"


def bar(n: int, most: int, width: int = 20) -> str:
    """A horizontal bar of `n` against `most`, in eighths of a character."""
    if n <= 0 or most <= 0:
        return ""
    eighths = max(1, round(width * 8 * n / most))
    return FULL * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")


def week_label(monday: date) -> str:
    return "w/c " + monday.strftime("%d %b").lstrip("0")


def text_chart(weeks: list[tuple[date, int]], width: int = 20) -> list[str]:
    most = max((n for _, n in weeks), default=0)
    label_width = max((len(week_label(d)) for d, _ in weeks), default=0)
    return [f"{week_label(d):<{label_width}}  {n:>4}  {bar(n, most, width)}".rstrip() for d, n in weeks]


def alt_text(weeks: list[tuple[date, int]]) -> str:
    if not weeks:
        return "Chart: no weeks to show."
    most = max(n for _, n in weeks)
    total = sum(n for _, n in weeks)
    return (f"Bar chart of held messages per week over {len(weeks)} weeks, "
            f"{total} in all, at most {most} in one week.")


def prepare() -> None:
    """Import matplotlib and load its fonts now by drawing an empty week (about half a second), for a
    server to do before its first request rather than inside it, while other requests wait."""
    png_chart([(date(2026, 1, 5), 0)])


def png_chart(weeks: list[tuple[date, int]]) -> bytes:
    """The trend as a small PNG bar chart."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(7.0, 2.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    labels = [d.strftime("%d %b").lstrip("0") for d, _ in weeks]
    counts = [n for _, n in weeks]
    ax.bar(range(len(weeks)), counts, color="#5b7fa6", width=0.7)
    step = max(1, len(weeks) // 9)
    ax.set_xticks(range(0, len(weeks), step))
    ax.set_xticklabels(labels[::step], fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(counts + [1]) * 1.15)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylabel("held", fontsize=8)
    ax.set_xlabel("week beginning", fontsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
