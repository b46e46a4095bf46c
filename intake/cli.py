"""The ``intake`` command: a thin click wrapper over the library. Each docstring is the help text."""
from __future__ import annotations

import json
import logging
import sys
from datetime import date
from pathlib import Path

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


@click.group()
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
    dl: date = deadline.date() if deadline is not None else cfg.meeting.deadline  # type: ignore[attr-defined]
    raws: list[bytes | None] = []
    errors: dict[int, str] = {}
    for i, f in enumerate(files):
        try:
            raws.append(f.read_bytes())
        except OSError as exc:
            raws.append(None)
            errors[i] = f"cannot read {f}: {exc.strerror or exc}"
    readable = [r for r in raws if r is not None]
    try:
        results = iter(parse_messages(readable, deadline=dl, own_addresses=cfg.own_addresses))
    except Exception:  # noqa: BLE001 - fall back to one at a time so one bad file cannot sink the rest
        results = iter(_one_by_one(readable, dl, cfg))
    for i, f in enumerate(files):
        if i in errors:
            obj = _error_object(errors[i])
        else:
            ex = next(results)
            obj = ex if isinstance(ex, dict) else ex.to_json()
        click.echo(json.dumps({"file": str(f), **obj}, ensure_ascii=False))


def _one_by_one(raws: list[bytes], dl: date, cfg: Config) -> list[object]:
    from parsers import parse_message

    out: list[object] = []
    for raw in raws:
        try:
            out.append(parse_message(raw, deadline=dl, own_addresses=cfg.own_addresses))
        except Exception as exc:  # noqa: BLE001
            out.append(_error_object(f"parser error: {type(exc).__name__}: {exc}"))
    return out


def _error_object(detail: str) -> dict[str, object]:
    return {"intent": "other", "language": None, "organization": None, "representatives": [], "withdrawn": [],
            "should_reply": False, "needs_review": True, "flags": [{"code": "parse_error", "detail": detail}]}


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
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
@CONFIG_OPTION
def export(fmt: str, output: Path | None, config_path: Path | None) -> None:
    """Export the list of participants (registered people only).

    Example: intake export --format csv --config config.toml > participants.csv
    """
    from intake.export import participants_csv
    from intake.wiring import open_store

    cfg = _config(config_path)
    text = participants_csv(open_store(cfg))
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


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
                   "(default: 5 x mailbox.poll_seconds).")
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


# --- invitees and deadline mail (issue 5) ------------------------------------------------------------------

# --- review web page (issue 6) ----------------------------------------------------------------------------

# --- report and exports (issue 7) ------------------------------------------------------------------------


if __name__ == "__main__":  # pragma: no cover
    main()
