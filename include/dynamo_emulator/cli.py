"""``dynamo-emulator``: a local Dynamo External API and its synthetic data, for tests and demo.

Not part of the pipeline's runtime: the image installs neither. Bad input is one line on
stderr and exit 2 (argparse) or 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dynamo-emulator", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve a dataset as the Dynamo API on loopback")
    serve.add_argument("--data", required=True, help="dataset directory")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--fail-rate", type=float, default=0.0)
    serve.add_argument("--latency-ms", type=int, default=0)
    serve.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds on 429")
    serve.add_argument("--seed", type=int, default=0, help="seed of the fault injector")

    generate = commands.add_parser("generate", help="write a synthetic dataset directory")
    generate.add_argument("--out", required=True)
    generate.add_argument("--seed", type=int, default=1)
    generate.add_argument("--start", default="2026-06-01", help="first UTC day (YYYY-MM-DD)")
    generate.add_argument("--days", type=int, default=28)
    generate.add_argument("--workspaces", type=int, default=3, help="VIP workspaces")
    generate.add_argument("--channels-per-workspace", type=int, default=2)
    generate.add_argument("--messages-per-day", type=int, default=200, help="per channel")
    generate.add_argument(
        "--story",
        action="store_true",
        help="weekday rhythm, growth, an incident, a quiet day and late labels (the demo's)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            from dynamo_emulator.server import serve

            serve(
                args.data,
                host=args.host,
                port=args.port,
                fail_rate=args.fail_rate,
                latency_ms=args.latency_ms,
                retry_after_s=args.retry_after,
                seed=args.seed,
            )
            return 0
        from dynamo_emulator.generate import generate_dataset
        from label_overview.windows import parse_day

        start = parse_day(args.start, name="--start")
        print(
            generate_dataset(
                args.out,
                seed=args.seed,
                start=start,
                days=args.days,
                workspaces=args.workspaces,
                channels_per_workspace=args.channels_per_workspace,
                messages_per_day=args.messages_per_day,
                story=args.story,
            )
        )
        return 0
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError) as error:  # WindowError is a ValueError
        print(f"dynamo-emulator {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
