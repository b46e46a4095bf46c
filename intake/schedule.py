"""Scheduled work the daemon runs after each check, with the clock passed in.

Each tick records what it did in ``jobs_done`` so it happens once even across restarts.
"""
from __future__ import annotations

from intake.config import Config
from intake.daemon import Tick


def default_ticks(cfg: Config) -> list[Tick]:
    """The ticks the daemon runs for this config (deadline notices and the daily report plug in here)."""
    from intake.deadline import no_answer_tick, reminder_tick
    from intake.digest import digest_tick

    ticks: list[Tick] = [
        digest_tick,  # the answers a loop limit held back, one digest per address when it may get mail again
        reminder_tick,  # reminders N days before the deadline (replies.reminder_days), once per organisation
        no_answer_tick,  # after the deadline: invitees that never wrote become "no_answer"
    ]
    if cfg.report.recipients:
        from intake.report import daily_report_tick  # matplotlib loads only when a report is wanted
        ticks.append(daily_report_tick)
    return ticks
