"""Charts of contact attempts over time (matplotlib, Agg backend, no pyplot
state, so it is safe in the web server's threads). Counts only: no text.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, datetime, timedelta

COLOURS = ("#1f4e8c", "#c2571a", "#2f7d32", "#7b3294", "#6b6b6b")


def message_day(date_text: str | None, received_at: str | None) -> date | None:
    """The day a message was sent (its own Date), or when screener received it."""
    for text in (date_text, received_at):
        if not text:
            continue
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        except ValueError:
            continue
    return None


def contact_chart(series: dict[str, list[date]], title: str, *, width: float = 8.0, height: float = 3.2,
                  dpi: int = 120) -> bytes:
    """A PNG of stacked bars: how many messages of each series per day (per week over long spans)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    import matplotlib.dates as mdates

    days = [d for values in series.values() for d in values if d is not None]
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_title(title, fontsize=11, loc="left")
    if not days:
        ax.text(0.5, 0.5, "No messages in this period", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        first, last = min(days), max(days)
        weekly = (last - first).days > 120
        step = timedelta(days=7 if weekly else 1)

        def bucket(d: date) -> date:
            return d - timedelta(days=d.weekday()) if weekly else d

        start = bucket(first)
        slots = []
        while start <= last:
            slots.append(start)
            start += step
        bottom = [0] * len(slots)
        for colour, (name, values) in zip(COLOURS * 4, sorted(series.items())):
            counts = Counter(bucket(d) for d in values if d is not None)
            heights = [counts.get(s, 0) for s in slots]
            if not any(heights):
                continue
            ax.bar([datetime.combine(s, datetime.min.time()) for s in slots], heights,
                   width=6 if weekly else 0.8, bottom=bottom, color=colour, label=name, align="edge")
            bottom = [b + h for b, h in zip(bottom, heights)]
        ax.set_ylabel("messages per week" if weekly else "messages per day")
        ax.yaxis.get_major_locator().set_params(integer=True)
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.spines[["top", "right"]].set_visible(False)
        if len(series) > 1:
            ax.legend(frameon=False, fontsize=8, loc="upper left")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
