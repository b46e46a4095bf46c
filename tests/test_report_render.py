"""Render the report's HTML and chart to PNG files a person can look at (test-output/report/).

The HTML is rendered by a real headless Chromium (the one CI installs), from the same mail the daemon
sends: the HTML part and its inline chart are taken out of the queued message.
"""
from __future__ import annotations

import dataclasses
import email
import email.policy
import io
import shutil
import subprocess
from datetime import time
from email.message import EmailMessage
from pathlib import Path

import matplotlib.image
from test_report import RECIPIENTS, REPORT_AT, seed_meeting

from intake.config import Config, ReportConfig
from intake.report import CHART_FILENAME, queue_report
from intake.store import Store

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def screenshot(html: Path, png: Path, profile: Path, *, width: int = 1000, height: int = 1700) -> None:
    png.unlink(missing_ok=True)
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={profile}", f"--screenshot={png}",
         f"--window-size={width},{height}", html.as_uri()],
        capture_output=True, text=True, timeout=90, check=False)
    assert png.exists(), f"chromium made no screenshot: {proc.stderr[-2000:]}"


def test_render_report_html_and_chart_to_png(workdir_config: Config, output_dir: Path, tmp_path: Path) -> None:
    cfg = dataclasses.replace(workdir_config, report=ReportConfig(recipients=RECIPIENTS, send_at=time(7, 0)))
    store = Store(cfg.store.path)
    seed_meeting(store)
    queue_report(store, cfg, now=REPORT_AT)
    raw = store.scalar("SELECT raw FROM outbox WHERE kind = 'report' ORDER BY id LIMIT 1")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)

    folder = output_dir / "report"
    folder.mkdir(parents=True, exist_ok=True)
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    chart = next(p for p in msg.walk() if p.get_content_type() == "image/png")
    cid = chart["Content-ID"].strip("<>")
    png_bytes = chart.get_payload(decode=True)
    (folder / CHART_FILENAME).write_bytes(png_bytes)
    (folder / "report.html").write_text(html.replace(f"cid:{cid}", CHART_FILENAME), encoding="utf-8")
    (folder / "report.txt").write_text(msg.get_body(("plain",)).get_content(), encoding="utf-8")  # type: ignore[union-attr]
    (folder / "report.eml").write_bytes(raw)

    shot = folder / "report-html.png"
    screenshot(folder / "report.html", shot, tmp_path / "chromium-profile")
    image = matplotlib.image.imread(io.BytesIO(shot.read_bytes()), format="png")
    assert image.shape[1] == 1000 and image.shape[0] >= 1000
    # The page is not blank: the blue header band and the chart's lines make many distinct colours.
    colours = {tuple(px) for px in (image[::10, ::10, :3] * 255).astype(int).reshape(-1, 3).tolist()}
    assert len(colours) > 50
    assert (folder / CHART_FILENAME).stat().st_size > 10_000


def test_the_chart_with_three_days_of_data(workdir_config: Config, output_dir: Path, tmp_path: Path) -> None:
    """Issue 12.11: with a few days of data the chart was an empty frame with the figures over the legend. Three
    days of registrations, the report's own chart: both lines are drawn, in the plot, and the legend is under it.
    The page of the report with that chart is rendered by Chromium too (test-output/report/)."""
    from datetime import UTC, datetime

    import numpy as np

    from intake.report import build_report, render_everything, report_chart, save_report_files

    cfg = dataclasses.replace(workdir_config, report=ReportConfig(recipients=RECIPIENTS, send_at=time(7, 0)))
    store = Store(cfg.store.path)
    start = datetime(2017, 7, 25, 9, 0, tzinfo=UTC)
    for day, (orgs, people) in enumerate([(1, 2), (2, 3), (1, 4)]):
        for o in range(orgs):
            when = start.replace(day=25 + day, hour=9 + o)
            org = store.add_organization(f"Organisation {day}-{o}", now=start, invited=True, category="NGO")
            kept = store.keep_raw("maildir:/seed", f"{day}-{o}", f"Subject: {day}-{o}\r\n\r\nx\r\n".encode(),
                                  now=when, received_at=when, sender=f"info@org{day}{o}.example.org",
                                  subject=f"Registration {day}-{o}")
            store._db.execute("UPDATE messages SET status = 'processed', intent = 'registration',"
                             " organization_id = ? WHERE id = ?", (org, kept.id))
            for n in range(people // orgs + (o < people % orgs)):
                store.add_representative(org, name=f"Person {day}-{o}-{n}", honorific="Ms.", now=when,
                                         message_id=kept.id)
            store.set_organization_state(org, "registered", now=when)
    as_of = datetime(2017, 7, 27, 17, 0, tzinfo=UTC)
    report = build_report(store, cfg, as_of)
    assert [(d.day.day, d.organizations, d.people) for d in report.timeline] == [(25, 1, 2), (26, 3, 5), (27, 4, 9)]
    png = report_chart(report)
    folder = output_dir / "report"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "registrations-3-days.png").write_bytes(png)
    image = (matplotlib.image.imread(io.BytesIO(png), format="png")[:, :, :3] * 255).astype(int)

    def pixels(rgb: tuple[int, int, int]) -> np.ndarray:
        return np.argwhere(np.abs(image - np.array(rgb)).sum(axis=2) < 40)

    blue, orange = pixels((0x1F, 0x5F, 0xA8)), pixels((0xE0, 0x7B, 0x00))
    assert len(blue) > 300 and len(orange) > 300, "both lines are drawn"
    height = image.shape[0]
    # the lines live in the plot; the legend's samples are the only coloured pixels in the bottom band
    in_plot = blue[blue[:, 0] < height * 0.8]
    assert len(in_plot) > 200
    legend = blue[blue[:, 0] > height * 0.85]
    assert len(legend) > 0 and len(legend) < len(in_plot)
    saved = save_report_files(render_everything(store, cfg, as_of), tmp_path / "saved")
    shot = folder / "report-3-days.png"
    screenshot(saved["html"], shot, tmp_path / "chromium-profile")
    assert shot.stat().st_size > 20_000
