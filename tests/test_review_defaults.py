"""What the review page offers first, in a real headless Chromium (issue 12, items 8 and 9).

- A flagged message whose answer already went, with nothing changed on the record since, is approved without
  mail by default; sending again is an explicit choice next to the text already sent.
- A clarification left as the draft offered (or emptied) is refused with a message; nothing is sent.

Screenshots in test-output/: review-answer-already-sent.png, review-answer-sent-then-changed.png,
review-clarification-refused.png.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import NOW, LiveServer, Seeded, chromium_page, log_in, review_config, seed

from intake.store import Store, iso


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    return seed(review_config(tmp_path))


@pytest.fixture
def page() -> Iterator[Any]:
    with chromium_page() as p:
        yield p


def mark_sent(seeded: Seeded) -> None:
    """The daemon's acknowledgement of the GICHD registration went out before anyone looked at the flag."""
    store = Store(seeded.cfg.store.path)
    try:
        store._db.execute("UPDATE outbox SET status = 'sent', sent_at = ? WHERE id = ?", (iso(NOW), seeded.early_ack))
    finally:
        store.close()


def count(seeded: Seeded, sql: str, *args: Any) -> int:
    store = Store(seeded.cfg.store.path)
    try:
        return int(store.scalar(sql, args) or 0)
    finally:
        store.close()


def test_an_answer_already_sent_is_not_sent_again_by_default(seeded: Seeded, page: Any, output_dir: Path) -> None:
    mark_sent(seeded)
    with LiveServer(seeded.cfg) as server:
        log_in(page, server)
        page.goto(f"{server.url}/messages/{seeded.gichd_message}")
        silent = page.locator("input[name=choice][value=approve_silent]")
        again = page.locator("input[name=choice][value=approve_ack]")
        assert silent.is_checked() and not again.is_checked()
        answered = page.locator("#answered").inner_text()
        assert "already sent" in answered and "john.smith.gva@gmail.com" in answered
        assert "nothing on the record has changed since" in answered
        sent = page.locator("#sent-answer")
        assert sent.is_visible() and "Jon Smtih" in sent.inner_text()  # what went, unfolded
        assert "send the acknowledgement again (a second mail to john.smith.gva@gmail.com)" in \
            page.locator("label.choice", has=again).inner_text()
        page.locator("#resolve").scroll_into_view_if_needed()
        page.screenshot(path=str(output_dir / "review-answer-already-sent.png"), full_page=True)

        mails = count(seeded, "SELECT count(*) FROM outbox")
        page.get_by_role("button", name=re.compile(r"^Resolve")).click()  # the default, as a hurried person would
        page.wait_for_url(server.url + "/")
        assert f"Message {seeded.gichd_message}: approved without mail." in page.locator(".flash").inner_text()
        assert count(seeded, "SELECT count(*) FROM outbox") == mails  # no second mail
        assert count(seeded, "SELECT count(*) FROM flags WHERE message_id = ? AND status = 'open'",
                     seeded.gichd_message) == 0


def test_sending_again_is_the_default_once_the_record_changed(seeded: Seeded, page: Any, output_dir: Path) -> None:
    mark_sent(seeded)
    with LiveServer(seeded.cfg) as server:
        log_in(page, server)
        page.goto(f"{server.url}/messages/{seeded.gichd_message}")
        person = page.locator(f"#person-{seeded.smith}")
        person.get_by_label("Name").fill("Jon Smith")
        person.get_by_role("button", name="Save").click()
        page.wait_for_load_state()
        assert page.locator("input[name=choice][value=approve_ack]").is_checked()
        answered = page.locator("#answered").inner_text()
        assert "since then the record changed for Jon Smith" in answered
        assert not page.locator("#sent-answer").is_visible()  # folded: the new one is what matters now
        page.locator("#resolve").scroll_into_view_if_needed()
        page.screenshot(path=str(output_dir / "review-answer-sent-then-changed.png"), full_page=True)
        page.get_by_role("button", name=re.compile(r"^Resolve")).click()
        page.wait_for_url(server.url + "/")
        assert "acknowledgement queued to john.smith.gva@gmail.com" in page.locator(".flash").inner_text()


def test_an_unedited_clarification_is_refused_in_the_browser(seeded: Seeded, page: Any, output_dir: Path) -> None:
    with LiveServer(seeded.cfg) as server:
        log_in(page, server)
        page.goto(f"{server.url}/messages/{seeded.script_message}")
        draft = page.get_by_label("Clarification text").input_value()
        assert draft.startswith("Dear Sir or Madam,\n\nThank you for your message.")
        mails = count(seeded, "SELECT count(*) FROM outbox")
        page.locator("input[name=choice][value=clarify]").check()
        page.get_by_role("button", name=re.compile(r"^Resolve")).click()
        page.wait_for_load_state()
        flash = page.locator(".flash.error").inner_text()
        assert "nothing written in it" in flash and "nothing was sent" in flash
        page.screenshot(path=str(output_dir / "review-clarification-refused.png"), full_page=True)

        page.get_by_label("Clarification text").fill("")
        page.locator("input[name=choice][value=clarify]").check()
        page.get_by_role("button", name=re.compile(r"^Resolve")).click()
        page.wait_for_load_state()
        assert "The clarification is empty" in page.locator(".flash.error").inner_text()
        assert count(seeded, "SELECT count(*) FROM outbox") == mails
        assert count(seeded, "SELECT count(*) FROM flags WHERE message_id = ? AND status = 'open'",
                     seeded.script_message) == 1

        text = page.get_by_label("Clarification text")
        text.fill(draft.replace("Thank you for your message.\n\n", "Thank you for your message.\n\n"
                                "Swiss visas: the invitation letter is attached to our reply of today.\n"))
        page.locator("input[name=choice][value=clarify]").check()
        page.get_by_role("button", name=re.compile(r"^Resolve")).click()
        page.wait_for_url(server.url + "/")
        assert "clarification asked to m.curie@hi.org" in page.locator(".flash").inner_text()
        assert count(seeded, "SELECT count(*) FROM outbox") == mails + 1
