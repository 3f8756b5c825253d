"""Each catalog's messages, extracted from its sources with Babel as `make translations` does (the
mapping files web.cfg and words.cfg, relative to backend/): for the catalogs' test, and for the
web app's script messages."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

HERE = Path(__file__).resolve().parent
BACKEND = HERE.parent
CATALOGS = ("web", "words")
# Babel's keywords, and lazy_gettext (the Makefile passes -k lazy_gettext).
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
COMMENT_TAGS = ("Translators:",)


def extract(catalog: str) -> Catalog:
    """The messages of `catalog` ("web" or "words"), with where each is used."""
    with (HERE / f"{catalog}.cfg").open() as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    found = Catalog(domain=catalog)
    for filename, lineno, message, comments, context in extract_from_dir(
        BACKEND, method_map, options_map, keywords=KEYWORDS, comment_tags=COMMENT_TAGS, strip_comment_tags=True
    ):
        found.add(message, None, [(f"backend/{filename}", lineno)], auto_comments=comments, context=context)
    return found
