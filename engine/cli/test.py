"""`flowbot test [PATHS]`: run the YAML conversation tests, in process, with no database.

PATHS are test files or folders (default: the flows folder's `tests/`). Each failure is
printed as `file:line: test: step N: expected …, got …`; the last line is always
`N passed, N failed`. Exit status 1 when anything failed (or the flows do not validate).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli import add_flow_options
from engine.cli._flows import flow_dirs
from engine.plugins import load_plugins


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("test", help="run the YAML conversation tests (flows/tests/)")
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="test files or folders (default: FLOWS/tests)"
    )
    add_flow_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.actions import registry
    from engine.flows.conversation_tests import run_paths
    from engine.flows.flowset import FlowSet, FlowSetInvalid

    load_plugins()
    flows_dir, templates_dir = flow_dirs(args)
    paths = args.paths or [flows_dir / "tests"]
    try:
        flowset = FlowSet.load(flows_dir, templates_dir, registry)
    except FlowSetInvalid as invalid:
        print(invalid)
        print(f"0 passed, {_count_tests(paths)} failed")
        return 1
    report = run_paths(paths, flowset, registry)
    print(report.text())
    return 0 if report.failed == 0 else 1


def _count_tests(paths: list[Path] | list[str]) -> int:
    """How many tests the files hold, for the summary line when none can run."""
    from engine.flows.conversation_tests import test_files
    from engine.flows.yaml_loader import load_yaml

    count = 0
    for path in test_files(paths):
        try:
            data = load_yaml(Path(path).read_text(encoding="utf-8"), str(path)).data
            count += len(data.get("tests") or [])
        except Exception:  # unreadable files count as one failed test
            count += 1
    return max(count, 1)
