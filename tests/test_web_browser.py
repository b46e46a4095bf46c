"""The review page in a real headless Chromium: a person fixes a flagged registration in a minute.

Screenshots go to test-output/ (fixture ``output_dir``): review-queue.png, review-message.png,
review-message-corrected.png, review-after-approve.png.
"""
from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path
from typing import Any

from browser import (NOW, PASSWORD, USER, LiveServer, Seeded, live_server, page,  # noqa: F401 - fixtures
                     seeded)

from intake.store import Store


def log_in(page: Any, server: LiveServer) -> None:
    page.goto(server.url + "/")
    assert "/login" in page.url
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + "/")


def outbox(seeded: Seeded) -> list[dict[str, Any]]:
    store = Store(seeded.cfg.store.path)
    try:
        return store.query("SELECT * FROM outbox ORDER BY id")
    finally:
        store.close()


def body_of(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_correct_a_name_mark_the_head_and_approve(live_server: LiveServer, seeded: Seeded, page: Any,
                                                  output_dir: Path) -> None:
    log_in(page, live_server)
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 3
    assert rows.nth(0).locator(".reason").inner_text() == "webmail_sender"  # oldest first
    page.screenshot(path=str(output_dir / "review-queue.png"), full_page=True)

    rows.nth(0).get_by_role("link", name="Open").click()
    page.wait_for_url(f"{live_server.url}/messages/{seeded.gichd_message}")
    assert "Mr. Jon Smtih, Director" in page.locator("#own-text").inner_text()
    quoted = page.locator("details.quoted")
    assert not quoted.evaluate("d => d.open")  # the quoted invitation is folded
    assert page.locator("ul.attachments li").count() == 2
    page.screenshot(path=str(output_dir / "review-message.png"), full_page=True)

    smith = page.locator(f"#person-{seeded.smith}")
    smith.get_by_label("Name").fill("John Smith")
    smith.get_by_label("Head of delegation").check()
    smith.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "Saved John Smith." in page.locator(".flash").first.inner_text()
    smith = page.locator(f"#person-{seeded.smith}")
    assert smith.get_by_label("Name").input_value() == "John Smith"
    assert smith.get_by_label("Head of delegation").is_checked()
    assert "head" in (smith.get_attribute("class") or "")
    page.get_by_text("The acknowledgement that will be sent").click()  # unfold the preview
    assert "Mr. John Smith, Director (Head of Delegation)" in page.locator("#ack-preview").inner_text()
    page.screenshot(path=str(output_dir / "review-message-corrected.png"), full_page=True)

    page.get_by_label("Approve and send the acknowledgement").check()
    page.get_by_role("button", name=re.compile(r"^Resolve")).click()
    page.wait_for_url(live_server.url + "/")
    assert "approved; acknowledgement queued to john.smith.gva@gmail.com" in page.locator(".flash").inner_text()
    assert page.locator("table.queue tbody tr").count() == 2  # the resolved flag left the queue
    page.screenshot(path=str(output_dir / "review-after-approve.png"), full_page=True)

    mails = outbox(seeded)
    early = [m for m in mails if m["id"] == seeded.early_ack]
    assert early and early[0]["status"] == "superseded"  # the unsent ack with the misspelt name never goes
    acks = [m for m in mails if m["kind"] == "acknowledgement" and m["status"] == "queued"]
    assert len(acks) == 1 and acks[0]["to_addr"] == "john.smith.gva@gmail.com"
    text = body_of(acks[0]["raw"])
    assert "1. Mr. John Smith, Director (Head of Delegation)" in text
    assert "2. Ms. Anna Keller, Programme Officer" in text
    assert "Smtih" not in text

    store = Store(seeded.cfg.store.path)
    try:
        actors = {(e["action"], e["actor"]) for e in store.query("SELECT * FROM events WHERE actor LIKE 'user:%'")}
        flag = store.one("SELECT * FROM flags WHERE message_id = ?", (seeded.gichd_message,))
    finally:
        store.close()
    assert {("representative.changed", "user:alice"), ("flag.resolved", "user:alice"),
            ("mail.superseded", "user:alice")} <= actors
    assert flag and flag["status"] == "resolved" and flag["resolved_by"] == "user:alice"

    # the history on the message's page names the person
    page.goto(f"{live_server.url}/messages/{seeded.gichd_message}")
    history = page.locator("table.history").last.inner_text()
    assert "user:alice" in history and "representative.changed" in history and "Jon Smtih" in history


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
    mails = [m for m in outbox(seeded) if m["kind"] == "clarification"]
    assert len(mails) == 1 and "Which passport do the delegates hold?" in body_of(mails[0]["raw"])
    assert mails[0]["subject"].startswith("Re: Question")
