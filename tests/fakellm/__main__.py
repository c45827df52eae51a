"""`python -m tests.fakellm --host 127.0.0.1 --port 8900`: the fake in the foreground."""

from __future__ import annotations

import argparse

from .server import serve_forever


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakellm", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900, help="0 picks a free port")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument(
        "--no-record", action="store_true", help="do not keep request bodies (long benchmarks)"
    )
    args = parser.parse_args(argv)
    serve_forever(args.host, args.port, record=not args.no_record, log_level=args.log_level)


if __name__ == "__main__":
    main()
