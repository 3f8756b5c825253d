"""What a source's payload says, in one shape: a piece of work done (`Work`: a merged pull request, a
topic created, an event) or a comment on one (`Comment`), read from the fields each source documents
for its webhooks, and for backfill from its API's lists (GitHub's "list pull requests", GitLab's
"list merge requests", Discourse's topic lists, a JSON array of Standard Webhooks payloads).

Nothing here trusts a field's type: a payload is anyone's JSON until its signature verified, and
a source may change its shapes, so every read is defensive and a payload that does not have the
shape is ignored (said so in the delivery's outcome), never an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from backend.capture.rules import fold

MAX_TITLE = 200


@dataclass(frozen=True)
class Work:
    source: str
    item_key: str  # the item at its source: owner/name#12, group/app!4, https://forum/t/42, an event's id
    url: str  # the evidence link
    title: str
    author_site: str  # a linked account's site: github, gitlab, drupal, discourse
    author_handle: str | None  # None: the payload does not say who (GitLab names authors by number)
    container: str = ""  # the repository, the project, the forum
    labels: tuple[str, ...] = ()  # labels or tags
    category_id: int | None = None
    type: str = ""  # a Standard Webhooks delivery's type
    private: bool = False  # a private repository or project, a private message: never a draft
    author_id: str | None = None  # GitLab's number for the author


@dataclass(frozen=True)
class Comment:
    source: str
    item_key: str
    body: str
    site: str
    handle: str


@dataclass
class Reading:
    """What a payload holds: work, comments, people seen (GitLab: number -> user name), and why
    nothing was read when nothing was."""

    works: list[Work] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    people: dict[str, str] = field(default_factory=dict)
    ignored: str = ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int = 2048) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _https(value: Any) -> str:
    text = _text(value)
    return text if urlsplit(text).scheme in ("https", "http") and urlsplit(text).netloc else ""


def _labels(values: Any, key: str) -> tuple[str, ...]:
    out = []
    for value in values if isinstance(values, list) else []:
        name = value if isinstance(value, str) else _dict(value).get(key)
        if isinstance(name, str) and name:
            out.append(name[:100])
    return tuple(out)


# ---------------------------------------------------------------------- GitHub


def _github_pull(pull: dict[str, Any], repository: dict[str, Any]) -> Work | None:
    number, url = _int(pull.get("number")), _https(pull.get("html_url"))
    full_name = _text(repository.get("full_name"), 200)
    author = _text(_dict(pull.get("user")).get("login"), 64)
    if number is None or not url or not full_name:
        return None
    return Work(
        source="github",
        item_key=f"{fold(full_name)}#{number}",
        url=url,
        title=_text(pull.get("title"), MAX_TITLE),
        author_site="github",
        author_handle=author or None,
        container=full_name,
        labels=_labels(pull.get("labels"), "name"),
        private=repository.get("private") is not False,
    )


def github(event: str, payload: dict[str, Any]) -> Reading:
    if event == "ping":
        return Reading(ignored="a ping: the webhook is connected")
    if event == "pull_request":
        pull = _dict(payload.get("pull_request"))
        if payload.get("action") != "closed" or pull.get("merged") is not True:
            return Reading(ignored=f"a pull request {_text(payload.get('action'), 40) or 'event'}, not a merge")
        work = _github_pull(pull, _dict(payload.get("repository")))
        return (
            Reading(works=[work]) if work else Reading(ignored="a pull request without its number, link or repository")
        )
    if event == "issue_comment":
        if payload.get("action") != "created":
            return Reading(ignored="a comment edited or deleted")
        issue, comment = _dict(payload.get("issue")), _dict(payload.get("comment"))
        full_name = _text(_dict(payload.get("repository")).get("full_name"), 200)
        number, login = _int(issue.get("number")), _text(_dict(comment.get("user")).get("login"), 64)
        if number is None or not full_name or not login:
            return Reading(ignored="a comment without its issue, repository or author")
        body = _text(comment.get("body"), 10_000)
        return Reading(comments=[Comment("github", f"{fold(full_name)}#{number}", body, "github", login)])
    return Reading(ignored=f"a {event or 'nameless'} event, which no rule reads")


def github_list(items: list[Any]) -> Reading:
    """GitHub's "list pull requests" answer (GET /repos/{owner}/{repo}/pulls?state=closed): the merged ones."""
    reading = Reading()
    for item in items:
        pull = _dict(item)
        if not pull.get("merged_at"):
            continue
        work = _github_pull(pull, _dict(_dict(pull.get("base")).get("repo")))
        if work is not None:
            reading.works.append(work)
    return reading


# ---------------------------------------------------------------------- GitLab


def _gitlab_people(payload: dict[str, Any]) -> dict[str, str]:
    people: dict[str, str] = {}
    for person in [payload.get("user"), *(payload.get("assignees") or []), *(payload.get("reviewers") or [])]:
        person = _dict(person)
        number, username = _int(person.get("id")), _text(person.get("username"), 64)
        if number is not None and username:
            people[str(number)] = username
    return people


def gitlab(payload: dict[str, Any]) -> Reading:
    kind = payload.get("object_kind")
    attributes, project = _dict(payload.get("object_attributes")), _dict(payload.get("project"))
    path = _text(project.get("path_with_namespace"), 255)
    people = _gitlab_people(payload)
    if kind == "merge_request":
        if attributes.get("action") != "merge":
            return Reading(people=people, ignored=f"a merge request {_text(attributes.get('action'), 40)}, not a merge")
        iid, url, author_id = (
            _int(attributes.get("iid")),
            _https(attributes.get("url")),
            _int(attributes.get("author_id")),
        )
        if iid is None or not url or not path:
            return Reading(people=people, ignored="a merge request without its number, link or project")
        author = people.get(str(author_id)) if author_id is not None else None
        work = Work(
            source="gitlab",
            item_key=f"{fold(path)}!{iid}",
            url=url,
            title=_text(attributes.get("title"), MAX_TITLE),
            author_site="gitlab",
            author_handle=author,
            container=path,
            labels=_labels(payload.get("labels"), "title"),
            private=project.get("visibility_level") != 20,  # 20: public
            author_id=str(author_id) if author_id is not None else None,
        )
        return Reading(works=[work], people=people)
    if kind == "note":
        request, user = _dict(payload.get("merge_request")), _dict(payload.get("user"))
        iid, username = _int(request.get("iid")), _text(user.get("username"), 64)
        if attributes.get("noteable_type") != "MergeRequest" or iid is None or not path or not username:
            return Reading(people=people, ignored="a comment that is not on a merge request")
        body = _text(attributes.get("note"), 10_000)
        return Reading(comments=[Comment("gitlab", f"{fold(path)}!{iid}", body, "gitlab", username)], people=people)
    return Reading(people=people, ignored=f"a {_text(kind, 40) or 'nameless'} event, which no rule reads")


def gitlab_list(items: list[Any]) -> Reading:
    """GitLab's "list merge requests" answer (GET /projects/:id/merge_requests?state=merged)."""
    reading = Reading()
    for item in items:
        request = _dict(item)
        if request.get("state") != "merged":
            continue
        iid, url = _int(request.get("iid")), _https(request.get("web_url"))
        author = _dict(request.get("author"))
        reference = _text(_dict(request.get("references")).get("full"), 300)
        path = reference.rpartition("!")[0] if "!" in reference else ""
        if not path and "/-/merge_requests/" in url:
            path = urlsplit(url).path.strip("/").split("/-/merge_requests/")[0]
        if iid is None or not url or not path:
            continue
        reading.works.append(
            Work(
                source="gitlab",
                item_key=f"{fold(path)}!{iid}",
                url=url,
                title=_text(request.get("title"), MAX_TITLE),
                author_site="gitlab",
                author_handle=_text(author.get("username"), 64) or None,
                container=path,
                labels=_labels(request.get("labels"), "title"),
                # The list is what the token could read: public or not, it does not say; the steward chose it.
                private=False,
            )
        )
    return reading


# ---------------------------------------------------------------------- Discourse


def _topic_work(topic: dict[str, Any], forum: str, author: str) -> Work | None:
    number, slug = _int(topic.get("id")), _text(topic.get("slug"), 200)
    if number is None or not forum:
        return None
    return Work(
        source="discourse",
        item_key=f"{fold(forum)}/t/{number}",
        url=f"{forum}/t/{slug or 'topic'}/{number}",
        title=_text(topic.get("title"), MAX_TITLE),
        author_site="discourse",
        author_handle=author or None,
        container=forum,
        labels=_labels(topic.get("tags"), "name"),
        category_id=_int(topic.get("category_id")),
        private=topic.get("archetype") == "private_message",
    )


def discourse(event: str, payload: dict[str, Any], forum: str) -> Reading:
    """`forum`: the forum's address (X-Discourse-Instance)."""
    if event == "ping":
        return Reading(ignored="a ping: the webhook is connected")
    if event == "topic_created":
        topic = _dict(payload.get("topic"))
        author = _text(_dict(topic.get("created_by")).get("username"), 64)
        work = _topic_work(topic, forum, author)
        return Reading(works=[work]) if work else Reading(ignored="a topic without its number or forum")
    if event == "post_created":
        post = _dict(payload.get("post"))
        topic_id, number, username = _int(post.get("topic_id")), _int(post.get("post_number")), post.get("username")
        if post.get("topic_archetype") == "private_message":
            return Reading(ignored="a private message")
        if topic_id is None or number is None or number < 2 or not isinstance(username, str) or not forum:
            return Reading(ignored="a topic's first post, or a post without its topic")
        body = _text(post.get("raw"), 10_000)
        key = f"{fold(forum)}/t/{topic_id}"
        return Reading(comments=[Comment("discourse", key, body, "discourse", username[:64])])
    return Reading(ignored=f"a {event or 'nameless'} event, which no rule reads")


def discourse_list(document: Any, forum: str) -> Reading:
    """A Discourse topic list (/latest.json, /c/<slug>/<id>.json): `users` and `topic_list.topics`,
    each topic's author being the poster described as "Original Poster"; or a JSON array of topics
    as the webhook sends them (with `created_by`)."""
    reading = Reading()
    document_dict = _dict(document)
    users = {
        _int(user.get("id")): _text(user.get("username"), 64)
        for user in (document_dict.get("users") or [])
        if isinstance(user, dict)
    }
    topics = _dict(document_dict.get("topic_list")).get("topics") if document_dict else document
    for item in topics if isinstance(topics, list) else []:
        topic = _dict(_dict(item).get("topic") or item)
        author = _text(_dict(topic.get("created_by")).get("username"), 64)
        for poster in topic.get("posters") or []:
            poster = _dict(poster)
            if not author and "Original Poster" in _text(poster.get("description")):
                author = users.get(_int(poster.get("user_id"))) or ""
        work = _topic_work(topic, forum, author)
        if work is not None:
            reading.works.append(work)
    return reading


# ---------------------------------------------------------------------- Standard Webhooks


def standard(payload: dict[str, Any]) -> Reading:
    """{"type": ..., "timestamp": ..., "data": {"url", "author": {"site", "handle"}, "id"?, "title"?}}"""
    kind, data = _text(payload.get("type"), 100), _dict(payload.get("data"))
    author = _dict(data.get("author"))
    url, site, handle = _https(data.get("url")), author.get("site"), _text(author.get("handle"), 64)
    if not kind or not url or site not in ("github", "gitlab", "drupal", "discourse") or not handle:
        return Reading(ignored="not a piece of work: a type, data.url and data.author (site, handle) are needed")
    key = _text(data.get("id"), 300) or url
    work = Work(
        source="standard",
        item_key=f"{kind}:{key}",
        url=url,
        title=_text(data.get("title"), MAX_TITLE),
        author_site=str(site),
        author_handle=handle,
        type=kind,
    )
    return Reading(works=[work])


def standard_list(items: list[Any]) -> Reading:
    reading = Reading()
    for item in items:
        reading.works += standard(_dict(item)).works
    return reading
