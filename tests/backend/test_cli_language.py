"""The command line's language (backend/cli/language.py): --lang first, else the environment as
gettext reads it (the first of LANGUAGE, LC_ALL, LC_MESSAGES and LANG that is set decides), else
English; and click's own words answered from the catalogs in that language."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from backend.cli import language
from backend.i18n import use_locale


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "en"),
        ({"LANG": "es_ES.UTF-8"}, "es"),
        ({"LANG": "es_MX"}, "es"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),  # a language the service does not speak
        ({"LANGUAGE": "fr:es:en", "LANG": "en_GB.UTF-8"}, "es"),  # LANGUAGE first, its first we speak
        ({"LC_ALL": "C", "LANG": "es_ES.UTF-8"}, "en"),  # LC_ALL before LANG: C is English
        ({"LC_ALL": "", "LC_MESSAGES": "es_ES@euro", "LANG": "en_US.UTF-8"}, "es"),  # empty is unset
        ({"LC_MESSAGES": "POSIX", "LANG": "es_ES.UTF-8"}, "en"),
    ],
    ids=["nothing", "lang-es", "lang-es-mx", "lang-fr", "language-list", "lc-all-c", "lc-messages", "posix"],
)
def test_the_language_from_the_environment(environment, expected):
    assert language.from_environment(environment) == expected


def test_the_language_from_the_command_line():
    assert language.from_arguments(["--lang", "es", "vote", "1", "for"]) == "es"
    assert language.from_arguments(["--json", "--lang=es-ES", "claim"]) == "es"
    assert language.from_arguments(["--lang", "fr", "claim"]) is None  # not one we speak: click refuses it
    assert language.from_arguments(["claim", "--", "--lang", "es"]) is None
    assert language.from_arguments(["claim"]) is None


def test_click_says_its_own_words_in_the_language_of_the_moment():
    language.install_click_words()

    @click.command(cls=language.Command, help="Vote on a proposal.")
    @click.argument("proposal_id")
    def vote(proposal_id):  # pragma: no cover - never run: refused before
        pass

    with use_locale("es"):
        refused = CliRunner().invoke(vote, [])
        helped = CliRunner().invoke(vote, ["--help"])
        assert language.accept_language() == "es, en;q=0.5"
    assert "Error: Falta el argumento 'PROPOSAL_ID'." in refused.output
    assert "Vota una propuesta." in helped.output and "Muestra este mensaje y sale." in helped.output
    english = CliRunner().invoke(vote, ["--help"])
    assert "Vote on a proposal." in english.output and "Show this message and exit." in english.output
    assert language.accept_language() == "en"
