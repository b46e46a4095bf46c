"""The chart of the daily report: registrations over time against the deadline, as PNG bytes.

Matplotlib's Agg canvas is used directly (no ``pyplot``): no display needed, no global figure state, safe in
the daemon's thread. It is imported when a chart is drawn, so reading the figures (``DayCount``) costs nothing.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class DayCount:
    """Cumulative figures at the end of one local day."""

    day: date
    people: int
    organizations: int


def registrations_chart(days: Sequence[DayCount], *, deadline: date, report_date: date, title: str = "",
                        width_px: int = 900, height_px: int = 420) -> bytes:
    """A PNG: cumulative people and organisations registered per day, the deadline and the report date marked.

    Example: ``Path("chart.png").write_bytes(registrations_chart(report.timeline, deadline=..., ...))``
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, DateFormatter, date2num
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    dpi = 100
    fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    xs = [float(date2num(d.day)) for d in days]  # matplotlib's day numbers (typed floats)
    if xs:
        # A dot for each day's figure, joined by steps: one day or three days of data still draw something (a
        # step plot of a single point draws nothing at all).
        for values, color, label, offset in (([d.people for d in days], "#1f5fa8", "people registered", 4),
                                             ([d.organizations for d in days], "#e07b00",
                                              "organisations registered", -12)):
            ax.step(xs, values, where="post", color=color, linewidth=2.2, marker="o", markersize=4, label=label)
            # the latest figure written beside its dot, so the chart reads without the legend
            ax.annotate(str(values[-1]), (xs[-1], values[-1]), textcoords="offset points", xytext=(6, offset),
                        color=color, fontsize=10, fontweight="bold")
    ax.axvline(float(date2num(deadline)), color="#c0392b", linestyle="--", linewidth=1.6, label=f"deadline {deadline:%d %b %Y}")
    if report_date != deadline:
        ax.axvline(float(date2num(report_date)), color="#555555", linestyle=":", linewidth=1.4,
                   label=f"this report {report_date:%d %b %Y}")
    marks = [float(date2num(report_date)), float(date2num(deadline))]
    left, right = min([*xs, *marks]), max([*xs, *marks])
    pad = max(1.0, (right - left) / 20)  # in days
    ax.set_xlim(left - pad, right + pad)
    top = max([1, *(d.people for d in days), *(d.organizations for d in days)])
    ax.set_ylim(0, top * 1.18 + 1)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_locator(AutoDateLocator(minticks=4, maxticks=10))
    ax.xaxis.set_major_formatter(DateFormatter("%d %b"))
    ax.grid(True, axis="y", color="#dddddd")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_ylabel("cumulative count")
    if title:
        ax.set_title(title, fontsize=12, loc="left")
    # Below the plot, never over the lines or their figures.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4, frameon=False, fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
