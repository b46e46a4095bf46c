"""The daily summary report for the Secretary of the meeting: figures, mail, daily tick.

What the Secretary reads every morning without logging in: replies and registrations of the last 24 hours,
totals (invited, replied, registered, declined, no answer; people registered), open flags by reason with the
oldest one's age, days to the deadline, the organisations that have not answered (once the deadline is near),
a chart of registrations against the deadline, and the participants as a CSV attachment.

Every figure is computed *as of* a moment (the clock is passed in): people count if they were added before
it and not withdrawn before it (the audit log holds the withdrawal time), organisation states come from the
audit log too. The report for a given day is therefore the same whenever it is built.

The mail goes through the outbox like every other mail (kind "report", ``intake.outbox``); the daemon's tick
queues it once a day at ``report.send_at`` local time, recorded in ``jobs_done`` as ``report:<local date>``, so a
restart or a second tick the same day sends nothing.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from intake.automatic import read_notice
from intake.chart import DayCount, registrations_chart
from intake.config import Config
from intake.digest import HeldAddress, held_addresses
from intake.export import category_for, participants_csv, person_line
from intake.outbox import Outbox
from intake.store import Store, iso
from parsers.model import AUTOMATIC_INTENTS, FLAG_CODES, Intent
from replies.outgoing import AUTO_GENERATED, Outgoing, Part
from replies.render import longdate_filter

log = logging.getLogger("intake.report")

TEMPLATES = Path(__file__).parent / "report_templates"
WINDOW = timedelta(hours=24)

# States of an organisation that has not answered: "no_answer" is set by the deadline tick (intake.deadline).
SILENT_STATES = ("invited", "no_answer")
CHART_FILENAME = "registrations.png"
# The longest stretch the chart shows: a months-long invitation period would squash the last weeks.
CHART_MAX_DAYS = 120


# --- the figures -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Totals:
    invited: int            # organisations on the invitee list
    replied: int            # organisations that answered in any way (invited or not)
    registered: int         # organisations with at least one person registered
    declined: int
    replied_other: int      # answered, neither registered nor declined (questions, replies without names)
    no_answer: int          # invited and not a word from them
    uninvited_replied: int  # answered although not on the invitee list
    people: int             # representatives registered


@dataclass(frozen=True)
class CategoryFigures:
    name: str
    invited: int
    replied: int
    registered: int
    people: int


@dataclass(frozen=True)
class NewReply:
    received: datetime      # local time
    organization: str
    sender: str
    subject: str
    intent: str             # registration, correction, ... or "not processed yet"


@dataclass(frozen=True)
class OrganizationNotice:
    """An automatic answer from an organisation ("out of office until ...", "I have left, write to ..."): never
    answered, never flagged, but what it says is for a person (issue 12, item 5)."""

    received: datetime      # local time
    organization: str
    sender: str
    gist: str
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class NewPerson:
    organization: str
    line: str               # "Mr. John Smith, Director, Head of Delegation"
    registered: datetime    # local time


@dataclass(frozen=True)
class FlagFigures:
    reason: str
    description: str
    count: int
    oldest: datetime        # local time
    oldest_age: str         # "3 days", "5 hours"


@dataclass(frozen=True)
class SilentOrganization:
    name: str
    category: str
    emails: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    meeting_name: str
    short_name: str
    as_of: datetime                 # UTC
    local_time: datetime            # as_of in the meeting's time zone
    report_date: date               # local date
    since: datetime                 # local time, as_of - 24 h
    deadline: date
    days_left: int                  # negative once the deadline has passed
    totals: Totals
    categories: tuple[CategoryFigures, ...]
    new_replies: tuple[NewReply, ...]
    automatic_messages: int         # out-of-office replies and bounces in the last 24 h
    notices: tuple[OrganizationNotice, ...]  # the automatic answers among them that came from an organisation
    new_people: tuple[NewPerson, ...]
    flags: tuple[FlagFigures, ...]
    open_flags: int
    show_silent: bool               # the deadline is near (report.silent_list_days) or passed
    silent_list_days: int
    silent: tuple[SilentOrganization, ...]
    timeline: tuple[DayCount, ...] = field(default=())
    held: tuple[HeldAddress, ...] = field(default=())  # answers a loop limit held back (times local)

    @property
    def held_answers(self) -> int:
        return sum(h.count for h in self.held)

    @property
    def deadline_text(self) -> str:
        d = self.days_left
        if d > 1:
            return f"{d} days to the deadline ({self.deadline:%d %B %Y})"
        if d == 1:
            return f"1 day to the deadline ({self.deadline:%d %B %Y}): it is tomorrow"
        if d == 0:
            return f"the deadline is today ({self.deadline:%d %B %Y})"
        return f"the deadline passed {-d} day{'s' if d < -1 else ''} ago ({self.deadline:%d %B %Y})"

    @property
    def subject(self) -> str:
        return (f"{self.short_name} daily report {self.report_date.isoformat()}: "
                f"{self.totals.people} people from {self.totals.registered} organisations registered, "
                f"{self.deadline_text.split(' (')[0]}")


def age_text(delta: timedelta) -> str:
    """How long something has waited, in the unit a person would say ("3 days", "5 hours", "20 minutes")."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds >= 86400:
        n, unit = seconds // 86400, "day"
    elif seconds >= 3600:
        n, unit = seconds // 3600, "hour"
    else:
        n, unit = seconds // 60, "minute"
    return f"{n} {unit}{'' if n == 1 else 's'}"


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def report_moment(cfg: Config, day: date) -> datetime:
    """The moment the report of ``day`` is due: ``report.send_at`` local time that day, in UTC."""
    tz = cfg.meeting.zone
    return datetime.combine(day, cfg.report.send_at, tzinfo=tz).astimezone(UTC)


def build_report(store: Store, cfg: Config, now: datetime) -> Report:
    """The figures as of ``now`` (an aware datetime; naive means UTC).

    Example: ``r = build_report(store, cfg, datetime(2017, 8, 10, 5, 0, tzinfo=timezone.utc))``
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    tz = cfg.meeting.zone
    local = now.astimezone(tz)
    t = iso(now)
    since = now - WINDOW
    categories = list(cfg.report.categories)

    # Organisations and their state at that moment (latest state change before it, from the audit log;
    # when every change came later, the state they changed *from*; without any, the current state).
    orgs = store.query(
        "SELECT o.id, o.name, o.category, o.emails, o.invited, coalesce("
        " (SELECT json_extract(e.detail, '$.to') FROM events e WHERE e.entity = 'organizations'"
        "  AND e.entity_id = o.id AND e.action = 'organization.state' AND e.at <= :t ORDER BY e.at DESC, e.id DESC"
        "  LIMIT 1),"
        " (SELECT json_extract(e.detail, '$.from') FROM events e WHERE e.entity = 'organizations'"
        "  AND e.entity_id = o.id AND e.action = 'organization.state' AND e.at > :t ORDER BY e.at, e.id LIMIT 1),"
        " o.state) AS state,"
        # an out-of-office or a bounce filed under the organisation is not an answer from it
        " EXISTS (SELECT 1 FROM messages m WHERE m.organization_id = o.id AND m.status != 'duplicate'"
        "  AND coalesce(m.intent, '') NOT IN ('auto_reply', 'bounce')"
        "  AND coalesce(m.received_at, m.stored_at) <= :t) AS wrote"
        " FROM organizations o WHERE o.created_at <= :t AND o.state != 'merged'"  # counted in the kept one
        " ORDER BY o.name COLLATE NOCASE",
        {"t": t})

    reps = _representative_spans(store)
    registered_now = [r for r in reps if r["added"] <= now and (r["withdrawn"] is None or r["withdrawn"] > now)]
    people_by_org: dict[int, int] = {}
    for r in registered_now:
        people_by_org[r["organization_id"]] = people_by_org.get(r["organization_id"], 0) + 1

    def category_of(o: dict[str, Any]) -> str:
        return category_for(o["category"], categories)

    def answered(o: dict[str, Any]) -> bool:
        return bool(o["wrote"]) or o["state"] not in SILENT_STATES

    def registered(o: dict[str, Any]) -> bool:
        # people on the record make an organisation registered, whatever its state column says
        return people_by_org.get(o["id"], 0) > 0

    totals = Totals(
        invited=sum(1 for o in orgs if o["invited"]),
        replied=sum(1 for o in orgs if answered(o)),
        registered=sum(1 for o in orgs if registered(o)),
        declined=sum(1 for o in orgs if o["state"] == "declined" and not registered(o)),
        replied_other=sum(1 for o in orgs if answered(o) and not registered(o) and o["state"] != "declined"),
        no_answer=sum(1 for o in orgs if o["invited"] and not answered(o)),
        uninvited_replied=sum(1 for o in orgs if not o["invited"] and answered(o)),
        people=len(registered_now),
    )

    by_cat: dict[str, list[dict[str, Any]]] = {}
    for o in orgs:
        by_cat.setdefault(category_of(o), []).append(o)
    cat_names = [c for c in categories if c in by_cat] + sorted(c for c in by_cat if c not in categories)
    cat_figures = tuple(
        CategoryFigures(name=c, invited=sum(1 for o in by_cat[c] if o["invited"]),
                        replied=sum(1 for o in by_cat[c] if answered(o)),
                        registered=sum(1 for o in by_cat[c] if registered(o)),
                        people=sum(people_by_org.get(o["id"], 0) for o in by_cat[c]))
        for c in cat_names)

    # The last 24 hours
    msgs = store.query(
        "SELECT m.*, o.name AS org_name FROM messages m LEFT JOIN organizations o ON o.id = m.organization_id"
        " WHERE m.status != 'duplicate' AND coalesce(m.received_at, m.stored_at) > :since"
        " AND coalesce(m.received_at, m.stored_at) <= :t ORDER BY coalesce(m.received_at, m.stored_at), m.id",
        {"since": iso(since), "t": t})
    human = [m for m in msgs if m["intent"] not in AUTOMATIC_INTENTS]
    new_replies = tuple(
        NewReply(received=(_when(m["received_at"] or m["stored_at"]) or now).astimezone(tz),
                 organization=m["org_name"] or "(not matched)", sender=m["sender"] or "",
                 subject=m["subject"] or "", intent=m["intent"] or _pending(m["status"]))
        for m in human)
    # The people of the last 24 hours on the replies' clock: a person the daemon read from a reply counts when
    # the reply arrived (a backlog processed this morning belongs to the day it came), one a person added by
    # hand when it was added; the list of new replies above uses the same arrival times.
    ours = cfg.own_addresses
    notices = tuple(
        OrganizationNotice(received=(_when(m["received_at"] or m["stored_at"]) or now).astimezone(tz),
                           organization=m["org_name"], sender=m["sender"] or "", gist=n.gist, addresses=n.addresses)
        for m in msgs if m["intent"] == Intent.AUTO_REPLY and m["org_name"]
        for n in [read_notice(m["raw"], sender=m["sender"], ours=ours)])
    new_people = tuple(
        NewPerson(organization=r["org_name"], registered=r["arrived"].astimezone(tz),
                  line=person_line(r["honorific"], r["name"], r["function"], bool(r["head_of_delegation"])))
        for r in sorted((r for r in registered_now if since < r["arrived"] <= now),
                        key=lambda r: (r["arrived"], r["id"])))

    # Open flags at that moment, by reason, the reason with the oldest flag first; a flag's age runs from the
    # arrival of its message (as on the review page's queue), else from when it was raised.
    flag_rows = store.query(
        "SELECT f.reason, coalesce(m.received_at, m.stored_at, f.created_at) AS since FROM flags f"
        " LEFT JOIN messages m ON m.id = f.message_id WHERE f.created_at <= :t"
        " AND (f.status = 'open' OR (f.resolved_at IS NOT NULL AND f.resolved_at > :t))", {"t": t})
    grouped: dict[str, list[datetime]] = {}
    for f in flag_rows:
        grouped.setdefault(f["reason"], []).append(_when(f["since"]) or now)
    flags = tuple(sorted(
        (FlagFigures(reason=reason, description=FLAG_CODES.get(reason, ""), count=len(times),
                     oldest=min(times).astimezone(tz), oldest_age=age_text(now - min(times)))
         for reason, times in grouped.items()),
        key=lambda f: (f.oldest, f.reason)))

    days_left = (cfg.meeting.deadline - local.date()).days
    show_silent = days_left <= cfg.report.silent_list_days
    silent = tuple(
        SilentOrganization(name=o["name"], category=category_of(o), emails=tuple(json.loads(o["emails"] or "[]")))
        for o in sorted((o for o in orgs if o["invited"] and not answered(o)),
                        key=lambda o: (categories.index(category_of(o)) if category_of(o) in categories
                                       else len(categories), o["name"].casefold())))

    return Report(
        meeting_name=cfg.meeting.name, short_name=cfg.meeting.short_name, as_of=now, local_time=local,
        report_date=local.date(), since=since.astimezone(tz), deadline=cfg.meeting.deadline, days_left=days_left,
        totals=totals, categories=cat_figures, new_replies=new_replies,
        automatic_messages=len(msgs) - len(human), notices=notices, new_people=new_people, flags=flags,
        open_flags=sum(f.count for f in flags), show_silent=show_silent,
        silent_list_days=cfg.report.silent_list_days, silent=silent,
        timeline=tuple(_timeline(store, reps, tz, now)),
        held=tuple(replace(h, oldest=h.oldest.astimezone(tz), goes_at=max(h.goes_at, now).astimezone(tz))
                   for h in held_addresses(store, cfg, now)))


def _pending(status: str) -> str:
    return {"received": "not processed yet", "quarantined": "could not be read (kept for a person)"}.get(
        status, status)


def _representative_spans(store: Store) -> list[dict[str, Any]]:
    """Every representative with the moment they were added and, if so, withdrawn."""
    rows = store.query(
        "SELECT r.id, r.organization_id, r.honorific, r.name, r.function, r.head_of_delegation, r.status, r.created_at, r.updated_at,"
        " o.name AS org_name,"
        " (SELECT min(e.at) FROM events e WHERE e.entity = 'representatives' AND e.entity_id = r.id"
        "  AND e.action = 'representative.withdrawn') AS withdrawn_at,"
        # the arrival of the reply the daemon read the person from (a person added by hand: none)
        " (SELECT coalesce(m.received_at, m.stored_at) FROM events e JOIN messages m ON m.id = r.source_message_id"
        "  WHERE e.entity = 'representatives' AND e.entity_id = r.id AND e.action = 'representative.added'"
        "  AND e.actor = 'daemon' LIMIT 1) AS arrived_at"
        " FROM representatives r JOIN organizations o ON o.id = r.organization_id ORDER BY r.id")
    for r in rows:
        r["added"] = _when(r["created_at"])
        r["arrived"] = min(r["added"], _when(r["arrived_at"]) or r["added"])
        withdrawn = r["withdrawn_at"] or (r["updated_at"] if r["status"] == "withdrawn" else None)
        r["withdrawn"] = _when(withdrawn)
    return rows


def _timeline(store: Store, reps: list[dict[str, Any]], tz: ZoneInfo, now: datetime) -> list[DayCount]:
    """Cumulative people and organisations registered at the end of each local day up to ``now``."""
    today = now.astimezone(tz).date()
    first = store.scalar("SELECT min(created_at) FROM organizations")
    starts = [r["added"].astimezone(tz).date() for r in reps if r["added"] <= now]
    if first and _when(first) and _when(first) <= now:  # type: ignore[operator]
        starts.append(_when(first).astimezone(tz).date())  # type: ignore[union-attr]
    start = max(min(starts, default=today), today - timedelta(days=CHART_MAX_DAYS))
    out = []
    day = start
    while day <= today:
        end = min(now, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz))
        live = [r for r in reps if r["added"] < end and (r["withdrawn"] is None or r["withdrawn"] >= end)]
        if day == today:  # the report's own moment, inclusive, like the totals
            live = [r for r in reps if r["added"] <= now and (r["withdrawn"] is None or r["withdrawn"] > now)]
        out.append(DayCount(day, len(live), len({r["organization_id"] for r in live})))
        day += timedelta(days=1)
    return out


# --- rendering ---------------------------------------------------------------------------------------------

def _environment(templates_dir: Path | None) -> jinja2.Environment:
    paths = [str(p) for p in (templates_dir, TEMPLATES) if p]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(paths),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["hm"] = lambda dt: dt.strftime("%d %b %H:%M")
    env.filters["longdate"] = longdate_filter  # the replies' own: a report has no language, so English
    env.filters["pad"] = lambda v, n: str(v).ljust(n)
    env.filters["rpad"] = lambda v, n: str(v).rjust(n)
    return env


def render_report(report: Report, *, chart_src: str, templates_dir: Path | None = None) -> tuple[str, str]:
    """``(text, html)`` of the report. ``chart_src`` is the chart's URL in the HTML (``cid:...`` in mail).

    A folder named by ``replies.templates_dir`` that holds ``report.txt`` / ``report.html`` overrides the
    bundled ones, as for the reply templates.
    """
    env = _environment(templates_dir)
    ctx = {"r": report, "chart_src": chart_src, "flag_codes": FLAG_CODES}
    return env.get_template("report.txt").render(**ctx), env.get_template("report.html").render(**ctx)


def report_chart(report: Report) -> bytes:
    return registrations_chart(report.timeline, deadline=report.deadline, report_date=report.report_date,
                               title=f"{report.short_name}: registrations as of {report.report_date:%d %B %Y}")


@dataclass(frozen=True)
class RenderedReport:
    """Everything the mail carries, built once and sent to each recipient."""

    report: Report
    text: str
    html: str
    chart_png: bytes
    csv: str
    chart_cid: str

    @property
    def csv_filename(self) -> str:
        return f"participants-{self.report.report_date.isoformat()}.csv"


def render_everything(store: Store, cfg: Config, now: datetime) -> RenderedReport:
    report = build_report(store, cfg, now)
    domain = Outbox(store, cfg).domain  # the chart's Content-ID is in our mail domain
    cid = f"chart.{report.report_date.isoformat()}@{domain}"
    text, html = render_report(report, chart_src=f"cid:{cid}", templates_dir=cfg.replies.templates_dir)
    return RenderedReport(report=report, text=text, html=html, chart_png=report_chart(report),
                          csv=participants_csv(store, cfg.report.categories, as_of=report.as_of), chart_cid=cid)


def save_report_files(rendered: RenderedReport, folder: Path) -> dict[str, Path]:
    """Write report.html (pointing at the chart file), report.txt, the chart and the CSV into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    html = rendered.html.replace(f"cid:{rendered.chart_cid}", CHART_FILENAME)
    files = {"html": folder / "report.html", "text": folder / "report.txt", "chart": folder / CHART_FILENAME,
             "csv": folder / rendered.csv_filename}
    files["html"].write_text(html, encoding="utf-8")
    files["text"].write_text(rendered.text, encoding="utf-8")
    files["chart"].write_bytes(rendered.chart_png)
    files["csv"].write_text(rendered.csv, encoding="utf-8")
    return files


# --- the mail ----------------------------------------------------------------------------------------------

def report_mail(rendered: RenderedReport, *, to_addr: str, purpose: str) -> Outgoing:
    """multipart/mixed [ alternative [ text, related [ html, chart PNG ] ], participants CSV ].

    Marked ``Auto-Submitted: auto-generated``: a report is not an answer to anyone (RFC 3834).
    """
    return Outgoing(
        kind="report", to_addr=to_addr, subject=rendered.report.subject, text=rendered.text, html=rendered.html,
        purpose=purpose, language="en", auto_submitted=AUTO_GENERATED,
        inline=(Part(rendered.chart_png, "image", "png", CHART_FILENAME, cid=rendered.chart_cid),),
        attachments=(Part(rendered.csv.encode("utf-8"), "text", "csv", rendered.csv_filename),))


@dataclass(frozen=True)
class QueuedReport:
    report_date: date
    outbox_ids: tuple[int, ...]
    already_sent: bool      # jobs_done already had report:<date>; nothing was queued


def report_job_key(day: date) -> str:
    return f"report:{day.isoformat()}"


def queue_report(store: Store, cfg: Config, *, now: datetime, as_of: datetime | None = None,
                 force: bool = False) -> QueuedReport:
    """Queue the report of ``now``'s local date to every ``report.recipients`` address, once per day.

    The figures are as of ``as_of`` (default ``now``). ``jobs_done`` gets ``report:<local date>`` in the
    same transaction as the outbox rows, so two daemons, a restart or ``intake report --send`` after the tick
    never send it twice; ``force`` sends again anyway (with new dedupe keys).
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if not cfg.report.recipients:
        from intake.errors import ConfigError
        raise ConfigError("report.recipients", "is empty, so the report has nobody to go to",
                          'write e.g. recipients = ["secretary@example.org"] in the [report] section')
    moment = as_of or now
    day = moment.astimezone(cfg.meeting.zone).date()
    key = report_job_key(day)
    if store.job_done(key) and not force:
        return QueuedReport(day, (), True)
    # Rendered outside the write transaction: the chart takes a moment, and the write lock is shared.
    rendered = render_everything(store, cfg, moment)
    outbox = Outbox(store, cfg)
    ids: list[int] = []
    with store.transaction():
        first = store.mark_job_done(key, now=now, detail=", ".join(cfg.report.recipients))
        if not first and not force:
            return QueuedReport(day, (), True)  # another process got there while we rendered
        suffix = "" if first else f":again:{iso(now)}"
        for to_addr in cfg.report.recipients:
            out_id, _ = outbox.queue(report_mail(rendered, to_addr=to_addr, purpose=f"{key}:{to_addr.lower()}{suffix}"),
                                     now=now)
            if out_id is not None:
                ids.append(out_id)
    log.info("daily report %s queued for %s", day, ", ".join(cfg.report.recipients))
    return QueuedReport(day, tuple(ids), False)


def daily_report_tick(store: Store, cfg: Config, now: datetime) -> None:
    """Daemon tick: queue today's report once local time reaches ``report.send_at``.

    Does nothing without recipients, before the time, or when today's report is in ``jobs_done``. A failure
    is logged, never raised: the daemon goes on reading replies.
    """
    if not cfg.report.recipients:
        return
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    local = now.astimezone(cfg.meeting.zone)
    if local.time() < cfg.report.send_at or store.job_done(report_job_key(local.date())):
        return
    try:
        queue_report(store, cfg, now=now)
    except Exception:  # a broken report must not stop the intake of replies
        # Nothing was recorded in jobs_done, so the next check tries again (after a template is fixed, say).
        log.exception("the daily report of %s could not be built; replies are still processed, "
                      "the next check tries again", local.date())


__all__ = [
    "Report",
    "Totals",
    "age_text",
    "build_report",
    "daily_report_tick",
    "queue_report",
    "render_everything",
    "render_report",
    "report_mail",
    "report_moment",
    "save_report_files",
]
