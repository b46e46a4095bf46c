"""What the review page changes, called as the handlers call it (real SQLite file), plus its CLI and config."""
from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import NOW, PASSWORD, SECRET, USER, Seeded, review_config, seed
from click.testing import CliRunner

from intake.cli import main
from intake.config import Config, RepliesConfig, load_config
from intake.errors import ConfigError
from intake.store import Store
from intake.web import actions, create_app
from intake.web.auth import LoginRateLimit, UserError, add_user, verify_user

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    """The Store-API seed of tests/browser.py, in a fresh folder."""
    return seed(review_config(tmp_path))


@pytest.fixture
def store(seeded: Seeded) -> Iterator[Store]:
    s = Store(seeded.cfg.store.path)
    yield s
    s.close()


def people(store: Store, org_id: int) -> dict[str, dict]:
    return {r["name"]: r for r in store.representatives(org_id)}


def events_by(store: Store, actor: str) -> list[str]:
    return [e["action"] for e in store.query("SELECT action FROM events WHERE actor = ? ORDER BY id", (actor,))]


def test_marking_a_head_clears_the_other_head(seeded: Seeded, store: Store) -> None:
    form = {"name": "Anna Keller", "honorific": "Ms.", "function": "Programme Officer", "organization": "GICHD",
            "head_of_delegation": "1"}
    actions.update_person(store, seeded.keller, form, username="bob", now=NOW, message_id=seeded.gichd_message)
    actions.add_person(store, seeded.gichd_org, {"name": "Li Wei", "email": "Li.Wei@GICHD.org",
                                                 "head_of_delegation": "on"}, username="bob", now=NOW)
    p = people(store, seeded.gichd_org)
    assert p["Li Wei"]["head_of_delegation"] == 1 and p["Li Wei"]["email"] == "li.wei@gichd.org"
    assert p["Anna Keller"]["head_of_delegation"] == 0
    assert sum(r["head_of_delegation"] for r in p.values()) == 1
    assert events_by(store, "user:bob").count("representative.changed") >= 2
    assert "representative.added" in events_by(store, "user:bob")


@pytest.mark.parametrize("form, problem", [
    ({"name": "  "}, "needs a name"),
    ({"name": "X Y", "email": "not an address"}, "not valid"),
    ({"name": "x" * 301}, "too long"),
])
def test_bad_person_fields_are_refused_and_nothing_changes(seeded: Seeded, store: Store, form: dict,
                                                           problem: str) -> None:
    before = store.scalar("SELECT count(*) FROM events")
    with pytest.raises(actions.ActionRefused, match=problem):
        actions.add_person(store, seeded.gichd_org, form, username="bob", now=NOW)
    assert store.scalar("SELECT count(*) FROM events") == before


def test_withdrawing_everyone_sets_the_organisation_back_to_replied(seeded: Seeded, store: Store) -> None:
    for rep in (seeded.smith, seeded.keller):
        actions.withdraw_person(store, rep, username="bob", now=NOW, message_id=seeded.gichd_message)
    assert store.organization(seeded.gichd_org)["state"] == "replied"  # type: ignore[index]
    with pytest.raises(actions.ActionRefused, match="no longer on the list"):
        actions.withdraw_person(store, seeded.smith, username="bob", now=NOW)
    actions.add_person(store, seeded.gichd_org, {"name": "New Person"}, username="bob", now=NOW)
    assert store.organization(seeded.gichd_org)["state"] == "registered"  # type: ignore[index]
    # the withdrawn stay in the table, marked
    assert store.scalar("SELECT count(*) FROM representatives WHERE status = 'withdrawn'") == 2


def test_approve_without_reply_and_dismiss_send_nothing(seeded: Seeded, store: Store) -> None:
    mails = store.scalar("SELECT count(*) FROM outbox")
    done = actions.resolve_message(store, seeded.cfg, seeded.gichd_message, "approve_silent", username="bob",
                                   now=NOW, note="checked by phone")
    assert done == "approved without mail"
    flag = store.one("SELECT * FROM flags WHERE message_id = ?", (seeded.gichd_message,))
    assert flag["status"] == "resolved" and flag["resolved_by"] == "user:bob"  # type: ignore[index]
    assert flag["resolution"] == "approved without mail; note: checked by phone"  # type: ignore[index]
    actions.resolve_message(store, seeded.cfg, seeded.script_message, "dismiss", username="bob", now=NOW)
    assert store.scalar("SELECT count(*) FROM outbox") == mails
    with pytest.raises(actions.ActionRefused, match="no open flag"):
        actions.resolve_message(store, seeded.cfg, seeded.script_message, "dismiss", username="bob", now=NOW)


def test_approving_with_nobody_registered_is_refused(seeded: Seeded, store: Store) -> None:
    for rep in (seeded.smith, seeded.keller):
        actions.withdraw_person(store, rep, username="bob", now=NOW)
    with pytest.raises(actions.ActionRefused, match="add the people first"):
        actions.resolve_message(store, seeded.cfg, seeded.gichd_message, "approve_ack", username="bob", now=NOW)
    assert store.scalar("SELECT count(*) FROM flags WHERE status = 'open' AND message_id = ?",
                        (seeded.gichd_message,)) == 1


def test_no_reply_when_replies_are_switched_off(seeded: Seeded, store: Store) -> None:
    cfg = dataclasses.replace(seeded.cfg, replies=RepliesConfig(enabled=False))
    with pytest.raises(actions.ActionRefused, match="switched off"):
        actions.resolve_message(store, cfg, seeded.gichd_message, "approve_ack", username="bob", now=NOW)
    with pytest.raises(actions.ActionRefused, match="switched off"):
        actions.resolve_message(store, cfg, seeded.script_message, "clarify", text="Which passport?",
                                username="bob", now=NOW)
    assert store.scalar("SELECT count(*) FROM flags WHERE status = 'open'") == 3


def test_an_empty_or_unedited_clarification_is_refused(seeded: Seeded, store: Store) -> None:
    """Issue 12.9: the pre-filled text (greeting, thanks, blank lines, signature) never goes out untouched."""
    mails = store.scalar("SELECT count(*) FROM outbox")
    with pytest.raises(actions.ActionRefused, match="The clarification is empty"):
        actions.resolve_message(store, seeded.cfg, seeded.script_message, "clarify", text=" \r\n ",
                                username="bob", now=NOW)
    draft = actions.clarification_draft(store, seeded.cfg, seeded.script_message)
    untouched = [draft, draft.replace("\n", "\r\n"), draft.replace("\n\n\n\n", "\n"), "  " + draft.strip()]
    for text in untouched:
        with pytest.raises(actions.ActionRefused, match="nothing written in it"):
            actions.resolve_message(store, seeded.cfg, seeded.script_message, "clarify", text=text,
                                    username="bob", now=NOW)
    assert store.scalar("SELECT count(*) FROM outbox") == mails
    assert store.scalar("SELECT status FROM flags WHERE message_id = ?", (seeded.script_message,)) == "open"
    written = draft.replace("\n\n\n\n", "\n\nWhich passport will you travel on?\n\n")
    done = actions.resolve_message(store, seeded.cfg, seeded.script_message, "clarify", text=written,
                                   username="bob", now=NOW)
    assert done.startswith("clarification asked") and store.scalar("SELECT count(*) FROM outbox") == mails + 1


def test_clarification_draft_greets_the_sender_in_their_language(seeded: Seeded, store: Store) -> None:
    """Issue 12.2: a person is greeted by name only once the record says who they are (honorific and name)."""
    draft = actions.clarification_draft(store, seeded.cfg, seeded.script_message)
    assert draft.startswith("Dear Sir or Madam,\n\nThank you for your message.")
    assert seeded.cfg.meeting.secretariat_address in draft and "Yours faithfully," in draft
    hi = store.scalar("SELECT id FROM organizations WHERE acronym = 'HI'")
    actions.assign_organization(store, seeded.script_message, hi, username="bob", now=NOW)
    actions.add_person(store, hi, {"name": "Marie Curie", "honorific": "Mme"}, username="bob", now=NOW)
    assert actions.clarification_draft(store, seeded.cfg, seeded.script_message).startswith("Dear Ms. Marie Curie,")
    store._db.execute("UPDATE messages SET language = 'fr' WHERE id = ?", (seeded.script_message,))
    fr = actions.clarification_draft(store, seeded.cfg, seeded.script_message)
    assert fr.startswith("Madame,\n\nNous vous remercions de votre message.")
    assert "Nous vous prions d'agréer, Madame, l'expression" in fr
    assert seeded.cfg.meeting.texts("fr").secretariat_name in fr and seeded.cfg.meeting.secretariat_name not in fr
    store._db.execute("UPDATE messages SET language = 'es' WHERE id = ?", (seeded.script_message,))
    assert actions.clarification_draft(store, seeded.cfg, seeded.script_message).startswith(
        "Estimada Sra. Marie Curie:\n\nAgradecemos su mensaje.")


def test_a_flag_without_a_message_is_resolved_alone(seeded: Seeded, store: Store) -> None:
    with pytest.raises(actions.ActionRefused):
        actions.resolve_flag_alone(store, seeded.lone_flag, "approve_ack", username="bob", now=NOW)
    assert actions.resolve_flag_alone(store, seeded.lone_flag, "dismiss", username="bob", now=NOW) == "dismissed"
    assert store.scalar("SELECT resolved_by FROM flags WHERE id = ?", (seeded.lone_flag,)) == "user:bob"


def test_assigning_a_message_to_an_organisation_is_logged(seeded: Seeded, store: Store) -> None:
    hi = store.scalar("SELECT id FROM organizations WHERE acronym = 'HI'")
    actions.assign_organization(store, seeded.script_message, hi, username="bob", now=NOW)
    assert store.scalar("SELECT organization_id FROM messages WHERE id = ?", (seeded.script_message,)) == hi
    assert "message.organization" in events_by(store, "user:bob")


def web(seeded: Seeded) -> TestClient:
    c = TestClient(create_app(seeded.cfg, now=lambda: NOW, secret=SECRET), base_url="http://127.0.0.1")
    tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
    c.post("/login", data={"csrf_token": tok, "username": USER, "password": PASSWORD})
    return c


def test_queue_filters_by_reason_and_searches(seeded: Seeded) -> None:
    c = web(seeded)
    reasons = lambda html: re.findall(r'class="reason"[^>]*>(\w+)<', html)
    assert reasons(c.get("/").text) == ["webmail_sender", "question", "delivery_failed"]
    assert reasons(c.get("/?reason=question").text) == ["question"]
    assert reasons(c.get("/?q=Smtih").text) == ["webmail_sender", "delivery_failed"]  # by a person's name
    assert reasons(c.get("/?q=curie").text) == ["question"]  # by sender
    found = c.get("/search?q=keller").text
    assert "Anna Keller" in found and "People (1)" in found
    assert "Geneva International Centre" in c.get("/search?q=gichd").text
    assert "Anna Keller" in c.get("/participants?q=anna").text
    assert "Handicap International" in c.get("/organizations?state=invited").text
    assert "Handicap International" not in c.get("/organizations?state=registered").text


@pytest.mark.parametrize("fmt, magic", [("csv", b"organization,"), ("xlsx", b"PK"), ("docx", b"PK")])
def test_exports_download_and_are_logged(seeded: Seeded, fmt: str, magic: bytes) -> None:
    r = web(seeded).get(f"/participants.{fmt}")
    assert r.status_code == 200 and r.content.startswith(magic)
    assert r.headers["content-disposition"].startswith("attachment;")
    if fmt == "csv":
        assert "Jon Smtih" in r.text and "Anna Keller" in r.text
    s = Store(seeded.cfg.store.path)
    try:
        ev = s.one("SELECT * FROM events WHERE action = 'participants.exported'")
    finally:
        s.close()
    assert ev and ev["actor"] == "user:alice" and fmt in ev["detail"]


def test_rate_limit_forgets_after_the_window() -> None:
    from datetime import timedelta
    t = [NOW]
    rl = LoginRateLimit(2, timedelta(minutes=10), lambda: t[0])
    rl.failed("user:a", "ip:1")
    rl.failed("user:b", "ip:1")
    assert rl.blocked("ip:1") and rl.blocked("user:c", "ip:1") and not rl.blocked("user:a")
    t[0] = NOW + timedelta(minutes=10, seconds=1)
    assert not rl.blocked("ip:1")


def test_user_add_command(tmp_path: Path) -> None:
    cfg_file = tmp_path / "config.toml"
    cfg_file.write_text('[store]\npath = "db.sqlite"\n', encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(main, ["user", "add", "carol", "--password-stdin", "--config", str(cfg_file)],
                      input="a long enough password\n")
    assert r.exit_code == 0 and "Added carol" in r.output
    r = runner.invoke(main, ["user", "add", "carol", "--password-stdin", "--config", str(cfg_file)],
                      input="short\n")
    assert r.exit_code == 1 and "too short" in r.output
    store = Store(tmp_path / "db.sqlite")
    try:
        assert verify_user(store, "carol", "a long enough password")
        assert not verify_user(store, "carol", "short")
        with pytest.raises(UserError, match="not allowed"):
            add_user(store, "carol smith", "a long enough password", now=NOW)
    finally:
        store.close()
    assert "Serve the review page" in runner.invoke(main, ["serve", "--help"]).output


@pytest.mark.parametrize("text, key", [
    ("[review]\nport = 70000\n", "review.port"),
    ("[review]\nsession_hours = 0\n", "review.session_hours"),
    ("[review]\nlogin_max_attempts = 0\n", "review.login_max_attempts"),
    ("[review]\nsecure_cookie = \"yes\"\n", "review.secure_cookie"),
])
def test_review_config_mistakes_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    f = tmp_path / "c.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(f)
    assert exc.value.key == key and "Fix:" in str(exc.value)


def test_the_example_config_review_section_loads() -> None:
    cfg = load_config(Path(__file__).resolve().parent.parent / "config.example.toml")
    assert cfg.review == Config().review


def test_editing_an_organisation_and_remembering_a_sender(seeded: Seeded, store: Store) -> None:
    msg = actions.remember_sender(store, seeded.gichd_message, username="bob", now=NOW)
    assert "john.smith.gva@gmail.com is now an address" in msg
    assert "john.smith.gva@gmail.com" in store.organization(seeded.gichd_org)["emails"]  # type: ignore[index]
    assert "already" in actions.remember_sender(store, seeded.gichd_message, username="bob", now=NOW)
    form = {"name": "GICHD", "acronym": "GICHD", "category": "International organisations",
            "emails": "info@gichd.org\nJ.Doe@GICHD.org, info@gichd.org"}
    assert actions.update_organization(store, seeded.gichd_org, form, username="bob", now=NOW) == "Saved GICHD."
    org = store.organization(seeded.gichd_org)
    assert org and org["name"] == "GICHD" and org["emails"] == ["info@gichd.org", "j.doe@gichd.org"]
    with pytest.raises(actions.ActionRefused, match="already called"):
        actions.update_organization(store, seeded.gichd_org, {**form, "name": "Handicap International"},
                                    username="bob", now=NOW)
    with pytest.raises(actions.ActionRefused, match="not valid"):
        actions.update_organization(store, seeded.gichd_org, {**form, "emails": "nope"}, username="bob", now=NOW)
    assert events_by(store, "user:bob") == ["organization.address_added", "organization.changed"]


REVIEWED = {"en": ("checked by the Secretariat before it was sent", "sent automatically"),
            "fr": ("vérifié par le Secrétariat avant son envoi", "envoyé automatiquement"),
            "es": ("revisado por la Secretaría antes de su envío", "se ha enviado automáticamente")}


def mail_text(raw: bytes) -> str:
    import email
    import email.policy

    part = email.message_from_bytes(raw, policy=email.policy.default).get_body(("plain",))
    assert part is not None
    return str(part.get_content())


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_an_approved_acknowledgement_says_a_person_checked_it(seeded: Seeded, store: Store, language: str) -> None:
    reviewed, automatic = REVIEWED[language]
    store._db.execute("UPDATE messages SET language = ? WHERE id = ?", (language, seeded.gichd_message))
    # what the daemon queued before review says it went automatically (that one is English)
    early = store.one("SELECT raw FROM outbox WHERE id = ?", (seeded.early_ack,))
    assert early and "This acknowledgement was sent automatically." in mail_text(early["raw"])
    preview = actions.acknowledgement_text(store, seeded.cfg, seeded.gichd_message)
    assert reviewed in preview and automatic not in preview
    done = actions.resolve_message(store, seeded.cfg, seeded.gichd_message, "approve_ack", username="bob", now=NOW)
    assert done.startswith("approved; acknowledgement queued")
    ack = store.one("SELECT raw, language, status FROM outbox WHERE kind = 'acknowledgement' AND status = 'queued'")
    assert ack and ack["language"] == language
    text = mail_text(ack["raw"])
    assert reviewed in text and automatic not in text, text
    assert "Jon Smtih" in text and seeded.cfg.meeting.reference in text


def test_the_history_reads_as_text_and_the_page_tells_arrival_from_storage(seeded: Seeded, store: Store) -> None:
    """Issue 12.11: no Python ``None`` or quotes in the history; "Stored" is when it was stored, not arrival."""
    from datetime import timedelta

    from intake.web import queries

    store.add_event("daemon", "organization.updated", "messages", seeded.gichd_message, now=NOW,
                    message_id=seeded.gichd_message,
                    detail={"language": {"from": None, "to": "en"}, "emails": ["a@x.org", "b@x.org"], "held": False})
    texts = [e["detail_text"] for e in queries.message_history(store, seeded.gichd_message)]
    assert "language: (none) → “en”; emails: a@x.org, b@x.org; held: no" in texts
    assert not [t for t in texts if "None" in t or "'" in t]
    stored = NOW - timedelta(days=1)
    store._db.execute("UPDATE messages SET stored_at = ? WHERE id = ?", (stored.isoformat(), seeded.gichd_message))
    page = web(seeded).get(f"/messages/{seeded.gichd_message}").text
    received = store.scalar("SELECT received_at FROM messages WHERE id = ?", (seeded.gichd_message,))
    assert re.search(rf'id="received-at">{re.escape(received.replace("T", " "))}<', page)
    assert re.search(rf'id="stored-at">{re.escape(stored.isoformat().replace("T", " "))} ·', page)
