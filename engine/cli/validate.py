"""`flowbot validate [PATHS]`: report every problem in flows and templates.

Exit 1 when there are errors, 0 with warnings only. `--format json` prints a list of
problems (path, line, column, severity, message, code) for editors and CI.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.actions import registry
from engine.cli import add_flow_options
from engine.cli._flows import flow_dirs
from engine.flows.validation import validate_project
from engine.plugins import load_plugins


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help="check flows and templates; report every mistake")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="only report problems in these files")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    add_flow_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    load_plugins()
    flows_dir, templates_dir = flow_dirs(args)
    paths = [Path(p) for p in args.paths] or None
    problems = validate_project(flows_dir, templates_dir, registry, paths)
    errors = sum(p.severity == "error" for p in problems)
    if args.format == "json":
        print(json.dumps([p.as_dict() for p in problems], ensure_ascii=False, indent=2))
    else:
        for problem in problems:
            print(problem.format())
        warnings = len(problems) - errors
        print(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}")
    return 1 if errors else 0
