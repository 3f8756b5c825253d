"""A validation error (pydantic's) in words, in the request's language: pydantic's own message in
English, its template translated in the others, and a pattern named in words in every language.
Shared by the API's problems, the relay's rules and the web app's pages."""

from __future__ import annotations

from typing import Any

from backend.i18n import DEFAULT, N_, current_locale, ngettext
from backend.i18n import gettext as _
from backend.units import number

# Patterns named in words: "String should match pattern '^0x[0-9a-fA-F]{40}$'" says less than this.
_PATTERNS = {
    r"^0x[0-9a-fA-F]{40}$": N_("an address (0x and 40 hex digits)"),
    r"^0x[0-9a-fA-F]{64}$": N_("a 32-byte hash (0x and 64 hex digits)"),
    r"^0x[0-9a-fA-F]{130}$": N_("a 65-byte signature (0x and 130 hex digits)"),
    r"^0x[0-9a-fA-F]{130,4096}$": N_(
        "a 65-byte signature (0x and 130 hex digits; a contract wallet's may be longer, up to 2,048 bytes)"
    ),
    r"^0x([0-9a-fA-F]{2})*$": N_("hex bytes (0x and an even number of hex digits)"),
    r"^[0-9]{1,78}$": N_("a decimal uint256"),
}
# Pydantic's errors by type, as pydantic says them in English (its templates, its context's names),
# for the other languages: pydantic speaks English only. In English its own message is kept.
_SAYINGS = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "string_type": N_("Input should be a valid string"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "int_parsing_size": N_("Unable to parse input string as an integer, exceeded maximum size"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "finite_number": N_("Input should be a finite number"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "greater_than_equal": N_("Input should be greater than or equal to %(ge)s"),
    "greater_than": N_("Input should be greater than %(gt)s"),
    "less_than_equal": N_("Input should be less than or equal to %(le)s"),
    "less_than": N_("Input should be less than %(lt)s"),
    "multiple_of": N_("Input should be a multiple of %(multiple_of)s"),
    "literal_error": N_("Input should be %(expected)s"),
    "enum": N_("Input should be %(expected)s"),
    "dict_type": N_("Input should be a valid dictionary"),
    "model_type": N_("Input should be a valid dictionary or instance of %(class_name)s"),
    "model_attributes_type": N_("Input should be a valid dictionary or object to extract fields from"),
    "list_type": N_("Input should be a valid list"),
    "union_tag_invalid": N_(
        "Input tag '%(tag)s' found using %(discriminator)s does not match any of the expected tags: %(expected_tags)s"
    ),
    "union_tag_not_found": N_("Unable to extract tag using discriminator %(discriminator)s"),
    "json_invalid": N_("Invalid JSON: %(error)s"),
    "string_pattern_mismatch": N_("String should match pattern '%(pattern)s'"),
    "url_parsing": N_("Input should be a valid URL, %(error)s"),
    "url_scheme": N_("URL scheme should be %(expected_schemes)s"),
}


def _counted(kind: str, context: dict[str, Any]) -> str | None:
    """A length limit in characters (text) or items (lists), as pydantic says it."""
    if kind == "string_too_short":
        n = context.get("min_length")
        return (
            ngettext(
                "String should have at least %(num)s character", "String should have at least %(num)s characters", n
            )
            if isinstance(n, int)
            else None
        )
    if kind == "string_too_long":
        n = context.get("max_length")
        return (
            ngettext("String should have at most %(num)s character", "String should have at most %(num)s characters", n)
            if isinstance(n, int)
            else None
        )
    n, given = context.get("min_length" if kind == "too_short" else "max_length"), context.get("actual_length")
    if not isinstance(n, int):
        return None
    if kind == "too_short":
        said = ngettext(
            "The list should have at least %(num)s item after validation, not %(given)s",
            "The list should have at least %(num)s items after validation, not %(given)s",
            n,
            given=given,
        )
    else:
        said = ngettext(
            "The list should have at most %(num)s item after validation, not %(given)s",
            "The list should have at most %(num)s items after validation, not %(given)s",
            n,
            given=given,
        )
    return said


def validation_message(error: Any) -> str:
    """A validation error in words, in the request's language: pydantic's own message in English,
    its template translated in the others; a pattern named in words in every language."""
    kind, context = error["type"], error.get("ctx") or {}
    pattern = context.get("pattern")
    if kind == "string_pattern_mismatch" and pattern in _PATTERNS:
        shown = repr(error["input"])
        if len(shown) > 100:
            shown = f"{shown[:90]}...' " + _("(%(num)s characters)", num=number(len(error["input"])))
        return _("%(input)s is not %(expected)s", input=shown, expected=_(_PATTERNS[pattern]))
    if current_locale() == DEFAULT:
        return error["msg"]
    if kind in ("value_error", "assertion_error") and "error" in context:
        return str(context["error"])  # the validator's own sentence, said in the request's language
    if kind in ("string_too_short", "string_too_long", "too_short", "too_long"):
        said = _counted(kind, context)
        if said is not None:
            return said
    if kind in _SAYINGS:
        try:
            return _(_SAYINGS[kind], **context) if context else _(_SAYINGS[kind])
        except (KeyError, TypeError, ValueError):
            pass
    return error["msg"]
