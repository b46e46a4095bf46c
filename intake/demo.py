"""``intake demo``: the whole flow on a bundled sample Maildir, with no configuration."""
from __future__ import annotations

import dataclasses
import mailbox
import tempfile
from pathlib import Path

from intake.config import Config, MailboxConfig, StoreConfig, TransportConfig
from intake.daemon import Daemon
from intake.maildir import MaildirMailbox
from intake.store import Store
from replies.transport import OutboxFolderTransport

SAMPLES = Path(__file__).parent / "samples" / "demo"


def sample_messages() -> list[Path]:
    return sorted(SAMPLES.glob("*.eml"))


def deliver(maildir: Path, files: list[Path]) -> None:
    md = mailbox.Maildir(str(maildir), create=True)
    for f in files:
        md.add(mailbox.MaildirMessage(f.read_bytes()))


def run_demo(workdir: Path | None = None) -> str:
    work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="intake-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    cfg = dataclasses.replace(
        Config(),
        mailbox=MailboxConfig(kind="maildir", path=work / "inbox"),
        transport=TransportConfig(kind="outbox", path=work / "outbox"),
        store=StoreConfig(path=work / "intake.sqlite"),
    )
    fresh = not (work / "inbox").exists()
    if fresh:
        deliver(work / "inbox", sample_messages())
    store = Store(cfg.store.path)
    invited = 0
    if fresh:  # the invitation went to these organisations; replies are matched against them
        from intake.invitees import import_invitees
        from intake.store import utcnow
        invited = import_invitees(store, SAMPLES / "invitees.csv", now=utcnow(), actor="demo").added
    box = MaildirMailbox(cfg.mailbox.path)
    transport = OutboxFolderTransport(cfg.transport.path)
    s = Daemon(cfg, store, box, transport, progress=False).run_once()

    lines = [
        f"Demo of the intake bot on {len(sample_messages())} sample replies (work folder: {work})",
        f"  organisations invited:      {invited or store.scalar('SELECT count(*) FROM organizations WHERE invited = 1')}",
        (f"  messages read:              {s.read} (processed {s.processed}, quarantined {s.quarantined},"
         f" duplicates {s.duplicates})"),
        f"  representatives stored:     {store.scalar('SELECT count(*) FROM representatives')}",
        f"  acknowledgements written:   {s.sent.sent} (in {cfg.transport.path})",
        f"  flags for a person:         {store.scalar(chr(32).join(['SELECT count(*) FROM flags', 'WHERE status = ?']), ('open',))}",
        "",
        "By message:",
    ]
    for row in store.query("SELECT id, subject, intent, language, status FROM messages ORDER BY id"):
        reps = store.query("SELECT honorific, name, function FROM representatives WHERE source_message_id = ?",
                           (row["id"],))
        flags = [f["reason"] for f in store.query("SELECT reason FROM flags WHERE message_id = ?", (row["id"],))]
        lines.append(f"  [{row['intent'] or row['status']}/{row['language'] or '-'}] {row['subject']}")
        for r in reps:
            lines.append(f"      {(r['honorific'] or '') + ' ' if r['honorific'] else ''}{r['name']}"
                         f"{', ' + r['function'] if r['function'] else ''}")
        if flags:
            lines.append(f"      flags: {', '.join(flags)}")
    lines += ["", f"Look at the acknowledgements: ls {cfg.transport.path}",
              f"Look at the record:          sqlite3 {cfg.store.path} 'select * from representatives'"]
    store.close()
    return "\n".join(lines)
