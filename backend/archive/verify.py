"""Checking an archive against the chain alone (`commons archive verify FILE`): the archive's header
says which chain, which contracts and as of which block; a fresh index of those contracts is built
from the node into a temporary database by the indexer's own code, up to that block exactly, the
archive written from it by the same writer, and the two compared byte for byte. Nothing of the
service is read (its index, its database), and nothing is written but the temporary database,
removed whatever happens.

The comparison goes through both archives in their order at once, so it holds a line of each, and
the first differences found, never a whole archive; it names each record that differs."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from backend.archive.schemas import FORMAT, VERSION, ArchiveEnd, ArchiveHeader, ArchiveLine, Record, order_key
from backend.archive.writer import Archive, snapshot
from backend.chain.abi import ContractAbi
from backend.chain.deployments import Community, Deployments
from backend.chain.gateway import ChainGateway
from backend.chain.rpc import RpcError
from backend.i18n import gettext as _
from backend.i18n import ngettext
from backend.indexer.db import make_engine, make_sessionmaker
from backend.indexer.follower import Indexer
from backend.settings import Settings
from backend.units import number

LINE = TypeAdapter(ArchiveLine)
# Differences named one by one; past these, counted.
SHOWN = 20
_KEPT = 1000  # records set aside for pairing (a record in one archive whose place moved in the other)
_VALUE_CHARACTERS = 80


class NotAnArchive(Exception):
    """The file is not an archive this version can read (a sentence saying why)."""


# Exit codes (`commons archive verify`): differs, nothing to check with, the node not there.
DIFFERS, USAGE, UNAVAILABLE = 1, 2, 3


class CannotCheck(Exception):
    """Nothing was compared: the node serves another chain, or not yet the archive's block, or
    another block at its height; a sentence saying why, and the exit code that says which."""

    def __init__(self, message: str, code: int = USAGE) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Comparison:
    """What differs between an archive and the chain's, in words, the first SHOWN of `count`."""

    header: ArchiveHeader
    records: int = 0  # compared
    count: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return self.count == 0

    def differs(self, words: str, first: bool = False) -> None:
        """One more difference; `first`: said before the others, whatever their number (what
        explains them all, as an archive cut short)."""
        self.count += 1
        if first:
            self.differences = [words, *self.differences][:SHOWN]
        elif len(self.differences) < SHOWN:
            self.differences.append(words)


# ---------------------------------------------------------------------- reading an archive


@dataclass(frozen=True)
class Line:
    number: int  # in its file, from 1
    raw: bytes
    parsed: ArchiveHeader | Record | ArchiveEnd | None
    error: str | None = None


def read_lines(lines: Iterable[bytes]) -> Iterator[Line]:
    for number_, raw in enumerate(lines, 1):
        try:
            yield Line(number_, raw, LINE.validate_json(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            yield Line(number_, raw, None, f"{where}: {first['msg']}" if where else first["msg"])


def read_header(path: Path) -> ArchiveHeader:
    """The archive's first line, or NotAnArchive saying why it is not one."""
    try:
        with path.open("rb") as file:
            first = file.readline(1 << 20)
    except OSError as exc:
        raise NotAnArchive(_("cannot read %(path)s: %(why)s", path=path, why=exc.strerror or exc)) from exc
    if not first.strip():
        raise NotAnArchive(_("%(path)s is empty: not an archive", path=path))
    try:
        raw = json.loads(first)
    except ValueError:
        raw = None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise NotAnArchive(_("%(path)s is not an archive: its first line is not an archive's header", path=path))
    if raw.get("version") != VERSION:
        raise NotAnArchive(
            _(
                "%(path)s is an archive of version %(version)s of the format; this software reads version %(ours)s",
                path=path,
                version=_shown(raw.get("version")),
                ours=VERSION,
            )
        )
    line = next(read_lines([first]))
    if not isinstance(line.parsed, ArchiveHeader):
        raise NotAnArchive(_("%(path)s has a malformed header: %(why)s", path=path, why=line.error or ""))
    return line.parsed


# ---------------------------------------------------------------------- comparing


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= _VALUE_CHARACTERS else text[: _VALUE_CHARACTERS - 1] + "…"


def _fields(archived: ArchiveHeader | Record | ArchiveEnd, chain: ArchiveHeader | Record | ArchiveEnd) -> str:
    ours, theirs = archived.model_dump(mode="json"), chain.model_dump(mode="json")
    differing = [name for name in sorted(ours.keys() | theirs.keys()) if ours.get(name) != theirs.get(name)]
    return "; ".join(
        _(
            "%(field)s is %(archived)s in the archive but %(chain)s on the chain",
            field=name,
            archived=_shown(ours.get(name)),
            chain=_shown(theirs.get(name)),
        )
        for name in differing
    )


def _differs(result: Comparison, line: Line, chain: bytes, parsed: ArchiveHeader | Record | ArchiveEnd) -> None:
    assert line.parsed is not None
    what = line.parsed.named() if isinstance(line.parsed, Record) else _what(line.parsed)
    fields = _fields(line.parsed, parsed)
    if fields:
        result.differs(_("line %(line)s: %(what)s differs: %(fields)s", line=line.number, what=what, fields=fields))
    else:
        result.differs(
            _(
                "line %(line)s: %(what)s holds the same values, written otherwise than an export writes them",
                line=line.number,
                what=what,
            )
        )


def _what(line: ArchiveHeader | ArchiveEnd) -> str:
    return _("the header") if isinstance(line, ArchiveHeader) else _("the end line")


def compare(archived: Iterable[bytes], chain: Iterable[bytes]) -> Comparison:
    """The archive's lines against the chain's (both beginning with their header), in one pass."""
    ours, theirs = read_lines(archived), iter(chain)
    header_line = next(ours)
    if not isinstance(header_line.parsed, ArchiveHeader):
        raise NotAnArchive(_("the first line is not an archive's header"))
    chain_header = next(theirs)
    result = Comparison(header_line.parsed)
    if header_line.raw != chain_header:
        _differs(result, header_line, chain_header, LINE.validate_json(chain_header))

    # Records that are in one archive and not at the same place in the other, by identity: a record
    # whose block was altered is out of place, and is still named as one record that differs.
    only_ours: dict[tuple, tuple[Line, Record]] = {}
    only_theirs: dict[tuple, tuple[bytes, Record]] = {}

    def next_ours() -> Line | None:
        line = next(ours, None)
        while line is not None and line.parsed is None:
            result.differs(
                _("line %(line)s is not a line of an archive: %(why)s", line=line.number, why=line.error or "")
            )
            line = next(ours, None)
        return line

    def next_theirs() -> tuple[bytes, Record | ArchiveEnd] | None:
        raw = next(theirs, None)
        if raw is None:
            return None
        parsed = LINE.validate_json(raw)
        assert isinstance(parsed, Record | ArchiveEnd)
        return raw, parsed

    mine, other = next_ours(), next_theirs()
    while True:
        mine_record = mine is not None and isinstance(mine.parsed, Record)
        other_record = other is not None and isinstance(other[1], Record)
        if not mine_record and not other_record:
            break
        if mine_record and other_record:
            assert mine is not None and other is not None
            a, b = mine.parsed, other[1]
            assert isinstance(a, Record) and isinstance(b, Record)
            if mine.raw == other[0]:
                result.records += 1
                mine, other = next_ours(), next_theirs()
                continue
            if order_key(a) == order_key(b):
                result.records += 1
                _differs(result, mine, other[0], b)
                mine, other = next_ours(), next_theirs()
                continue
            take_ours = order_key(a) < order_key(b)
        else:
            take_ours = mine_record
        if take_ours:
            assert mine is not None and isinstance(mine.parsed, Record)
            _keep(only_ours, mine.parsed.identity(), (mine, mine.parsed), result)
            mine = next_ours()
        else:
            assert other is not None and isinstance(other[1], Record)
            _keep(only_theirs, other[1].identity(), (other[0], other[1]), result)
            other = next_theirs()

    for identity, (line, record) in only_ours.items():
        if identity in only_theirs:
            raw, chain_record = only_theirs.pop(identity)
            result.records += 1
            _differs(result, line, raw, chain_record)
        else:
            result.differs(
                _(
                    "line %(line)s: %(what)s is in the archive but not on the chain",
                    line=line.number,
                    what=record.named(),
                )
            )
    for _raw, record in only_theirs.values():
        result.differs(_("%(what)s is on the chain but not in the archive", what=record.named()))

    # The end line, then nothing.
    if mine is None:
        result.differs(_("the archive ends without its end line: it is incomplete (a download cut short?)"), first=True)
    else:
        assert other is not None
        if mine.raw != other[0]:
            _differs(result, mine, other[0], other[1])
        extra = next_ours()
        if extra is not None:
            result.differs(_("line %(line)s comes after the end line", line=extra.number))
    return result


def _keep(kept: dict, identity: tuple, entry: Any, result: Comparison) -> None:
    if len(kept) < _KEPT and identity not in kept:
        kept[identity] = entry
    else:  # past what is kept for pairing, or twice the same record: said as it is
        record = entry[1]
        line = entry[0].number if isinstance(entry[0], Line) else None
        if line is None:
            result.differs(_("%(what)s is on the chain but not in the archive", what=record.named()))
        else:
            result.differs(
                _("line %(line)s: %(what)s is in the archive but not on the chain", line=line, what=record.named())
            )


# ---------------------------------------------------------------------- rebuilding from the chain


def node_refused(exc: RpcError) -> str:
    """A JSON-RPC error of the node while an index is rebuilt, in words."""
    return _(
        "the node refused a request (%(why)s); a provider may limit the blocks one request reads: lower "
        "CC_INDEX_PAGE_BLOCKS",
        why=exc.message or exc,
    )


Progress = Callable[[int, int], None]  # (block reached, block wanted)


@contextmanager
def rebuilt(header: ArchiveHeader, rpc_url: str, abis: dict[str, ContractAbi], progress: Progress) -> Iterator[Archive]:
    """The archive of the header's community as of its block, written from an index built afresh
    from the node at `rpc_url` into a temporary database (removed on the way out)."""
    unknown = sorted(set(header.community.contracts) - set(abis))
    if unknown:
        raise CannotCheck(
            _(
                "the archive names contracts this version of the software cannot read (%(roles)s): check it with "
                "the version that wrote it",
                roles=", ".join(unknown),
            )
        )
    community = Community(
        slug=header.community.slug,
        name=header.community.name,
        deployment_block=header.community.deployment_block,
        contracts=dict(header.community.contracts),
    )
    settings = Settings(rpc_url=rpc_url, confirmations=0)
    gateway = ChainGateway(
        settings=settings, deployments=Deployments(header.chain_id, "", abis, {community.slug: community})
    )
    _check_chain(gateway, header)
    with tempfile.TemporaryDirectory(prefix="commons-verify-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'index.sqlite3'}")
        try:
            indexer = Indexer(gateway=gateway, sessions=make_sessionmaker(engine))
            wanted, reached = header.as_of.block_number, community.deployment_block - 1
            while reached < wanted:
                target = min(reached + settings.index_page_blocks, wanted)
                reached = indexer.sync_to(community, target)
                if reached < target:
                    raise CannotCheck(
                        _("the chain changed while it was read (reset or reorganised): check again"), UNAVAILABLE
                    )
                progress(reached, wanted)
            with snapshot(engine) as connection:
                yield Archive(connection, community, header.chain_id)
        finally:
            engine.dispose()


def _check_chain(gateway: ChainGateway, header: ArchiveHeader) -> None:
    url, block = gateway.settings.rpc_url, header.as_of.block_number
    chain_id = int(gateway.rpc.request("eth_chainId"), 16)
    if chain_id != header.chain_id:
        raise CannotCheck(
            _(
                "the node at %(url)s serves chain %(chain)s, but the archive is of chain %(expected)s",
                url=url,
                chain=chain_id,
                expected=header.chain_id,
            )
        )
    found = gateway.block_headers([block])[block]
    if found is None:
        raise CannotCheck(
            _("the node at %(url)s has no block %(block)s yet: is it synced?", url=url, block=number(block)),
            UNAVAILABLE,
        )
    if found[1] != header.as_of.block_hash:
        raise CannotCheck(
            _(
                "block %(block)s on the node at %(url)s is %(found)s, but the archive was made as of %(expected)s: "
                "the chain was reset or reorganised since, or this is another chain",
                block=number(block),
                url=url,
                found=found[1],
                expected=header.as_of.block_hash,
            ),
            DIFFERS,
        )


def verify(path: Path, rpc_url: str, abis: dict[str, ContractAbi], progress: Progress) -> Comparison:
    """The archive at `path` against the chain: what differs, in words. Raises NotAnArchive and
    CannotCheck (with a sentence), and NodeUnavailable when the node goes away."""
    header = read_header(path)
    with rebuilt(header, rpc_url, abis, progress) as archive, path.open("rb") as file:
        return compare(file, archive)


def summary(result: Comparison) -> str:
    """The comparison's outcome in a sentence, then each difference on a line of its own."""
    header = result.header
    where = {
        "slug": header.community.slug,
        "block": number(header.as_of.block_number),
        "chain": header.chain_id,
        "records": number(result.records),
    }
    if result.matches:
        return _(
            "The archive matches the chain: %(records)s records of community %(slug)s as of block %(block)s "
            "(chain %(chain)s), rebuilt from the node, byte for byte.",
            **where,
        )
    lines = [
        ngettext(
            "The archive differs from the chain (community %(slug)s as of block %(block)s, chain %(chain)s) in "
            "%(num)s place:",
            "The archive differs from the chain (community %(slug)s as of block %(block)s, chain %(chain)s) in "
            "%(num)s places:",
            result.count,
            **where,
        )
    ]
    lines += [f"  - {difference}" for difference in result.differences]
    if result.count > len(result.differences):
        lines.append("  " + _("… and %(more)s more", more=number(result.count - len(result.differences))))
    return "\n".join(lines)
