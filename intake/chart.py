"""The chart of the daily report: registrations over time against the deadline, as PNG bytes.

Matplotlib's Agg canvas is used directly (no ``pyplot``): no display needed, no global figure state, safe in
the daemon's thread.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, DateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


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
    dpi = 100
    fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    xs = [float(date2num(d.day)) for d in days]  # matplotlib's day numbers (typed floats)
    if xs:
        ax.step(xs, [d.people for d in days], where="post", color="#1f5fa8", linewidth=2.2,
                label="people registered")
        ax.step(xs, [d.organizations for d in days], where="post", color="#e07b00", linewidth=2.2,
                label="organisations registered")
        last = days[-1]
        # say the latest figures on the chart itself, so it reads without the legend
        ax.annotate(str(last.people), (xs[-1], last.people), textcoords="offset points", xytext=(6, 2),
                    color="#1f5fa8", fontsize=10, fontweight="bold")
        ax.annotate(str(last.organizations), (xs[-1], last.organizations), textcoords="offset points",
                    xytext=(6, -12), color="#e07b00", fontsize=10, fontweight="bold")
    ax.axvline(float(date2num(deadline)), color="#c0392b", linestyle="--", linewidth=1.6, label=f"deadline {deadline:%d %b %Y}")
    if report_date != deadline:
        ax.axvline(float(date2num(report_date)), color="#555555", linestyle=":", linewidth=1.4,
                   label=f"this report {report_date:%d %b %Y}")
    ends = [float(date2num(report_date)), float(date2num(deadline))]
    left, right = min([*xs, *ends]), max([*xs, *ends])
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
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
