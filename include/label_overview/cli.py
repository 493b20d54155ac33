"""The ``label-overview`` command line: one subcommand per job, each a thin call into the package.

Every expected failure (bad input, API errors, a busy warehouse) ends as one line on stderr
and a non-zero exit; tracebacks are for bugs only.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from label_overview.settings import MODES
from label_overview.windows import GROUP_BYS


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="label-overview", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="extract, build and publish for a range of UTC days")
    run.add_argument("--from", dest="from_day", required=True, help="first UTC day (YYYY-MM-DD)")
    run.add_argument("--to", dest="to_day", required=True, help="last UTC day (YYYY-MM-DD)")
    run.add_argument("--mode", choices=MODES, help="what to extract (default: both)")
    run.add_argument("--workspace", action="append", dest="workspaces", help="only this one")
    run.add_argument("--lookback-days", type=int, help="days re-pulled before --from (default 2)")
    run.add_argument("--keep-text", action="store_true", help="keep message text and user names")

    export = commands.add_parser(
        "export", help="print a label-overview document from the warehouse"
    )
    export.add_argument("--workspace", required=True)
    export.add_argument("--medium", dest="channel_id", required=True, help="channel id")
    export.add_argument("--from", dest="from_day", required=True)
    export.add_argument("--to", dest="to_day", required=True)
    export.add_argument("--group-by", choices=GROUP_BYS, default="day")

    report = commands.add_parser("report", help="render label trend pages (HTML + PNG) per channel")
    report.add_argument("--workspace", required=True)
    report.add_argument("--from", dest="from_day", help="first UTC day (default: to − 30)")
    report.add_argument("--to", dest="to_day", help="last UTC day (default: the latest message)")
    report.add_argument("--out", help="folder (default: $LABEL_OVERVIEW_HOME/exports)")

    status = commands.add_parser(
        "status", help="per channel: landed, fresh, published, failing? (exit 1 if any is not)"
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")

    commands.add_parser(
        "convert-landing",
        help="rewrite an older release's JSONL message landing as Parquet, in place"
        " (a run's first step does it too)",
    )

    # Listed for --help only: _parse hands everything after `mf` to mf untouched (argparse
    # would take mf's options for its own).
    commands.add_parser(
        "mf",
        help="MetricFlow's mf on the read copy: `label-overview mf query --metrics label_rate …`",
        add_help=False,
    )
    return parser


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["mf"]:  # mf's own arguments, passed on untouched
        return argparse.Namespace(command="mf", arguments=argv[1:])
    return build_parser().parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        message = _expected_error_message(error)
        if message is None:
            raise
        print(f"label-overview {args.command}: error: {message}", file=sys.stderr)
        return 2 if isinstance(error, UsageError) else 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        return _run(args)
    if args.command == "export":
        return _export(args)
    if args.command == "report":
        return _report(args)
    if args.command == "status":
        return _status(args)
    if args.command == "mf":
        return _mf(args)
    if args.command == "convert-landing":
        return _convert_landing()
    raise UsageError(f"unknown command {args.command}")


def _status(args: argparse.Namespace) -> int:
    import datetime as dt

    from label_overview import status
    from label_overview.settings import Settings

    now = dt.datetime.now(dt.UTC)
    statuses = status.pair_statuses(Settings.from_env(), now)
    print(status.as_json(statuses, now) if args.json else status.render(statuses))
    return 0 if statuses and all(s.healthy for s in statuses) else 1


def _convert_landing() -> int:
    from label_overview.settings import Settings
    from label_overview.steps import convert_landing

    converted = convert_landing(Settings.from_env())
    print(f"{converted} JSONL message partitions converted to Parquet")
    return 0


def _mf(args: argparse.Namespace) -> int:
    from label_overview.metrics import run_mf
    from label_overview.settings import Settings

    return run_mf(Settings.from_env(), args.arguments)


def _run(args: argparse.Namespace) -> int:
    from label_overview.pipeline import run_pipeline
    from label_overview.settings import Settings
    from label_overview.windows import Window

    window = Window.parse(args.from_day, args.to_day)
    changes = {
        name: value
        for name, value in (
            ("mode", args.mode),
            ("lookback_days", args.lookback_days),
            ("keep_text", args.keep_text or None),
        )
        if value is not None
    }
    settings = Settings.from_env().with_changes(**changes)
    settings.require_api()
    _log_progress_to_stderr()
    print(run_pipeline(settings, window, workspace_ids=args.workspaces))
    return 0


def _report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from label_overview.coverage import require_landed
    from label_overview.documents import check_workspace, warehouse_pairs
    from label_overview.locking import warehouse_lock
    from label_overview.report import build_reports, write_reports
    from label_overview.settings import Settings
    from label_overview.warehouse import read_only, require_warehouse
    from label_overview.windows import MAX_WINDOW_DAYS, Window, parse_day, trailing_window

    settings = Settings.from_env()
    require_warehouse(settings.root.warehouse)
    shared = warehouse_lock(settings.root, exclusive=False, timeout_s=settings.lock_timeout_s)
    with shared, read_only(settings.root.warehouse) as connection:
        check_workspace(connection, args.workspace)
        if args.to_day:
            last = parse_day(args.to_day, name="to")
        else:
            last = connection.execute(
                "select max(sent_on) from marts.fct_user_messages where workspace_id = $w",
                {"w": args.workspace},
            ).fetchone()[0]
            if last is None:
                raise UsageError(f"workspace {args.workspace} has no messages in the warehouse")
        window = (
            Window(parse_day(args.from_day, name="from"), last)
            if args.from_day
            else trailing_window(last)
        )
        window.check(MAX_WINDOW_DAYS)
        require_landed(connection, warehouse_pairs(connection, [args.workspace]), window)
        reports = build_reports(connection, args.workspace, window, pngs=True)
    out = Path(args.out) if args.out else settings.root.snapshots
    for path in write_reports(out, args.workspace, reports):
        print(path)
    return 0


def _log_progress_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    # One line per HTTP request would drown the progress; retries are logged by the client.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The storage's client names where it found its credentials, once per connection.
    logging.getLogger("botocore").setLevel(logging.WARNING)


def _export(args: argparse.Namespace) -> int:
    from label_overview.coverage import require_landed
    from label_overview.documents import check_pair, label_overview_document
    from label_overview.locking import warehouse_lock
    from label_overview.overview import render_label_overview
    from label_overview.settings import Settings
    from label_overview.warehouse import read_only, require_warehouse
    from label_overview.windows import MAX_WINDOW_DAYS, Window

    window = Window.parse(args.from_day, args.to_day, max_days=MAX_WINDOW_DAYS)
    settings = Settings.from_env()
    require_warehouse(settings.root.warehouse)  # before the lock, which creates the data root
    shared = warehouse_lock(settings.root, exclusive=False, timeout_s=settings.lock_timeout_s)
    with shared, read_only(settings.root.warehouse) as connection:
        check_pair(connection, args.workspace, args.channel_id)
        require_landed(connection, [(args.workspace, args.channel_id)], window)
        document = label_overview_document(
            connection, args.workspace, args.channel_id, window, args.group_by
        )
    sys.stdout.buffer.write(render_label_overview(document) + b"\n")
    return 0


def _expected_error_message(error: Exception) -> str | None:
    """The one-line message of an anticipated failure, or None for a bug."""
    from label_overview.dynamo.errors import DynamoError
    from label_overview.files import UnsafeIdError
    from label_overview.landing import LandingConversionError
    from label_overview.pipeline import PipelineError
    from label_overview.settings import SettingsError
    from label_overview.storage import StorageError
    from label_overview.transform import TransformError
    from label_overview.warehouse import WarehouseError
    from label_overview.windows import WindowError

    expected = (
        UsageError,
        SettingsError,
        WindowError,
        LookupError,
        UnsafeIdError,
        LandingConversionError,
        DynamoError,
        TransformError,
        WarehouseError,
        PipelineError,
        StorageError,
        OSError,
    )
    if isinstance(error, expected):
        text = str(error).strip()
        return text.splitlines()[0] if text else type(error).__name__
    return None


if __name__ == "__main__":
    sys.exit(main())
