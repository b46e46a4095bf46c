"""Paging on the queue and the participants list: a real meeting has hundreds of rows (real SQLite file,
starlette's TestClient over HTTP). Walking the Next links shows every row once, in the queue's order."""
from __future__ import annotations

import dataclasses
import html
import re
import warnings
from pathlib import Path

import pytest
from browser import NOW, PASSWORD, SECRET, USER, Seeded, review_config, seed, seed_many

from intake.config import ReviewConfig
from intake.store import Store
from intake.web import create_app
from intake.web.queries import Page

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PAGE_SIZE = 25


@pytest.fixture
def many(tmp_path: Path) -> tuple[Seeded, list[int]]:
    cfg = review_config(tmp_path)
    cfg = dataclasses.replace(cfg, review=dataclasses.replace(cfg.review, page_size=PAGE_SIZE))
    seeded = seed(cfg)
    return seeded, seed_many(cfg, 130)


def client(seeded: Seeded) -> TestClient:
    c = TestClient(create_app(seeded.cfg, now=lambda: NOW, secret=SECRET), base_url="http://127.0.0.1")
    tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
    assert c.post("/login", data={"csrf_token": tok, "username": USER, "password": PASSWORD}).status_code == 200
    return c


def flag_links(page: str) -> list[str]:
    return re.findall(r'class="button open-flag" href="([^"]+)"', page)


def next_link(page: str) -> str | None:
    m = re.search(r'rel="next" href="([^"]+)"', page)
    return html.unescape(m.group(1)) if m else None


def prev_link(page: str) -> str | None:
    m = re.search(r'rel="prev" href="([^"]+)"', page)
    return html.unescape(m.group(1)) if m else None


def walk(c: TestClient, first: str) -> list[str]:
    """Every page from ``first`` by its Next link; returns the pages' HTML."""
    pages, url = [], first
    while url:
        r = c.get(url)
        assert r.status_code == 200, url
        pages.append(r.text)
        url = next_link(r.text)  # type: ignore[assignment]
        assert len(pages) < 50, "the Next links never end"
    return pages


def queue_order(seeded: Seeded) -> list[str]:
    """Where each open flag's Open button must lead, oldest message first (ties: flag id)."""
    store = Store(seeded.cfg.store.path)
    try:
        rows = store.query("SELECT f.id, f.message_id, coalesce(m.received_at, f.created_at) AS since FROM flags f"
                           " LEFT JOIN messages m ON m.id = f.message_id WHERE f.status = 'open' ORDER BY since, f.id")
    finally:
        store.close()
    return [f"/messages/{r['message_id']}" if r["message_id"] else f"/flags/{r['id']}" for r in rows]


def test_next_links_show_every_flag_once_oldest_first(many: tuple[Seeded, list[int]]) -> None:
    seeded, _ = many
    c = client(seeded)
    pages = walk(c, "/")
    expected = queue_order(seeded)
    assert len(expected) == 133  # 130 + the seed's 3
    assert len(pages) == 6 and [len(flag_links(p)) for p in pages] == [25, 25, 25, 25, 25, 8]
    assert [link for p in pages for link in flag_links(p)] == expected
    assert "Flags 1–25 of 133 · page 1 of 6" in pages[0] and "Flags 126–133 of 133 · page 6 of 6" in pages[5]
    assert prev_link(pages[0]) is None and next_link(pages[5]) is None
    assert prev_link(pages[2]) == "/?page=2" and prev_link(pages[1]) == "/"
    # the same page twice gives the same rows (a total order, not SQLite's whim)
    assert flag_links(c.get("/?page=3").text) == flag_links(pages[2])
    # the count in the heading is all of them, not one page
    assert re.search(r'<span class="count">133</span>', pages[0])


def test_links_keep_the_filter_and_the_search(many: tuple[Seeded, list[int]]) -> None:
    seeded, _ = many
    c = client(seeded)
    pages = walk(c, "/?reason=low_confidence&q=Ruritania")
    assert next_link(pages[0]) == "/?reason=low_confidence&q=Ruritania&page=2"
    shown = [link for p in pages for link in flag_links(p)]
    store = Store(seeded.cfg.store.path)
    try:
        wanted = [f"/messages/{r['message_id']}" for r in store.query(
            "SELECT f.message_id FROM flags f JOIN messages m ON m.id = f.message_id"
            " WHERE f.status = 'open' AND f.reason = 'low_confidence' ORDER BY m.received_at, f.id")]
    finally:
        store.close()
    assert len(wanted) == 86 and shown == wanted  # i % 3 != 0 for 86 of 130
    assert "Flags 76–86 of 86" in pages[-1]
    # a person's name finds their delegation's flag; one page, no pager
    one = c.get("/?q=Person017").text
    assert len(flag_links(one)) == 1 and 'rel="next"' not in one and "page 1 of" not in one


def test_a_page_past_the_end_or_garbage_shows_a_real_page(many: tuple[Seeded, list[int]]) -> None:
    seeded, _ = many
    c = client(seeded)
    last = c.get("/?page=999").text
    assert "page 6 of 6" in last and len(flag_links(last)) == 8
    assert "page 1 of 6" in c.get("/?page=abc").text and "page 1 of 6" in c.get("/?page=-3").text


def test_resolving_a_flag_moves_the_next_one_up(many: tuple[Seeded, list[int]]) -> None:
    """Oldest first stays stable while work is done: page 2 starts with what was the 27th row."""
    seeded, _ = many
    c = client(seeded)
    before = [link for p in walk(c, "/") for link in flag_links(p)]
    store = Store(seeded.cfg.store.path)
    try:
        first = int(before[0].rsplit("/", 1)[1])
        store.resolve_flag(store.scalar("SELECT id FROM flags WHERE message_id = ?", (first,)), by="user:bob",
                           resolution="dismissed", now=NOW)
    finally:
        store.close()
    assert flag_links(c.get("/?page=2").text)[0] == before[26]


def test_participants_are_paged_and_searchable(many: tuple[Seeded, list[int]]) -> None:
    seeded, _ = many
    c = client(seeded)
    pages = walk(c, "/participants")
    names = [n for p in pages for n in re.findall(r"<td>((?:Head|Member) Person\d{3}|Jon Smtih|Anna Keller)</td>", p)]
    assert len(names) == 262 and len(set(names)) == 262  # 130 x 2 + GICHD's two, each once
    assert len(pages) == 11 and "People 251–262 of 262" in pages[-1]
    # by organisation name, then head of delegation first
    assert names[:4] == ["Head Person000", "Member Person000", "Head Person001", "Member Person001"]
    found = walk(c, "/participants?q=Person1")
    assert next_link(found[0]) == "/participants?q=Person1&page=2"
    shown = [n for p in found for n in re.findall(r"<td>((?:Head|Member) Person\d{3})</td>", p)]
    assert len(shown) == 60 and all("Person1" in n for n in shown)  # 100-129, two each
    # the export still holds everyone, not one page
    assert web_csv_rows(c) == 263  # header + 262


def web_csv_rows(c: TestClient) -> int:
    return len([line for line in c.get("/participants.csv").text.splitlines() if line.strip()])


def test_page_arithmetic() -> None:
    assert Page.of(None, 25, 0).pages == 1 and Page.of("1", 25, 0).first_row == 0
    p = Page.of("2", 25, 51)
    assert (p.offset, p.first_row, p.last_row, p.pages) == (25, 26, 50, 3)
    assert Page.of("9", 25, 51).number == 3 and Page.of("0", 25, 51).number == 1


def test_page_size_is_checked_at_load(tmp_path: Path) -> None:
    from intake.config import load_config
    from intake.errors import ConfigError

    f = tmp_path / "c.toml"
    f.write_text("[review]\npage_size = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(f)
    assert exc.value.key == "review.page_size"
    assert ReviewConfig().page_size == 50


def org_links(page: str) -> list[str]:
    return re.findall(r'<td><a href="/organizations/(\d+)">', page)


def test_organisations_are_paged_in_name_order(many: tuple[Seeded, list[int]]) -> None:
    seeded, _ = many
    c = client(seeded)
    pages = walk(c, "/organizations")
    shown = [int(i) for p in pages for i in org_links(p)]
    store = Store(seeded.cfg.store.path)
    try:
        wanted = [r["id"] for r in store.query("SELECT id FROM organizations ORDER BY name COLLATE NOCASE, id")]
    finally:
        store.close()
    assert len(wanted) == 132 and shown == wanted  # 130 + GICHD and HI, each once, by name
    assert len(pages) == 6 and "Organisations 126–132 of 132 · page 6 of 6" in pages[-1]
    assert re.search(r'<span class="count">132</span>', pages[3])  # the heading counts them all
    assert "Messages without an organisation" in pages[0] and "Messages without an organisation" not in pages[1]
    # the counts are the organisation's, on every page
    row = re.search(r'href="/organizations/' + str(seeded.gichd_org) + r'">.*?</tr>', "".join(pages), re.DOTALL)
    assert row and re.search(r"<td>2</td><td>1</td><td>2</td>", row.group(0))  # people, messages, open flags


def test_organisation_links_keep_the_filter_and_the_search(many: tuple[Seeded, list[int]]) -> None:
    seeded, _ = many
    c = client(seeded)
    pages = walk(c, "/organizations?state=invited&q=Ruritania")
    assert next_link(pages[0]) == "/organizations?state=invited&q=Ruritania&page=2"
    assert prev_link(pages[2]) == "/organizations?state=invited&q=Ruritania&page=2"
    assert len([i for p in pages for i in org_links(p)]) == 130 and "of 130" in pages[0]
    assert 'value="Ruritania"' in pages[4] and '<option value="invited" selected>' in pages[4]


def test_search_pages_each_list_and_keeps_the_others(many: tuple[Seeded, list[int]]) -> None:
    seeded, _ = many
    c = client(seeded)
    first = c.get("/search?q=Ruritania").text
    assert "People (260)" in first and "Organisations (130)" in first and "Messages (130)" in first
    assert "Organisations 1–25 of 130" in first and "Messages 1–25 of 130" in first
    # walk the organisations: each once, the search and the other lists' pages kept, back to the list
    url: str | None = "/search?q=Ruritania&messages_page=3"
    seen: list[str] = []
    while url:
        page = c.get(url).text
        assert "Messages 51–75 of 130" in page  # the messages list stayed on its page 3
        orgs = re.search(r'<section id="orgs">(.*?)</section>', page, re.DOTALL)
        assert orgs
        seen += re.findall(r'href="/organizations/(\d+)"', orgs.group(1))
        nxt = re.search(r'rel="next" href="([^"]+)"', orgs.group(1))
        url = html.unescape(nxt.group(1)) if nxt else None
        if url:
            assert url.startswith("/search?q=Ruritania&messages_page=3&orgs_page=") and url.endswith("#orgs")
    assert len(seen) == 130 and len(set(seen)) == 130
    people = walk_section(c, "/search?q=Person", "people")
    assert len(people) == 260 and len(set(people)) == 260


def walk_section(c: TestClient, first: str, section: str) -> list[str]:
    """The links of one list of the search page, following that list's Next links."""
    out: list[str] = []
    url: str | None = first
    while url:
        part = re.search(rf'<section id="{section}">(.*?)</section>', c.get(url).text, re.DOTALL)
        assert part
        out += re.findall(r'<li><a href="([^"]+)"', part.group(1))
        nxt = re.search(r'rel="next" href="([^"]+)"', part.group(1))
        url = html.unescape(nxt.group(1)) if nxt else None
        assert len(out) < 10_000
    return out
