"""The command line's language: `--lang`, else the environment as gettext reads it (LANGUAGE, then
LC_ALL, LC_MESSAGES and LANG: the first one set; LANGUAGE may list several, "es:en"), else English.
The API is asked in the same language (Accept-Language), so its refusals come back in it.

Everything `commons` says goes through the catalogs (backend/i18n, words.po): its own messages and
help, and click's (usage, errors, "Show this message and exit."), which click asks of Python's
gettext module and which are answered here from the same catalogs. Help texts are translated when
shown, not when the commands are defined (Command, Group and Option below), since the language is
known only once the command line is read.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import click

from backend.i18n import DEFAULT, N_, SUPPORTED, current_locale, ngettext
from backend.i18n import gettext as _
from backend.i18n.catalogs import translations

ENVIRONMENT = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def supported(tag: str | None) -> str | None:
    """The language a locale name or tag means, if we speak it: "es_ES.UTF-8", "es-MX", "es" are Spanish."""
    if not tag:
        return None
    code = tag.split(".", 1)[0].split("@", 1)[0].replace("_", "-").lower().split("-", 1)[0]
    return code if code in SUPPORTED else None


def from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The language the environment asks for, as gettext reads it: the first variable set decides
    (C and POSIX are English); a language we do not speak is English too."""
    environ = os.environ if environ is None else environ
    for name in ENVIRONMENT:
        value = environ.get(name)
        if not value:
            continue
        for tag in value.split(":"):
            if tag in ("C", "POSIX") or tag.startswith(("C.", "POSIX.")):
                return DEFAULT
            found = supported(tag)
            if found:
                return found
        return DEFAULT
    return DEFAULT


def from_arguments(arguments: list[str]) -> str | None:
    """`--lang X` or `--lang=X` among the arguments before the command's own (a usage error or
    the help of a command is said in it too)."""
    for i, argument in enumerate(arguments):
        if argument == "--":
            break
        if argument.startswith("--lang="):
            return supported(argument.split("=", 1)[1])
        if argument == "--lang" and i + 1 < len(arguments):
            return supported(arguments[i + 1])
    return None


def accept_language() -> str:
    """What to ask the API for: the language of the moment first, English after."""
    code = current_locale()
    return code if code == DEFAULT else f"{code}, {DEFAULT};q=0.5"


# ---------------------------------------------------------------------- help translated when shown


@contextmanager
def _said(thing: Any, *names: str) -> Iterator[None]:
    """`thing`'s texts (catalog messages) translated while it is shown, then put back."""
    kept = {name: getattr(thing, name) for name in names}
    try:
        for name, text in kept.items():
            if text:
                setattr(thing, name, _(text))
        yield
    finally:
        for name, text in kept.items():
            setattr(thing, name, text)


class Option(click.Option):
    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        with _said(self, "help"):
            return super().get_help_record(ctx)


class Command(click.Command):
    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _said(self, "help"):
            super().format_help_text(ctx, formatter)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """An epilog is kept as written, line for line (click's \\b: no rewrapping)."""
        kept = self.epilog
        if kept:
            self.epilog = "\b\n" + _(kept)
        try:
            super().format_epilog(ctx, formatter)
        finally:
            self.epilog = kept

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        """click's --help, made once per command and kept: its help translated when shown too."""
        found = super().get_help_option(ctx)
        if found is not None and not isinstance(found, Option):
            found.__class__ = Option
            found.help = N_("Show this message and exit.")
        return found

    def get_short_help_str(self, limit: int = 45) -> str:
        with _said(self, "help", "short_help"):
            return super().get_short_help_str(limit)


class Group(Command, click.Group):
    command_class = Command
    group_class = type  # subgroups are Groups too


option = functools.partial(click.option, cls=Option)


# ---------------------------------------------------------------------- click's own words


def _click_gettext(message: str) -> str:
    return translations(current_locale()).gettext(message)


def _click_ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, n)


def install_click_words() -> None:
    """Have click say its own words from our catalogs: each of its modules took `gettext` and
    `ngettext` from Python's gettext module when imported, and looks them up by those names."""
    from click import core, decorators, exceptions, formatting, parser, termui, types

    for module in (core, decorators, exceptions, formatting, parser, termui, types):
        if hasattr(module, "_"):
            module._ = _click_gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _click_ngettext  # type: ignore[attr-defined]


# click's messages that a member of the command line meets, as click writes them (its {placeholders}
# are filled by click), for extraction into words.po.
CLICK_WORDS = (
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Show this message and exit."),
    N_("Show the version and exit."),
    N_("%(prog)s, version %(version)s"),
    N_("Error: {message}"),
    N_("Try '{command} {option}' for help."),
    N_("Missing command."),
    N_("No such command {name!r}."),
    N_("No such option: {name}"),
    N_("Missing option"),
    N_("Missing argument"),
    N_("Missing parameter"),
    N_("Missing {param_type}"),
    N_("Invalid value for {param_hint}: {message}"),
    N_("Invalid value: {message}"),
    N_("Option {name!r} does not take a value."),
    N_("{value!r} is not a valid {number_type}."),
    N_("{value!r} is not a valid boolean."),
    N_("{name} {filename!r} does not exist."),
    N_("{name} {filename!r} is a directory."),
    N_("{name} {filename!r} is a file."),
    N_("file"),
    N_("directory"),
    N_("path"),
    N_("default: {default}"),
    N_("env var: {var}"),
    N_("required"),
    N_("Aborted!"),
    N_("Repeat for confirmation"),
    N_("Error: The two entered values do not match."),
)


def _click_plurals(n: int) -> None:
    """Never called: marks click's plural messages for extraction (Babel reads ngettext's two forms)."""
    ngettext("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})", n)
    ngettext("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments.", n)
    ngettext("{value!r} is not {choice}.", "{value!r} is not one of {choices}.", n)
    ngettext("Did you mean {possibility}?", "(Possible options: {possibilities})", n)
