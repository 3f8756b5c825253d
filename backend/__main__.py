"""`python -m backend serve` (API + indexer), `python -m backend reindex` (rebuild the index) and
`python -m backend restore` (build one from the chain into an empty database)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backend.settings import Settings


def forwarded_headers(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for X-Forwarded-For and X-Forwarded-Proto: believed from CC_TRUSTED_PROXIES
    alone. Left to itself uvicorn believes them from 127.0.0.1 (or FORWARDED_ALLOW_IPS), and any
    local client, or a proxy passing the header through, would choose the address its relaying
    budget is kept for. With none trusted the middleware is not installed at all."""
    if os.environ.get("FORWARDED_ALLOW_IPS"):
        logging.getLogger("backend").warning(
            "FORWARDED_ALLOW_IPS is ignored: name the proxies whose X-Forwarded-For is believed in CC_TRUSTED_PROXIES"
        )
    trusted = list(settings.trusted_proxies)
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API and the indexer")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="API processes over the one database (PostgreSQL, or SQLite on one machine): one of "
        "them relays and indexes, every one answers; if that one dies, another takes over",
    )
    commands.add_parser(
        "reindex",
        help="rebuild the index from each deployment block beside the one in use, "
        "and replace it only once the rebuild succeeded",
    )
    commands.add_parser("sync", help="index up to the chain head once, then exit")
    commands.add_parser(
        "restore",
        help="build the index from the chain into an empty database (DATABASE_URL), saying how far it got; "
        "refuses a database that holds an index",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from backend.settings import get_settings

    settings = get_settings()
    if args.command == "serve":
        import uvicorn

        host, port = args.host or settings.host, args.port or settings.port
        # The address credentials and DIDs name when CC_PUBLIC_URL is unset.
        settings.host, settings.port = host, port
        if args.workers < 1:
            parser.error("--workers must be at least 1")
        if args.workers == 1:
            from backend.app import create_app

            app = create_app(settings)
            print(f"API on http://{host}:{port}  (docs: http://{host}:{port}/docs)", flush=True)
            uvicorn.run(app, host=host, port=port, log_level="warning", **forwarded_headers(settings))
            return 0
        # Several processes: each builds its app from the environment, so the address goes there.
        # The index's tables and the outbox are made (or found) here first, once: processes
        # creating them at the same moment would race (and an index of another version is dropped
        # and rebuilt, which must happen once). This process imports no more than that: each
        # worker imports the app afresh (a new interpreter), and the first start waits for both.
        from backend.context import Context

        Context.build(settings).sessions.kw["bind"].dispose()
        os.environ.update(CC_HOST=host, CC_PORT=str(port))
        print(f"API on http://{host}:{port}, {args.workers} processes (docs: http://{host}:{port}/docs)", flush=True)
        uvicorn.run(
            "backend.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=args.workers,
            log_level="warning",
            **forwarded_headers(settings),
        )
        return 0

    if args.command == "restore":  # into an empty database: none of the service's tables made first
        from backend.archive.restore import main as restore

        return restore(settings)

    from backend.context import Context
    from backend.errors import DomainError
    from backend.indexer.follower import ReindexFailed

    context = Context.build(settings)
    indexer = context.indexer
    try:
        context.gateway.check_chain()
        if args.command == "reindex":
            head = indexer.reindex()
            print(f"Index rebuilt up to block {head} for {', '.join(context.deployments.communities)}")
        else:
            head = indexer.sync()
            failing = {slug: state.error for slug, state in indexer.states.items() if state.error}
            if failing:
                for slug, error in failing.items():
                    print(f"Indexing community {slug} failed: {error}", file=sys.stderr)
                return 1
            print(f"Indexed up to block {head}")
    except ReindexFailed as exc:
        print(f"Reindex failed; the index in use is unchanged: {exc}", file=sys.stderr)
        return 1
    except DomainError as exc:
        print(f"{args.command} failed: {exc.detail}", file=sys.stderr)
        return 1
    set_aside = indexer.set_aside_count()
    if set_aside:
        print(f"{set_aside} event(s) could not be stored and are set aside (GET /health lists them)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
