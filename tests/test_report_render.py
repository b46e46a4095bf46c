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
