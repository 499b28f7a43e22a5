"""`flowbot graph FLOW --format mermaid|dot`: draw a flow's states and transitions."""

from __future__ import annotations

import argparse

from engine.cli import add_flow_options
from engine.cli._flows import flow_dirs
from engine.flows.graph import graph
from engine.flows.validation import flow_files
from engine.flows.yaml_loader import YamlError, load_yaml


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("graph", help="draw a flow as a Mermaid or Graphviz diagram")
    parser.add_argument("flow", help="the flow id (its file name without .yaml)")
    parser.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    add_flow_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    flows_dir, _ = flow_dirs(args)
    files = {path.stem: path for path in flow_files(flows_dir)}
    if args.flow not in files:
        print(
            f"flowbot graph: no flow '{args.flow}' in {flows_dir} "
            f"(flows: {', '.join(sorted(files)) or 'none'})"
        )
        return 1
    try:
        data = load_yaml(files[args.flow].read_text(encoding="utf-8"), str(files[args.flow])).data
    except YamlError as error:
        print(error)
        return 1
    print(graph(data, args.format), end="")
    return 0
