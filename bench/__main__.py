"""``python -m bench`` (``make bench``): run the benchmark, write REPORT.md and the JSON results.

The run is bounded: a soft budget stops starting scenarios, and a hard alarm a little later
aborts whatever is running. Ctrl-C, SIGTERM and the alarm all go through the same ``finally``
that stops every child process. ``--only`` is for iterating on a few scenarios: it prints the
report instead of overwriting the committed REPORT.md; ``--render`` rewrites REPORT.md from a
results file without measuring (after editing bench/NOTES.md).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from types import FrameType

from bench.credentials import client_headers
from bench.drivers import LoadError, pick_driver
from bench.report import NOTES, console_summary, render_markdown
from bench.results import RunResult
from bench.runner import Plan, run
from bench.scenarios import names, select
from bench.targets import evaluate

HERE = Path(__file__).resolve().parent


class BudgetExceeded(Exception):
    """The hard time limit passed: abort, clean up, report nothing half-measured."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 s per scenario, no warm-up")
    parser.add_argument(
        "--only",
        action="append",
        metavar="SCENARIO",
        help=f"run only these (repeat or comma-separate): {', '.join(names())}",
    )
    parser.add_argument("--loadgen", choices=("auto", "wrk", "builtin"), default="auto")
    parser.add_argument("--duration", type=float, help="measured seconds per scenario")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--report", type=Path, default=HERE / "REPORT.md")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "latest.json")
    parser.add_argument("--keep", action="store_true", help="keep the run directory (logs)")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="run nothing: rewrite the report from a results file (after editing NOTES.md)",
    )
    return parser


def _abort(signum: int, frame: FrameType | None) -> None:
    if signum == signal.SIGALRM:
        raise BudgetExceeded("the benchmark exceeded its hard time limit")
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.render:
        result = RunResult.from_json(json.loads(args.render.read_text()))
        _write_report(result, args.report)
        return 0
    only = [name for value in args.only or [] for name in value.split(",") if name]
    try:
        specs, cold_gets = select(only)
        plan = Plan.quick() if args.quick else Plan.full()
        plan = replace(plan, connections=args.connections, threads=args.threads)
        if args.duration:
            plan = replace(plan, duration=args.duration)
        driver = pick_driver(
            args.loadgen,
            connections=plan.connections,
            threads=plan.threads,
            headers=client_headers(),
        )
    except (ValueError, LoadError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="veneer-bench-"))
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(signum, _abort)  # even where SIGINT was inherited as ignored
    signal.alarm(int(plan.hard_limit_s))
    print(f"bench: {plan.mode} run with {driver.describe()}; logs in {workdir}", file=sys.stderr)
    failed = True
    try:
        result = run(plan, specs, cold_gets, driver, workdir)
        failed = False
    except KeyboardInterrupt:
        print("bench: interrupted; every process stopped", file=sys.stderr)
        return 130
    except BudgetExceeded as exc:
        print(f"bench: {exc}; every process stopped", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
        if args.keep or failed:
            print(f"bench: logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    json_path = args.json if not only else args.json.with_name("only.json")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    document = {**result.to_json(), "targets": [asdict(v) for v in evaluate(result)]}
    json_path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"bench: wrote {json_path}", file=sys.stderr)
    _write_report(result, None if only else args.report)
    return 0


def _write_report(result: RunResult, path: Path | None) -> None:
    """REPORT.md at ``path`` (None: print it instead), and the targets on the console."""
    verdicts = evaluate(result)
    notes = NOTES.read_text() if NOTES.exists() else None
    markdown = render_markdown(result, verdicts, notes)
    if path is None:
        print(markdown)
    else:
        path.write_text(markdown)
        print(f"bench: wrote {path}", file=sys.stderr)
    print(console_summary(verdicts))


if __name__ == "__main__":
    raise SystemExit(main())
