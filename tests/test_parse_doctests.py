"""The examples in the parsers' docstrings run and give what they show."""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["parsers", "parsers.mime", "parsers.html", "parsers.names", "parsers.quotes", "parsers.language",
           "parsers.person_details", "parsers.meeting", "parsers.authresults", "parsers.dsn",
           "parsers.ocr"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
