"""Bounces: recognised from the headers; failed addresses by flufl.bounce first, our own reading as the fallback.

The truth (every bounce of the three corpora, its failed addresses read by hand) is the table in
benchmarks/bounces.py, which prints the side-by-side comparison; here every entry must be read right.
"""
from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path

import pytest

from parsers.dsn import by_library, failed_recipients, is_bounce, read_failed_recipients
from parsers.mime import parse_mime

REPO = Path(__file__).resolve().parents[1]


def _truth() -> dict[str, list[str]]:
    spec = importlib.util.spec_from_file_location("bounces_benchmark", REPO / "benchmarks" / "bounces.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return dict(module.TRUTH)


def _path(name: str, shared: Path) -> Path:
    corpus, rest = name.split("/", 1)
    return REPO / "tests" / "labelled" / rest if corpus == "labelled" else shared / corpus / rest


def _bounce(body: str, *, headers: str = "") -> bytes:
    return (f"From: Mail Delivery System <MAILER-DAEMON@mx.relay.example>\r\nTo: ccm@unog.ch\r\n"
            f"Subject: Undeliverable: 7MSP reminder\r\nReturn-Path: <>\r\n{headers}\r\n{body}").encode()


def test_every_known_bounce_is_recognised_and_its_failed_addresses_read(shared_dir: Path) -> None:
    checked = 0
    for name, truth in _truth().items():
        path = _path(name, shared_dir)
        if not path.exists():  # a held-out batch not merged yet
            continue
        raw = path.read_bytes()
        parts = parse_mime(raw, read=False)
        assert is_bounce(parts.headers, parts.content_type, parts.report_type), name
        assert sorted(failed_recipients(raw)) == sorted(truth), name
        checked += 1
    assert checked >= 14


@pytest.mark.parametrize(("name", "source"), [
    ("labelled/111.eml", "flufl.bounce"),  # RFC 3464 (Postfix): the library reads it
    ("labelled/193.eml", "flufl.bounce"),  # Exim in plain text: the library knows the format
    ("public-corpora/cpython_test_email/data/msg_25.txt", "Final-Recipient"),  # boundary broken: the library
    ("labelled/134.eml", "report text"),  # "Votre message n'a pas pu être remis à X": no format to detect
])
def test_the_library_first_then_our_readers(name: str, source: str, shared_dir: Path) -> None:
    assert read_failed_recipients(_path(name, shared_dir).read_bytes()).source == source


def test_a_report_the_library_cannot_read_is_read_by_ours_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    # No From: once its format detectors find nothing, flufl.bounce's Yale detector indexes into an empty
    # address list and raises IndexError.
    raw = (b"To: ccm@unog.ch\r\nSubject: Undeliverable: 7MSP reminder\r\nReturn-Path: <>\r\n\r\n"
           b"Your message could not be delivered to Gone@Closed.example (mailbox unknown).\r\n")
    with caplog.at_level(logging.INFO, logger="parsers.dsn"):
        assert by_library(raw) == []
        found = read_failed_recipients(raw)
    assert found.addresses == ("gone@closed.example",) and found.source == "report text"
    assert any("flufl.bounce could not read this report (IndexError" in r.getMessage() for r in caplog.records)


def test_the_report_text_gives_the_failed_address_not_the_returned_headers_nor_the_mail_system() -> None:
    raw = _bounce("Delivery has failed to these recipients or groups:\r\n\r\nold.desk@ngo.example\r\n"
                  "Contact postmaster@ngo.example or the help desk <MAILER-DAEMON@relay.example>.\r\n"
                  "Original message id: <abc.123@mail.unog.ch>\r\n\r\n"
                  "Original message headers:\r\n\r\nFrom: ccm@unog.ch\r\nTo: old.desk@ngo.example\r\n"
                  "Cc: someone.else@ngo.example\r\nSubject: 7MSP reminder\r\n")
    found = read_failed_recipients(raw)
    assert found.addresses == ("old.desk@ngo.example",) and found.source == "report text"


def test_several_failed_addresses_come_in_the_order_of_the_report() -> None:
    raw = _bounce("Your message could not be delivered to:\r\n  zed@b.example\r\n  Ann@A.example\r\n")
    assert failed_recipients(raw) == ["zed@b.example", "ann@a.example"]


def test_a_human_reply_is_not_a_bounce_whatever_addresses_it_quotes() -> None:
    # flufl.bounce's heuristics read "To: xxx@hotmail.com" lines of a quoted message as failures; recognition
    # is ours, from the headers, so this is a reply like any other.
    raw = (b"From: Anne Martin <anne@ngo.example>\r\nTo: ccm@unog.ch\r\nSubject: Re: 7MSP\r\n\r\nHello\r\n\r\n"
           b"----- Original Message -----\r\nFrom: ccm@unog.ch\r\nTo: anne@ngo.example, bob@hotmail.com\r\n"
           b"Subject: 7MSP\r\n")
    parts = parse_mime(raw, read=False)
    assert not is_bounce(parts.headers, parts.content_type, parts.report_type)


def test_only_the_opening_of_a_huge_bounce_is_read() -> None:
    # The report comes first; an address only after 256 kB (inside a returned 2 MB attachment) is not read,
    # and reading the whole costs what reading a small report costs.
    junk = ("A" * 76 + "\r\n") * 30_000
    raw = _bounce(f"Delivery has failed to these recipients:\r\n\r\nfirst@ngo.example\r\n\r\n{junk}"
                  "also.failed@ngo.example\r\n")
    assert len(raw) > 2_000_000
    assert failed_recipients(raw) == ["first@ngo.example"]
