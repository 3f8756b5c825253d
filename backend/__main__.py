"""`python -m backend serve` (API + indexer) and `python -m backend reindex` (rebuild the index)."""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API and the indexer")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    commands.add_parser("reindex", help="drop the index and rebuild it from each deployment block")
    commands.add_parser("sync", help="index up to the chain head once, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from backend.settings import get_settings

    settings = get_settings()
    if args.command == "serve":
        import uvicorn

        from backend.api.main import create_app

        app = create_app(settings)
        host, port = args.host or settings.host, args.port or settings.port
        print(f"API on http://{host}:{port}  (docs: http://{host}:{port}/docs)", flush=True)
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return 0

    from backend.context import Context

    context = Context.build(settings)
    context.gateway.check_chain()
    if args.command == "reindex":
        head = context.indexer.reindex()
        print(f"Index rebuilt up to block {head} for {', '.join(context.deployments.communities)}")
    else:
        head = context.indexer.sync()
        print(f"Indexed up to block {head}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
