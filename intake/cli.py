"""The ``intake`` command: a thin click wrapper over the library. Each docstring is the help text."""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from intake.config import Config, load_config
from intake.errors import IntakeError

CONFIG_OPTION = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), envvar="INTAKE_CONFIG",
    help="TOML config file (default: the embedded default under ./intake-data; env INTAKE_CONFIG).")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _config(path: Path | None) -> Config:
    try:
        return load_config(path)
    except IntakeError as exc:
        raise click.ClickException(str(exc)) from None


class _IntakeGroup(click.Group):
    """Every command: an IntakeError (a config mistake, a damaged database...) is a one-line message and exit 1,
    never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except IntakeError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_IntakeGroup)
@click.version_option(package_name="un-intake")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def main(verbose: bool) -> None:
    """Intake bot for UN meeting registrations.

    \b
    Start with:  intake demo
    Then:        intake run --once --config config.toml
    """
    _setup_logging(verbose)


@main.command()
@click.option("--json", "as_json", is_flag=True, required=True, help="One JSON object per line (the contract).")
@click.option("--deadline", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Registration deadline (default: the config's, else the embedded meeting's).")
@CONFIG_OPTION
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def parse(as_json: bool, deadline: object, config_path: Path | None, files: tuple[Path, ...]) -> None:
    """Parse .eml files and print what was understood, one JSON object per line.

    Needs no config and no database. An unreadable file gives an object with an error flag.

    Example: intake parse --json replies/*.eml > parsed.jsonl
    """
    from parsers import parse_messages

    cfg = _config(config_path)
    profile = cfg.meeting_profile()  # the config's meeting, else the embedded default's
    if deadline is not None:
        profile = dataclasses.replace(profile, deadline=deadline.date())  # type: ignore[attr-defined]
    raws: list[bytes | None] = []
    errors: dict[int, str] = {}
    for i, f in enumerate(files):
        try:
            raws.append(f.read_bytes())
        except OSError as exc:
            raws.append(None)
            errors[i] = f"cannot read {f}: {exc.strerror or exc}"
    readable = [r for r in raws if r is not None]
    results: Iterator[Extraction | dict[str, object]]
    try:
        results = iter(parse_messages(readable, meeting=profile, limits=cfg.attachments))
    except Exception:  # noqa: BLE001 - fall back to one at a time so one bad file cannot sink the rest
        results = iter(_one_by_one(readable, profile, cfg.attachments))
    for i, f in enumerate(files):
        if i in errors:
            obj = _error_object(errors[i])
        else:
            ex = next(results)
            obj = ex if isinstance(ex, dict) else ex.to_json()  # a dict: the error object of a failed parse
        click.echo(json.dumps({"file": str(f), **obj}, ensure_ascii=False))


def _one_by_one(raws: list[bytes], profile: MeetingProfile,
                limits: AttachmentLimits) -> list[Extraction | dict[str, object]]:
    from parsers import parse_message

    out: list[Extraction | dict[str, object]] = []
    for raw in raws:
        try:
            out.append(parse_message(raw, meeting=profile, limits=limits))
        except Exception as exc:  # noqa: BLE001
            out.append(_error_object(f"parser error: {type(exc).__name__}: {exc}"))
    return out


def _error_object(detail: str) -> dict[str, object]:
    from parsers.model import Extraction

    return Extraction.parse_failed(detail).to_json()  # the same object as any parse, with its parse_error


@main.command()
@click.option("--once", is_flag=True, help="Process everything new, send what is queued, then exit.")
@CONFIG_OPTION
def run(once: bool, config_path: Path | None) -> None:
    """Watch the mailbox: parse each new reply, record it, acknowledge it.

    Without --once it keeps checking until SIGTERM or Ctrl-C (the current message is finished first).

    Example: intake run --once --config config.toml
    """
    cfg = _config(config_path)  # first: a config mistake is reported before anything heavy loads
    from intake.daemon import Daemon, MailboxLock
    from intake.schedule import default_ticks
    from intake.wiring import open_mailbox, open_store, open_transport

    try:
        store = open_store(cfg)
        mailbox = open_mailbox(cfg)
        lock = MailboxLock(cfg.store.path, mailbox.name)
        lock.acquire()
        transport = open_transport(cfg)
    except IntakeError as exc:
        raise click.ClickException(str(exc)) from None
    daemon = Daemon(cfg, store, mailbox, transport, ticks=default_ticks(cfg))
    try:
        if once:
            s = daemon.run_once()
            click.echo(f"read {s.read}, processed {s.processed}, duplicates {s.duplicates}, "
                       f"quarantined {s.quarantined}, representatives {s.representatives}, flags {s.flags}, "
                       f"replies queued {s.replies_queued}, sent {s.sent.sent}, send failures {s.sent.failed}")
        else:
            daemon.run_forever()
    except IntakeError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        mailbox.close()
        transport.close()
        lock.release()


@main.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "docx"]), default="csv", show_default=True,
              help="csv: to stdout or --output; xlsx: one row per person; docx: list-of-participants layout.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to a file (xlsx and docx default to ./participants.<format>).")
@CONFIG_OPTION
def export(fmt: str, output: Path | None, config_path: Path | None) -> None:
    """Export the list of participants (registered people only), in the order of report.categories.

    \b
    Example: intake export --format csv --config config.toml > participants.csv
             intake export --format docx -o list-of-participants.docx --config config.toml
    """
    from intake.export import meeting_dates, participants_csv, participants_docx, participants_xlsx
    from intake.wiring import open_store

    cfg = _config(config_path)
    store = open_store(cfg)
    categories = cfg.report.categories
    if fmt == "csv":
        text = participants_csv(store, categories)
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)
        return
    target = output or Path(f"participants.{fmt}")
    try:
        if fmt == "xlsx":
            n = participants_xlsx(store, target, categories, title=f"{cfg.meeting.short_name} list of participants")
        else:
            m = cfg.meeting
            n = participants_docx(store, target, categories, meeting_name=m.name,
                                  meeting_place_dates=f"{m.venue}, {meeting_dates(m.start, m.end)}")
    except OSError as exc:
        raise click.ClickException(f"cannot write {target}: {exc.strerror or exc}; "
                                   "choose another --output") from None
    click.echo(f"{n} participants written to {target}", err=True)


@main.command()
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to put the demo's Maildir, database and outbox (default: a new temporary folder).")
def demo(workdir: Path | None) -> None:
    """Run the whole flow on a bundled sample Maildir, with no configuration, and print a summary.

    Example: intake demo
    """
    from intake.demo import run_demo

    click.echo(run_demo(workdir))


@main.command()
@click.option("--max-age", type=float, default=None,
              help="Seconds since the last successful check after which the exit code is 1 "
                   "(default: 5 x mailbox.poll_seconds, at least 120).")
@CONFIG_OPTION
def status(max_age: float | None, config_path: Path | None) -> None:
    """Show the daemon's health: last check, waiting mail, open flags, last error.

    Exits 1 when the mailbox has not been checked successfully for too long, so a monitor can call it.

    Example: intake status --config config.toml || alert
    """
    from intake.status import daemon_status
    from intake.wiring import open_store

    cfg = _config(config_path)
    text, healthy = daemon_status(open_store(cfg), cfg, max_age=max_age)
    click.echo(text)
    sys.exit(0 if healthy else 1)


@main.command()
@click.option("--check", is_flag=True, help="Only say whether the shipped models are stale; exit 1 if one is.")
@click.option("--folds", type=int, default=5, show_default=True,
              help="Grouped cross-validation folds for the figures recorded in the model's card.")
def train(check: bool, folds: int) -> None:
    """Train the parser's learned models on every labelled reply (needs the train extra: scikit-learn).

    Reads ../shared/corpus and tests/labelled, cross-validates by batch, fits on everything and writes
    parsers/models/NAME.npz + NAME.json (weights without pickle; the card records the data, file by file, and
    the cross-validated figures). Deterministic: the same data and library versions give the same bytes.

    Example: intake train && git add parsers/models
    """
    from intake.labelled import load_labelled
    from intake.train import MODELS, TrainingError, stale
    from intake.train import train as train_model

    labelled = load_labelled()
    if check:
        out_of_date = {name: stale(name, labelled) for name in MODELS}
        for name, reasons in out_of_date.items():
            click.echo(f"{name}: " + ("up to date" if not reasons else
                                      f"stale ({len(reasons)}: {', '.join(reasons[:5])}...); run intake train"))
        sys.exit(1 if any(out_of_date.values()) else 0)
    try:
        for name in MODELS:
            train_model(name, labelled=labelled, k=folds, log=click.echo)
    except TrainingError as exc:
        raise click.ClickException(str(exc)) from exc


# --- invitees and deadline mail (issue 5) ------------------------------------------------------------------

@main.group()
def invitees() -> None:
    """The list of invited organisations (import a CSV, list states).

    Example: intake invitees import invitees.csv --config config.toml
    """


@invitees.command("import")
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change; change nothing.")
@CONFIG_OPTION
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
def invitees_import(dry_run: bool, config_path: Path | None, csv_file: Path) -> None:
    """Import invited organisations from a CSV file (name, acronym, category, emails, invitation, language).

    All or nothing: a bad row stops the import and every problem is listed. Importing again updates
    organisations by name (addresses are added, never removed).

    Example: intake invitees import invitees.csv --config config.toml
    """
    from intake.invitees import import_invitees, preview_invitees
    from intake.store import utcnow
    from intake.wiring import open_store

    cfg = _config(config_path)
    store = open_store(cfg)
    try:
        run = preview_invitees if dry_run else import_invitees
        summary = run(store, csv_file, now=utcnow())
    except IntakeError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    click.echo(f"{'would import' if dry_run else 'imported'} {csv_file}: {summary.added} added, "
               f"{summary.updated} updated, {summary.unchanged} unchanged")


@invitees.command("list")
@CONFIG_OPTION
def invitees_list(config_path: Path | None) -> None:
    """List organisations with their state (invited, replied, registered, declined, no_answer).

    Example: intake invitees list --config config.toml
    """
    from intake.wiring import open_store

    store = open_store(_config(config_path))
    rows = store.query(
        "SELECT o.name, o.acronym, o.state, o.invited, o.emails, "
        "(SELECT count(*) FROM representatives r WHERE r.organization_id = o.id AND r.status = 'registered')"
        " AS people FROM organizations o ORDER BY o.invited DESC, o.state, o.name")
    store.close()
    for r in rows:
        label = f"{r['name']} ({r['acronym']})" if r["acronym"] else r["name"]
        emails = ", ".join(json.loads(r["emails"] or "[]"))
        click.echo(f"{r['state']:<11} {r['people']:>3} people  {label}  <{emails}>"
                   f"{'' if r['invited'] else '  [not on the invitee list]'}")
    click.echo(f"{len(rows)} organisations")


@main.command()
@click.option("--at", "at", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]), default=None,
              help="Run as if it were this UTC date/time (default: now).")
@click.option("--dry-run", is_flag=True, help="List the reminders that would be queued; queue nothing.")
@CONFIG_OPTION
def notices(at: object, dry_run: bool, config_path: Path | None) -> None:
    """Queue the deadline mail due now: reminders to invitees that have not registered, "no answer" states.

    The daemon does this by itself after every check; this command is for a run by hand. Each reminder goes
    once per organisation and offset, however often it runs. Queued mail is sent by the next `intake run`.

    Example: intake notices --dry-run --at 2017-08-11 --config config.toml
    """
    from datetime import UTC

    from intake.deadline import local_today, mark_no_answer, no_answer_due, preview_reminders, send_reminders
    from intake.store import utcnow
    from intake.wiring import open_store
    from replies.render import long_date

    cfg = _config(config_path)
    now = at.replace(tzinfo=UTC) if at is not None else utcnow()  # type: ignore[attr-defined]
    store = open_store(cfg)
    today = local_today(cfg, now)
    if dry_run:
        summary, mails = preview_reminders(store, cfg, now)
        names = {r["id"]: r["name"] for r in store.query("SELECT id, name FROM organizations")}
        late = [r["name"] for r in no_answer_due(store, cfg, now)]
        store.close()
        click.echo(f"Dry run for {long_date(today)} ({cfg.meeting.timezone}): nothing is queued or changed.")
    else:
        summary, mails = send_reminders(store, cfg, now), []
        late = [r["name"] for r in no_answer_due(store, cfg, now)]
        mark_no_answer(store, cfg, now)
        store.close()
        names = {}
    for line in _notices_in_words(cfg, today, summary, dry_run=dry_run, late=late):
        click.echo(line)
    for m in mails:
        click.echo(f"  [{m['language']}] {m['to_addr']} ({names.get(m['organization_id'], '?')}): {m['subject']}")
    for line in summary.skipped:
        click.echo(f"  skipped: {line}")


def _notices_in_words(cfg: Config, today: date, summary: Any, *, dry_run: bool, late: list[str]) -> list[str]:
    """What ``intake notices`` did (or, with ``--dry-run``, would do), as sentences a person reads."""
    from intake.deadline import plural
    from replies.render import long_date

    deadline = long_date(cfg.meeting.deadline)
    lines = []
    if summary.offset is None:
        if today > cfg.meeting.deadline:
            lines.append(f"No reminder is due: the deadline ({deadline}) has passed.")
        else:
            days = sorted(cfg.replies.reminder_days, reverse=True)
            when = [long_date(cfg.meeting.deadline - timedelta(days=d)) for d in days]
            lines.append(f"No reminder is due on {long_date(today)}: reminders go "
                         f"{' and '.join(str(d) for d in days)} days before the deadline of {deadline}, on "
                         f"{' and '.join(when)}." if days else "No reminder is configured (replies.reminder_days).")
    else:
        what = f"The reminder {summary.offset} days before the deadline ({deadline})"
        if summary.organizations:
            went = plural(summary.organizations, "organisation") + ", " + plural(summary.mails, "mail")
            lines.append(f"{what} would go to {went}:" if dry_run else
                         f"{what} was queued for {went}; `intake run` sends them.")
        elif not summary.skipped:
            lines.append(f"{what} has already been queued for every organisation that has not registered: "
                         f"nothing {'would be' if dry_run else 'was'} queued.")
        else:
            lines.append(f"{what} {'would go' if dry_run else 'went'} to no organisation:")
    if late:
        lines.append(f"{plural(len(late), 'invited organisation')} that never answered "
                     f"{'would be' if dry_run else 'were'} marked no_answer: {', '.join(late)}.")
    return lines


# --- review web page (issue 6) ----------------------------------------------------------------------------

@main.command()
@click.option("--host", default=None, help="Address to listen on (default: review.host, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: review.port, 8025).")
@CONFIG_OPTION
def serve(host: str | None, port: int | None, config_path: Path | None) -> None:
    """Serve the review page where the secretariat handles flagged replies in a browser.

    Log in with a user made by `intake user add`. Cookies are signed with a secret made at the first start and
    kept beside the database (0600); the variable named by review.secret_env (default INTAKE_WEB_SECRET)
    overrides it and must hold at least 32 random bytes. Runs beside `intake run` on the same database.

    Example: intake serve --config config.toml
    """
    import uvicorn

    from intake.web import create_app
    from intake.web.app import server_options
    from intake.web.auth import user_count
    from intake.wiring import open_store

    cfg = _config(config_path)
    try:
        store = open_store(cfg)
        users = user_count(store)
        store.close()
        app = create_app(cfg)
    except IntakeError as exc:
        raise click.ClickException(str(exc)) from None
    if users == 0:
        click.echo("No user can log in yet: add one with `intake user add NAME` (works while serving).",
                   err=True)
    bind_host, bind_port = host or cfg.review.host, port or cfg.review.port
    if bind_host not in ("127.0.0.1", "::1", "localhost") and not cfg.review.secure_cookie:
        click.echo(f"Warning: listening on {bind_host} over plain HTTP: passwords and sessions cross the "
                   "network unencrypted. Serve on 127.0.0.1 behind a TLS reverse proxy and set "
                   "review.secure_cookie = true.", err=True)
    click.echo(f"Review page on http://{bind_host}:{bind_port}/ (Ctrl-C stops it)", err=True)
    # X-Forwarded-For only from review.trusted_proxies (see server_options)
    uvicorn.run(app, host=bind_host, port=bind_port, log_level="info", **server_options(cfg))


@main.group()
def user() -> None:
    """Users of the review page."""


@user.command("add")
@click.argument("username")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (scripts) instead of a prompt.")
@CONFIG_OPTION
def user_add(username: str, password_stdin: bool, config_path: Path | None) -> None:
    """Add a review-page user, or set a new password for an existing one (argon2 hash in the database).

    Example: intake user add alice --config config.toml
    """
    from intake.store import utcnow
    from intake.web.auth import add_user
    from intake.wiring import open_store

    cfg = _config(config_path)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        store = open_store(cfg)
        new = add_user(store, username, password, now=utcnow())
    except IntakeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{'Added' if new else 'Changed the password of'} {username}.")


def _set_disabled(username: str, disabled: bool, config_path: Path | None) -> None:
    from intake.store import utcnow
    from intake.web.auth import set_disabled
    from intake.wiring import open_store

    cfg = _config(config_path)
    try:
        store = open_store(cfg)
        click.echo(set_disabled(store, username, disabled, actor="cli", now=utcnow()))
    except IntakeError as exc:
        raise click.ClickException(str(exc)) from None


@user.command("disable")
@click.argument("username")
@CONFIG_OPTION
def user_disable(username: str, config_path: Path | None) -> None:
    """Disable a review-page user: they cannot log in, and their open sessions end at once (works while serving).

    Nothing is deleted; `intake user enable` undoes it.

    Example: intake user disable bob --config config.toml
    """
    _set_disabled(username, True, config_path)


@user.command("enable")
@click.argument("username")
@CONFIG_OPTION
def user_enable(username: str, config_path: Path | None) -> None:
    """Enable a disabled review-page user again (e.g. when every user on the page was disabled).

    Example: intake user enable bob --config config.toml
    """
    _set_disabled(username, False, config_path)


# --- report and exports (issue 7) ------------------------------------------------------------------------

if TYPE_CHECKING:
    from intake.store import Store
    from parsers.limits import AttachmentLimits
    from parsers.meeting import MeetingProfile
    from parsers.model import Extraction


@main.command()
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Report of this local date, with the figures as of report.send_at that day (default: now).")
@click.option("--send", "mode", flag_value="send", help="Mail it to report.recipients (once a day, like the daemon).")
@click.option("--stdout", "mode", flag_value="stdout", default=True, help="Print the text part (the default).")
@click.option("--force", is_flag=True, help="With --send: send again although today's report was sent.")
@click.option("--save", "save_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write report.html, report.txt, the chart PNG and the participants CSV into this folder.")
@CONFIG_OPTION
def report(day: object, mode: str, force: bool, save_dir: Path | None, config_path: Path | None) -> None:
    """The daily summary report: replies of the last 24 h, totals, open flags, days to the deadline.

    --send queues it through the outbox and delivers it now, with the same once-a-day key the daemon uses,
    so it is not sent twice the same day (unless --force).

    \b
    Example: intake report --config config.toml
             intake report --send --config config.toml
             intake report --date 2017-08-10 --save report-folder --config config.toml
    """

    from intake.report import queue_report, render_everything, report_moment, save_report_files
    from intake.store import utcnow
    from intake.wiring import open_store

    cfg = _config(config_path)
    now = utcnow()
    as_of = now
    if day is not None:
        wanted = day.date()  # type: ignore[attr-defined]
        if wanted != now.astimezone(cfg.meeting.zone).date():
            as_of = report_moment(cfg, wanted)
    store = open_store(cfg)
    if save_dir is not None or mode == "stdout":
        rendered = render_everything(store, cfg, as_of)
        if save_dir is not None:
            files = save_report_files(rendered, save_dir)
            click.echo(f"report written to {files['html']} (and {', '.join(f.name for f in files.values())})",
                       err=True)
        if mode == "stdout":
            click.echo(rendered.text, nl=False)
    if mode != "send":
        return
    try:
        queued = queue_report(store, cfg, now=now, as_of=as_of, force=force)
    except IntakeError as exc:
        raise click.ClickException(str(exc)) from None
    if queued.already_sent:
        click.echo(f"the report of {queued.report_date} was already sent today; use --force to send it again")
        return
    failures = _deliver_now(store, cfg, queued.outbox_ids)
    if failures:
        raise click.ClickException(f"report of {queued.report_date} queued but not delivered yet ({failures}); "
                                   "the daemon retries it, or check the [transport] section")
    click.echo(f"report of {queued.report_date} sent to {', '.join(cfg.report.recipients)}")


def _deliver_now(store: Store, cfg: Config, outbox_ids: tuple[int, ...]) -> str:
    """Deliver just these queued mails (not the whole outbox: the daemon owns the rest); '' when all went."""
    from intake.outbox import Outbox
    from intake.store import utcnow
    from intake.wiring import open_transport

    transport = open_transport(cfg)
    try:
        Outbox(store, cfg).deliver(transport, now=utcnow, only=outbox_ids)
    finally:
        transport.close()
    if not outbox_ids:
        return ""
    placeholders = ", ".join("?" for _ in outbox_ids)
    return "; ".join(f"{r['to_addr']}: {r['last_error'] or 'not tried yet'}" for r in store.query(
        f"SELECT to_addr, last_error FROM outbox WHERE id IN ({placeholders}) AND status IN ('queued', 'failed')"
        " ORDER BY id", outbox_ids))


def entry() -> None:
    """The ``intake`` program (pyproject's console script): everything it creates (the database and its
    -wal/-shm, lock files, secrets, outbox mail, exports) holds raw mail and personal data, so it is readable by
    the user running it only, whatever the shell's umask. (Not in ``main`` itself: tests call ``main`` in their
    own process, whose umask must stay theirs.)"""
    os.umask(0o077)
    main()


if __name__ == "__main__":  # pragma: no cover
    entry()
