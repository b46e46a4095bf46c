"""Load now what the parser would otherwise load on first use: the language detector and the spaCy pipelines.

The first message in a language waits for its pipeline (the French one takes about 8 s to load): a daemon calls
:func:`preload` at start so that no acknowledgement waits for a model. One-shot commands let the parser load
on first use; each load says what it loads on the ``parsers.*`` loggers (stderr in the CLI).
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from parsers.language import load_detector
from parsers.nlp import pipeline


@dataclass(frozen=True)
class Loaded:
    what: str  # e.g. "spaCy fr_core_news_sm 3.8.0 (fr)", "blank spaCy pipeline, rules only (es)"
    seconds: float


def preload(languages: Iterable[str]) -> list[Loaded]:
    """Load the language detector and the pipeline of each of ``languages``; what was loaded, in how long.

    Loading twice costs nothing: everything is cached for the life of the process.
    """
    loaded = []
    started = time.perf_counter()
    load_detector()
    loaded.append(Loaded("language detector (lingua: en, fr, es)", time.perf_counter() - started))
    for lang in dict.fromkeys(languages):
        started = time.perf_counter()
        nlp = pipeline(lang)
        meta = nlp.meta
        if meta.get("name") == "pipeline":  # spacy.blank
            what = f"blank spaCy pipeline, rules only ({lang})"
        else:
            what = f"spaCy {meta.get('lang')}_{meta.get('name')} {meta.get('version')} ({lang})"
        loaded.append(Loaded(what, time.perf_counter() - started))
    return loaded
