"""Importing the invitee list: all or nothing, clear errors, re-import updates by name with audit."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from intake.cli import main
from intake.errors import InviteeListError
from intake.invitees import import_invitees, preview_invitees, read_invitees
from intake.store import Store

NOW = datetime(2017, 2, 1, 9, 0, tzinfo=UTC)
GOOD = """name,acronym,category,emails,invitation,language
International Committee of the Red Cross,ICRC,international organisation,"ccm@icrc.org; disarmament@icrc.org",<inv-1@unog.ch>,fr
Human Rights Watch,HRW,NGO,arms@hrw.org,ODA/17-00063/HRW,
Cluster Munition Coalition,CMC,NGO,info@stopclustermunitions.org,,es

"""


def write(tmp_path: Path, text: str, name: str = "invitees.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_import_creates_invited_organisations(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    summary = import_invitees(store, write(tmp_path, GOOD), now=NOW)
    assert (summary.added, summary.updated, summary.unchanged) == (3, 0, 0)
    rows = store.query("SELECT name, acronym, category, emails, invitation_ref, invited, state, language "
                       "FROM organizations ORDER BY id")
    assert rows[0] == {"name": "International Committee of the Red Cross", "acronym": "ICRC",
                       "category": "international organisation",
                       "emails": json.dumps(["ccm@icrc.org", "disarmament@icrc.org"]),
                       "invitation_ref": "<inv-1@unog.ch>", "invited": 1, "state": "invited", "language": "fr"}
    assert rows[1]["invitation_ref"] == "ODA/17-00063/HRW" and rows[1]["language"] is None
    assert rows[2]["language"] == "es"
    assert store.scalar("SELECT count(*) FROM events WHERE action = 'organization.added' AND actor = 'cli'") == 3


def test_excel_semicolons_and_windows_1252(tmp_path: Path) -> None:
    text = "Nom;Sigle;Catégorie;E-mail;E-mail 2\nComité de coordination des ONG;CCONG;ONG;a@ccong.org;b@ccong.org\n"
    invitees = read_invitees(text.encode("cp1252"))
    assert [(i.name, i.acronym, i.category, i.emails) for i in invitees] == [
        ("Comité de coordination des ONG", "CCONG", "ONG", ("a@ccong.org", "b@ccong.org"))]


def test_bad_rows_are_all_listed_and_nothing_is_imported(tmp_path: Path) -> None:
    bad = GOOD + "No Address Org,NAO,NGO,,,\nBroken,BR,NGO,not-an-address,,\nhuman rights watch,,NGO,x@hrw.org,,\n" \
                 "Lingo,LI,NGO,a@lingo.org,,de\n,,,z@z.org,,\n"
    store = Store(tmp_path / "db.sqlite")
    with pytest.raises(InviteeListError) as err:
        import_invitees(store, write(tmp_path, bad), now=NOW)
    problems = err.value.problems
    assert [p.split(" ")[1].rstrip(":") for p in problems] == ["6", "7", "8", "9", "10"]
    assert "no e-mail address" in problems[0]
    assert "'not-an-address' is not an e-mail address" in problems[1]
    assert "the same organisation as row 3" in problems[2]
    assert "language 'de'" in problems[3]
    assert "the name is empty" in problems[4]
    assert "nothing imported" in str(err.value)
    assert store.scalar("SELECT count(*) FROM organizations") == 0


def test_missing_columns_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InviteeListError, match="no 'emails' column"):
        read_invitees(b"name,acronym\nICRC,ICRC\n")
    with pytest.raises(InviteeListError, match="the file is empty"):
        read_invitees(b"")
    store = Store(tmp_path / "db.sqlite")
    with pytest.raises(InviteeListError, match="cannot read the file"):
        import_invitees(store, tmp_path / "nope.csv", now=NOW)


def test_reimport_adds_addresses_and_adopts_organisations_learned_from_replies(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    learned = store.add_organization("Handicap International", now=NOW, emails=["hi@hi.org"])
    import_invitees(store, write(tmp_path, GOOD), now=NOW)
    again = GOOD.replace('"ccm@icrc.org; disarmament@icrc.org"', "new@icrc.org") + \
        "Handicap International,HI,NGO,contact@hi.org,,\n"
    summary = import_invitees(store, write(tmp_path, again, "v2.csv"), now=NOW)
    assert (summary.added, summary.updated, summary.unchanged) == (0, 2, 2)
    icrc = store.one("SELECT emails FROM organizations WHERE acronym = 'ICRC'")
    assert icrc and json.loads(icrc["emails"]) == ["ccm@icrc.org", "disarmament@icrc.org", "new@icrc.org"]
    hi = store.organization(learned)
    assert hi and hi["invited"] == 1 and hi["emails"] == ["hi@hi.org", "contact@hi.org"] and hi["acronym"] == "HI"
    [event] = [e for e in store.history("organizations", learned) if e["action"] == "organization.updated"]
    assert json.loads(event["detail"])["invited"] == {"from": 0, "to": 1}


def test_preview_changes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    summary = preview_invitees(store, write(tmp_path, GOOD), now=NOW)
    assert summary.added == 3
    assert store.scalar("SELECT count(*) FROM organizations") == 0
    assert store.scalar("SELECT count(*) FROM events") == 0


def test_cli_import_and_list(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "db.sqlite"}"\n', encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["invitees", "import", str(write(tmp_path, GOOD)), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "3 added, 0 updated, 0 unchanged" in result.output
    listing = runner.invoke(main, ["invitees", "list", "--config", str(config)])
    assert listing.exit_code == 0
    assert "Human Rights Watch" in listing.output and "invited" in listing.output
    bad = runner.invoke(main, ["invitees", "import", str(write(tmp_path, "name,emails\nX,nope\n", "bad.csv")),
                               "--config", str(config)])
    assert bad.exit_code == 1 and "row 2 (X): 'nope' is not an e-mail address" in bad.output


def test_the_documented_example_imports_and_the_demo_replies_match_it(tmp_path: Path) -> None:
    """intake/samples/demo/invitees.csv stays valid, and the bundled demo replies land on its organisations."""
    import dataclasses

    from conftest import REPO, deliver

    from intake.config import Config, MailboxConfig, StoreConfig, TransportConfig
    from intake.daemon import Daemon
    from intake.demo import sample_messages
    from intake.maildir import MaildirMailbox
    from replies.transport import OutboxFolderTransport

    cfg = dataclasses.replace(Config(), mailbox=MailboxConfig(kind="maildir", path=tmp_path / "inbox"),
                              transport=TransportConfig(kind="outbox", path=tmp_path / "outbox"),
                              store=StoreConfig(path=tmp_path / "db.sqlite"))
    store = Store(cfg.store.path)
    assert import_invitees(store, REPO / "intake" / "samples" / "demo" / "invitees.csv", now=NOW).added == 6
    # the invitation column holds each invitation's Message-ID, as documented (issue 12.11), not a letter reference
    refs = [r["invitation_ref"] for r in store.query("SELECT invitation_ref FROM organizations")]
    assert all(ref and "@" in ref and "/" not in ref for ref in refs) and len(set(refs)) == 6
    deliver(cfg.mailbox.path, *(p.read_bytes() for p in sample_messages()))
    summary = Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), OutboxFolderTransport(cfg.transport.path),
                     now=lambda: datetime(2017, 6, 16, 9, 0, tzinfo=UTC), progress=False).run_once()
    # `run` counts every flag the messages opened, the matcher's too: `status` says the same (issue 12.11)
    assert summary.flags == store.scalar("SELECT count(*) FROM flags WHERE status = 'open'") > 0
    states = {r["acronym"]: r["state"] for r in store.query("SELECT acronym, state FROM organizations")}
    assert states == {"LRI": "registered", "FDH": "registered", "ACM": "registered", "PRI": "invited",
                      "Y4D": "replied", "ICRC": "invited"}
    assert "unknown_organization" not in {f["reason"] for f in store.query("SELECT reason FROM flags")}
    languages = {r["to_addr"]: r["language"] for r in store.query("SELECT to_addr, language FROM outbox")}
    assert languages == {"events@landmine-relief.example.org": "en",
                         "secretariat@federation-deminage.example.fr": "fr", "oficina@accion-minas.example.es": "es"}
