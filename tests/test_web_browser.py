"""The review page in a real headless Chromium: a person fixes a flagged registration in a minute.

Screenshots go to test-output/ (fixture ``output_dir``): review-queue.png, review-message.png,
review-message-corrected.png, review-after-approve.png, review-organisations.png, review-participants.png,
review-queue-page2.png, review-participants-page2.png, review-users.png, review-organisation-merge.png,
review-organisation-merged.png, review-message-scan.png (a scanned note verbale beside its OCR text),
review-scan-page.png (that page alone).
"""
from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import (
    NOW,
    PASSWORD,
    USER,
    LiveServer,
    Seeded,
    chromium_page,
    review_config,
    seed,
    seed_many,
    seed_through_pipeline,
)

from intake.config import Config
from intake.store import Store


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    """The Store-API seed of tests/browser.py, in a fresh folder."""
    return seed(review_config(tmp_path))


@pytest.fixture
def live_server(seeded: Seeded) -> Iterator[LiveServer]:
    with LiveServer(seeded.cfg) as server:
        yield server


@pytest.fixture
def page() -> Iterator[Any]:
    with chromium_page() as p:
        yield p


def log_in(page: Any, server: LiveServer) -> None:
    page.goto(server.url + "/")
    assert "/login" in page.url
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + "/")


def outbox(cfg: Config) -> list[dict[str, Any]]:
    store = Store(cfg.store.path)
    try:
        return store.query("SELECT * FROM outbox ORDER BY id")
    finally:
        store.close()


def body_of(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_correct_a_name_mark_the_head_and_approve(tmp_path: Path, page: Any, output_dir: Path) -> None:
    piped = seed_through_pipeline(review_config(tmp_path))
    # A first registration from a webmail address is recorded but not answered automatically (docs/security.md)
    assert not [m for m in outbox(piped.cfg) if m["reply_to_message_id"] == piped.registration]

    with LiveServer(piped.cfg) as server:
        console: list[str] = []  # a CSP violation (an inline style or script slipped in) shows up here
        page.on("console", lambda m: console.append(m.text))
        log_in(page, server)
        rows = page.locator("table.queue tbody tr")
        reasons = [rows.nth(k).locator(".reason").inner_text() for k in range(rows.count())]
        # oldest first: the registration's reasons (the learned review risk may add "uncertain"), then the question
        assert reasons[0] == "webmail_sender" and reasons[-1] == "question", reasons
        assert set(reasons[1:-1]) <= {"uncertain"}, reasons
        page.screenshot(path=str(output_dir / "review-queue.png"), full_page=True)

        rows.nth(0).get_by_role("link", name="Open").click()
        page.wait_for_url(f"{server.url}/messages/{piped.registration}")
        assert "Mr. Petr Brown, Director of Policy" in page.locator("#own-text").inner_text()
        page.screenshot(path=str(output_dir / "review-message.png"), full_page=True)

        brown = page.locator(f"#person-{piped.brown}")
        assert brown.get_by_label("Name").input_value() == "Petr Brown"  # what the parser read
        brown.get_by_label("Name").fill("Peter Brown")
        brown.get_by_label("Head of delegation").check()
        brown.get_by_role("button", name="Save").click()
        page.wait_for_load_state()
        assert "Saved Peter Brown." in page.locator(".flash").first.inner_text()
        brown = page.locator(f"#person-{piped.brown}")
        assert brown.get_by_label("Name").input_value() == "Peter Brown"
        assert brown.get_by_label("Head of delegation").is_checked()
        assert not page.locator(f"#person-{piped.doe}").get_by_label("Head of delegation").is_checked()
        page.get_by_text("The acknowledgement that will be sent").click()  # unfold the preview
        assert "Mr. Peter Brown, Director of Policy (Head of Delegation)" in page.locator("#ack-preview").inner_text()
        page.screenshot(path=str(output_dir / "review-message-corrected.png"), full_page=True)

        page.get_by_label("Approve and send the acknowledgement").check()
        page.get_by_role("button", name=re.compile(r"^Resolve")).click()
        page.wait_for_url(server.url + "/")
        assert "approved; acknowledgement queued to peter.brown1970@gmail.com" in page.locator(".flash").inner_text()
        assert page.locator("table.queue tbody tr").count() == 1  # the resolved flag left the queue
        page.screenshot(path=str(output_dir / "review-after-approve.png"), full_page=True)

        mails = {m["id"]: m for m in outbox(piped.cfg)}
        acks = [m for m in mails.values() if m["kind"] == "acknowledgement" and m["status"] == "queued"]
        assert len(acks) == 1 and acks[0]["to_addr"] == "peter.brown1970@gmail.com"
        text = body_of(acks[0]["raw"])
        assert re.search(r"Mr\. Peter Brown, Director of Policy \(Head of Delegation\)", text), text
        assert "Ms. Jane Doe, Advocacy Officer" in text and "Petr" not in text
        assert "checked by the Secretariat before it was sent" in text and "sent automatically" not in text

        store = Store(piped.cfg.store.path)
        try:
            done = {(e["action"], e["actor"]) for e in store.query("SELECT * FROM events WHERE actor LIKE 'user:%'")}
            flag = store.one("SELECT * FROM flags WHERE message_id = ?", (piped.registration,))
        finally:
            store.close()
        assert {("representative.changed", "user:alice"), ("flag.resolved", "user:alice"),
                ("reply.approved", "user:alice")} <= done
        assert flag and flag["status"] == "resolved" and flag["resolved_by"] == "user:alice"

        # the history on the message's page names the person and the change
        page.goto(f"{server.url}/messages/{piped.registration}")
        history = page.locator("table.history").last.inner_text()
        assert "user:alice" in history and "representative.changed" in history and "Petr Brown" in history

        # the organisation's page and the participants list show the corrected delegation
        page.get_by_role("link", name="Organisations").click()
        row = page.locator("table.orgs tr", has_text="Mines Advisory Group")
        assert "registered" in row.inner_text()
        page.screenshot(path=str(output_dir / "review-organisations.png"), full_page=True)
        page.get_by_role("link", name="Participants").click()
        table = page.locator("table.participants").inner_text()
        assert "Peter Brown" in table and "Head of delegation" in table and "Petr" not in table
        page.screenshot(path=str(output_dir / "review-participants.png"), full_page=True)
        assert not [m for m in console if "Content Security Policy" in m], console


def test_script_in_a_reply_is_text_in_the_browser(live_server: LiveServer, seeded: Seeded, page: Any) -> None:
    log_in(page, live_server)
    page.goto(f"{live_server.url}/messages/{seeded.script_message}")
    assert page.title() != "pwned"
    assert "<script>document.title='pwned'</script>" in page.locator("#own-text").inner_text()
    assert page.locator("main script").count() == 0


def test_an_attachment_downloads_instead_of_opening(live_server: LiveServer, seeded: Seeded, page: Any,
                                                    tmp_path: Path) -> None:
    log_in(page, live_server)
    page.goto(f"{live_server.url}/messages/{seeded.gichd_message}")
    with page.expect_download() as info:
        page.get_by_role("link", name="note.html").click()
    download = info.value
    assert download.suggested_filename == "note.html"
    saved = tmp_path / "note.html"
    download.save_as(saved)
    assert b"<script>" in saved.read_bytes()  # the bytes are intact, and they were never rendered
    assert page.url.endswith(f"/messages/{seeded.gichd_message}")


def test_ask_for_clarification_with_edited_text(live_server: LiveServer, seeded: Seeded, page: Any) -> None:
    log_in(page, live_server)
    page.goto(f"{live_server.url}/messages/{seeded.script_message}")
    page.get_by_label("Ask the sender for clarification").check()
    page.get_by_label("Clarification text").fill("Dear Ms. Curie,\n\nWhich passport do the delegates hold?\n")
    page.get_by_role("button", name=re.compile(r"^Resolve")).click()
    page.wait_for_url(live_server.url + "/")
    assert "clarification asked to m.curie@hi.org" in page.locator(".flash").inner_text()
    mails = [m for m in outbox(seeded.cfg) if m["kind"] == "clarification"]
    assert len(mails) == 1 and "Which passport do the delegates hold?" in body_of(mails[0]["raw"])
    assert mails[0]["subject"].startswith("Re: Question")


def test_paging_through_a_long_queue_keeps_the_filter(tmp_path: Path, page: Any, output_dir: Path) -> None:
    import dataclasses

    cfg = review_config(tmp_path)
    cfg = dataclasses.replace(cfg, review=dataclasses.replace(cfg.review, page_size=20))
    seed(cfg)
    order = seed_many(cfg, 130)
    with LiveServer(cfg) as server:
        log_in(page, server)
        rows = page.locator("table.queue tbody tr")
        assert rows.count() == 20
        assert "Flags 1–20 of 133" in page.locator("nav.pager").first.inner_text()
        first_page = [rows.nth(i).locator(".detail").inner_text() for i in range(20)]
        page.locator("nav.pager").first.get_by_role("link", name="Next →").click()
        page.wait_for_url(server.url + "/?page=2")
        assert page.locator("table.queue tbody tr").count() == 20
        second = page.locator("table.queue tbody tr").first.locator(".detail").inner_text()
        assert second not in first_page
        page.screenshot(path=str(output_dir / "review-queue-page2.png"), full_page=True)
        # filter by reason, then page: the filter stays in the links
        page.get_by_label("Reason").select_option("webmail_sender")
        page.get_by_role("button", name="Filter").click()
        page.wait_for_load_state()
        assert "of 45" in page.locator("nav.pager").first.inner_text()  # 44 of the 130, and GICHD's
        page.locator("nav.pager").last.get_by_role("link", name="Next →").click()
        page.wait_for_url(server.url + "/?reason=webmail_sender&page=2")  # an empty search is left out
        assert page.get_by_label("Reason").input_value() == "webmail_sender"
        reasons = page.locator("table.queue .reason").all_inner_texts()
        assert len(reasons) == 20 and set(reasons) == {"webmail_sender"}
        page.locator("nav.pager").first.get_by_role("link", name="← Previous").click()
        page.wait_for_load_state()
        assert "Flags 1–20 of 45" in page.locator("nav.pager").first.inner_text()

        page.get_by_role("link", name="Participants").click()
        page.locator("nav.pager").first.get_by_role("link", name="Next →").click()
        page.wait_for_url(server.url + "/participants?page=2")
        assert "People 21–40 of 262" in page.locator("nav.pager").first.inner_text()
        page.screenshot(path=str(output_dir / "review-participants-page2.png"), full_page=True)
    assert len(order) == 130


def test_disable_a_colleague_and_change_ones_password(live_server: LiveServer, seeded: Seeded, page: Any,
                                                       output_dir: Path) -> None:
    """Bob is logged in from another machine (plain HTTP client); Alice disables him in Chromium."""
    import httpx

    from intake.web.auth import add_user

    store = Store(seeded.cfg.store.path)
    try:
        add_user(store, "bob", "bob's long password", now=NOW)
    finally:
        store.close()
    with httpx.Client(base_url=live_server.url) as bob:
        tok = re.search(r'name="csrf_token" value="([^"]+)"', bob.get("/login").text).group(1)  # type: ignore[union-attr]
        bob.post("/login", data={"csrf_token": tok, "username": "bob", "password": "bob's long password"})
        assert bob.get("/").status_code == 200

        log_in(page, live_server)
        page.get_by_role("link", name="Users").click()
        page.wait_for_url(live_server.url + "/users")
        assert "(you)" in page.locator("#user-alice").inner_text()
        assert page.locator("#user-alice").get_by_role("button").count() == 0
        page.get_by_role("button", name="Disable bob").click()
        page.wait_for_load_state()
        assert "bob is disabled" in page.locator(".flash").inner_text()
        assert "disabled" in page.locator("#user-bob").inner_text() and "user:alice" in page.locator("#user-bob").inner_text()
        assert bob.get("/").status_code == 303  # his session ended with the click

        page.get_by_label("Current password").fill(PASSWORD)
        page.get_by_label("New password (at least 10 characters)").fill("an entirely new passphrase")
        page.get_by_label("New password again").fill("an entirely new passphrase")
        page.get_by_role("button", name="Change my password").click()
        page.wait_for_load_state()
        assert "Your password is changed" in page.locator(".flash").inner_text()
        page.screenshot(path=str(output_dir / "review-users.png"), full_page=True)
        page.get_by_role("link", name="Queue").click()  # still logged in here
        page.wait_for_url(live_server.url + "/")
    store = Store(seeded.cfg.store.path)
    try:
        done = [(e["actor"], e["action"]) for e in store.query("SELECT actor, action FROM events WHERE action IN"
                                                              " ('user.disabled', 'user.password_changed') ORDER BY id")]
    finally:
        store.close()
    assert done == [("user:alice", "user.disabled"), ("user:alice", "user.password_changed")]


def test_merge_a_stray_organisation_from_the_organisation_page(live_server: LiveServer, seeded: Seeded, page: Any,
                                                               output_dir: Path) -> None:
    from test_web_merge import add_stray

    stray, _msg, _flag = add_stray(seeded)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/organizations/{seeded.gichd_org}")
    page.get_by_text("Merge another organisation into this one").click()
    page.get_by_label("Organisation to merge into this one").select_option(label="GICHD Geneva")
    page.get_by_label("Yes, it is the same organisation").check()
    page.screenshot(path=str(output_dir / "review-organisation-merge.png"), full_page=True)
    page.get_by_role("button", name=re.compile(r"^Merge into")).click()
    page.wait_for_url(f"{live_server.url}/organizations/{seeded.gichd_org}")
    assert "Merged GICHD Geneva into" in page.locator(".flash").first.inner_text()
    people = [page.locator(f"#person-{i}").get_by_label("Name").input_value()
              for i in (seeded.smith, seeded.keller)]
    assert people == ["Jon Smtih", "Anna Keller"]
    assert page.locator("div.person").count() == 4
    assert "j.doe@gichd-geneva.org" in page.locator("dl.facts").inner_text()
    page.screenshot(path=str(output_dir / "review-organisation-merged.png"), full_page=True)
    page.goto(f"{live_server.url}/organizations/{stray}")
    assert "Merged into" in page.locator(".flash.merged").inner_text()
    page.get_by_role("link", name="Geneva International Centre for Humanitarian Demining").first.click()
    page.wait_for_url(f"{live_server.url}/organizations/{seeded.gichd_org}")


def test_logging_out_in_chromium_kills_a_copied_cookie(live_server: LiveServer, page: Any) -> None:
    """Log in, copy the session cookie out of the browser, press Log out: the copy, put back into the browser
    or replayed by another client, opens nothing."""
    import httpx

    log_in(page, live_server)
    copied = [c for c in page.context.cookies() if c["name"] == "intake_session"]
    assert len(copied) == 1 and copied[0]["httpOnly"] and copied[0]["sameSite"] == "Strict"
    with httpx.Client(base_url=live_server.url, cookies={"intake_session": copied[0]["value"]}) as thief:
        assert thief.get("/participants").status_code == 200  # the copy works while the session lives
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(live_server.url + "/login")
        r = thief.get("/participants")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    page.context.add_cookies(copied)  # the old cookie, back in the browser
    page.goto(live_server.url + "/participants")
    assert page.url.startswith(live_server.url + "/login")
    assert page.get_by_role("button", name="Log in").is_visible()


def test_a_scanned_note_verbale_beside_the_text_the_ocr_read(tmp_path: Path, page: Any, output_dir: Path) -> None:
    """A one-line mail with a scanned note verbale (image-only PDF, French, turned and stamped) goes through the
    real pipeline (OCR included); the message page shows the page image beside the OCR'd text, and the people
    it yielded, flagged ``ocr`` for a person to compare."""
    import scans
    from browser import mail

    from intake.mailbox import IncomingMessage
    from intake.pipeline import process_message
    from intake.web.auth import add_user

    cfg = review_config(tmp_path)
    store = Store(cfg.store.path)
    add_user(store, USER, PASSWORD, now=NOW)
    org = store.add_organization("Senegal", category="States Parties", emails=["protocole@senegal-mission.example"],
                                 invited=True, now=NOW)
    note = scans.DELEGATIONS["fr"]
    raw = mail(sender="Protocole <protocole@senegal-mission.example>", subject="7MSP - note verbale",
               text="Madame, Monsieur,\n\nVeuillez trouver ci-joint notre note verbale.\n\nProtocole",
               sent=NOW, message_id="nv-sn@senegal-mission.example",
               attachments=[("note-verbale.pdf", "application/pdf", scans.as_pdf(scans.render_note(note, seed=21)))])
    out = process_message(store, cfg, "maildir:/inbox", IncomingMessage("1", raw, NOW), now=NOW)
    store.close()
    assert out.status == "processed" and out.intent == "registration"

    with LiveServer(cfg) as server:
        log_in(page, server)
        page.goto(f"{server.url}/messages/{out.message_row_id}")
        figure = page.locator("figure.scan").first
        figure.scroll_into_view_if_needed()
        image = figure.locator("img")
        assert image.evaluate("img => img.complete && img.naturalWidth") > 500  # the PNG was served and decoded
        assert "Mamadou Diallo" in figure.locator(".ocr-text").inner_text()
        assert "read by OCR (fra)" in figure.inner_text()
        assert "ocr" in [r.inner_text() for r in page.locator("ul.flags .reason").all()]
        names = [page.locator(f"#person-{r['id']}").get_by_label("Name").input_value()
                 for r in people_of(cfg, org)]
        assert names == [d.name for d in note.delegates]
        page.screenshot(path=str(output_dir / "review-message-scan.png"), full_page=True)
        figure.screenshot(path=str(output_dir / "review-scan-page.png"))


def people_of(cfg: Config, org: int) -> list[dict[str, Any]]:
    store = Store(cfg.store.path)
    try:
        return store.representatives(org)
    finally:
        store.close()
