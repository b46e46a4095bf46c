"""Language of the sender's own text, limited to the languages we read (``parsers.lexicon.LANGUAGES``)."""
from __future__ import annotations

import logging
import time
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from parsers.lexicon import LANGUAGES

log = logging.getLogger("parsers.language")
_CODES = {Language.from_iso_code_639_1(IsoCode639_1.from_str(code)): code for code in LANGUAGES}


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    # Built once, with its n-gram models loaded now (about 1.5 s) rather than inside the first detection, so
    # that parsers.warmup.preload loads them ahead and a first message does not wait for them.
    log.info("loading the language detector (lingua: %s) ...", ", ".join(LANGUAGES))
    started = time.perf_counter()
    detector = LanguageDetectorBuilder.from_languages(*_CODES).with_preloaded_language_models().build()
    log.info("loaded the language detector in %.1f s", time.perf_counter() - started)
    return detector


def load_detector() -> None:
    """Load the detector and its models now (:func:`parsers.warmup.preload`) instead of on first use."""
    _detector()


def detect_language(text: str, default: str = "en") -> str:
    """ISO 639-1 code of ``text``: "en", "fr" or "es" (``default`` when there is nothing to judge).

    Only the opening of the text is used: bilingual messages are labelled by the language that comes first,
    and the opening is where the sender writes in their own words.

    >>> detect_language("Nous vous remercions de votre invitation.")
    'fr'
    """
    sample = text.strip()[:600]
    if len(sample) < 3:
        return default
    if len(sample.split()) < 6:
        # a few words ("A message part") are too little to tell; only a clear winner overrides the default
        values = _detector().compute_language_confidence_values(sample)
        if not values or values[0].value < 0.6:
            return default
        return _CODES.get(values[0].language, default)
    lang = _detector().detect_language_of(sample)
    return _CODES.get(lang, default) if lang else default
