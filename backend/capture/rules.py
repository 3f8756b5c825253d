"""The capture rules: how work done elsewhere becomes drafts, as the community governs them.

A JSON document, typed here and versioned (`version`), that governance sets on chain with
IndicatorRegistry.setCaptureRules (the proposal action `set_capture_rules`); the index keeps the
latest per community, and the service applies what the index holds. Each rule names where the work
happens and which indicator a draft claims:

    {"version": 1,
     "rules": [
       {"when": "github.pull_request.merged", "repository": "example/site", "labels": ["mentoring"],
        "indicator_id": 1},
       {"when": "gitlab.merge_request.merged", "project": "group/app", "labels": [], "indicator_id": 2},
       {"when": "discourse.topic.created", "forum": "https://forum.example.org", "category_id": 5,
        "tags": [], "indicator_id": 3},
       {"when": "standard", "type": "event.organised", "indicator_id": 3}],
     "endorse": {"command": "/endorse"}}

- a merged pull request (or merge request) in that repository (project), with any of the labels (or
  any, when none is named) -> a draft claim of the indicator for its author;
- a Discourse topic created in that category of that forum (with any of the tags) -> the same for
  its author;
- a Standard Webhooks delivery of that `type` (anything else: an event page, drupal.org through a
  bridge), whose data names the work's link and its author's site and handle -> the same;
- `endorse`: a comment that starts with the command, by a member, on an item a rule captured -> a
  draft attestation of that item's claim for the commenter.

On chain the document is its canonical JSON (keys sorted, no spaces, UTF-8), so that a proposal's
calldata, decoded and encoded again, is the same bytes; the empty document turns capture off.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from backend.i18n import _, ngettext
from backend.vocabulary import UINT32

# IndicatorRegistry's bound on the document (_MAX_CAPTURE_RULES).
MAX_RULES_BYTES = 16_384
MAX_RULES = 100
VERSION = 1

Label = Annotated[str, Field(min_length=1, max_length=100)]


def fold(text: str) -> str:
    """ASCII letters to lower case, as the contract compares handles (and the sources compare
    repositories, labels and tags); nothing else changes."""
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in text)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indicator_id: int = Field(ge=1, le=UINT32, description="The indicator a draft claims")


class GitHubMerged(_Rule):
    """A merged pull request in `repository`, labelled with any of `labels` (any, when empty)."""

    when: Literal["github.pull_request.merged"]
    repository: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$", description="owner/name")
    labels: list[Label] = Field(default_factory=list, max_length=20)


class GitLabMerged(_Rule):
    """A merged merge request in `project` (its path with namespace), labelled with any of `labels`."""

    when: Literal["gitlab.merge_request.merged"]
    project: str = Field(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$", max_length=255)
    labels: list[Label] = Field(default_factory=list, max_length=20)


class DiscourseTopic(_Rule):
    """A topic created in category `category_id` of `forum`, tagged with any of `tags`."""

    when: Literal["discourse.topic.created"]
    forum: str = Field(pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~-]+)*$", max_length=200)
    category_id: int = Field(ge=1, le=UINT32)
    tags: list[Label] = Field(default_factory=list, max_length=20)


class StandardEvent(_Rule):
    """A Standard Webhooks delivery whose `type` is this one; its `data` names `url` (the work),
    `author` (`site` and `handle`) and, optionally, `id` and `title`."""

    when: Literal["standard"]
    type: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")


Rule = Annotated[GitHubMerged | GitLabMerged | DiscourseTopic | StandardEvent, Field(discriminator="when")]


class Endorse(BaseModel):
    model_config = ConfigDict(extra="forbid")
    command: str = Field("/endorse", pattern=r"^/[a-z][a-z0-9-]{0,31}$", description="What a comment starts with")


class CaptureRules(BaseModel):
    """The community's capture rules, version 1."""

    model_config = ConfigDict(extra="forbid")
    version: Literal[1] = 1
    rules: list[Rule] = Field(default_factory=list, max_length=MAX_RULES)
    endorse: Endorse | None = Field(None, description="Comments that endorse a captured item; null: none")

    @model_validator(mode="after")
    def _fits_on_chain(self) -> CaptureRules:
        size = len(canonical(self).encode())
        if size > MAX_RULES_BYTES:
            raise ValueError(f"the capture rules are {size:,} bytes as JSON, and the contract keeps at most 16,384")
        return self

    @field_validator("rules")
    @classmethod
    def _distinct(cls, rules: list) -> list:
        seen = set()
        for rule in rules:
            key = canonical(rule)
            if key in seen:
                raise ValueError(f"a rule is given twice: {key}")
            seen.add(key)
        return rules


def canonical(model: BaseModel) -> str:
    """The document as it goes on chain: JSON with sorted keys, no spaces, every field written."""
    return json.dumps(model.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_RULES = TypeAdapter(CaptureRules)


def parse(text: str) -> CaptureRules | None:
    """The rules a document holds; None for the empty document (capture off). Raises ValueError
    (pydantic's ValidationError is one) for anything that is not version-1 rules."""
    if text == "":
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the capture rules are not JSON: {exc}") from None
    return _RULES.validate_python(data)


def problem_of(exc: ValueError) -> str:
    """A refused document's first problem, in words."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the document"
        return f"{where}: {first['msg']}"
    return str(exc)


def rule_words(rule: Any, indicator: Any) -> str:
    """One rule as a voter reads it; `indicator(id)` names an indicator."""
    claims = _("a draft claim of %(indicator)s for its author", indicator=indicator(rule.indicator_id))
    either = _(" or ")
    if isinstance(rule, GitHubMerged):
        if rule.labels:
            return _(
                "a pull request merged in %(repository)s on GitHub labelled %(labels)s -> %(claims)s",
                repository=rule.repository,
                labels=either.join(rule.labels),
                claims=claims,
            )
        return _(
            "a pull request merged in %(repository)s on GitHub -> %(claims)s", repository=rule.repository, claims=claims
        )
    if isinstance(rule, GitLabMerged):
        if rule.labels:
            return _(
                "a merge request merged in %(project)s on GitLab labelled %(labels)s -> %(claims)s",
                project=rule.project,
                labels=either.join(rule.labels),
                claims=claims,
            )
        return _("a merge request merged in %(project)s on GitLab -> %(claims)s", project=rule.project, claims=claims)
    if isinstance(rule, DiscourseTopic):
        if rule.tags:
            return _(
                "a topic created in category %(category)s of %(forum)s tagged %(tags)s -> %(claims)s",
                category=rule.category_id,
                forum=rule.forum,
                tags=either.join(rule.tags),
                claims=claims,
            )
        return _(
            "a topic created in category %(category)s of %(forum)s -> %(claims)s",
            category=rule.category_id,
            forum=rule.forum,
            claims=claims,
        )
    return _("a delivery of type %(type)s (Standard Webhooks) -> %(claims)s", type=rule.type, claims=claims)


def document_words(rules: CaptureRules | None, indicator: Any) -> tuple[str, str]:
    """The whole document as a voter reads it: (what, details)."""
    if rules is None:
        return _("capture turned off"), _("no work done elsewhere becomes a draft")
    parts = [rule_words(rule, indicator) for rule in rules.rules]
    if rules.endorse is not None:
        parts.append(
            _(
                "a comment %(command)s by a member on a captured item -> a draft endorsement",
                command=rules.endorse.command,
            )
        )
    count = len(rules.rules)
    return ngettext("%(num)s rule", "%(num)s rules", count), _("; ").join(parts) or _(
        "no rule: nothing becomes a draft"
    )
