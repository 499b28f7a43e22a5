"""The `flowbot` command. Each sub-command lives in its own module under engine/cli/.

A command module exposes `register(subparsers)`, which adds its parser and sets
`func` to a callable taking the parsed arguments and returning the exit code. Plugins add
commands the same way, by decorating their `register` with `@plugin_command`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

# Modules under engine.cli, in the order `flowbot --help` lists them.
COMMAND_MODULES = (
    "serve",
    "worker",
    "scheduler",
    "db",
    "jobs",
    "conversations",
    "chat",
    "validate",
    "test",
    "graph",
)

Register = Callable[[argparse._SubParsersAction], None]
_plugin_commands: list[Register] = []


def plugin_command(register: Register) -> Register:
    """Add a plugin's sub-command: `register(subparsers)` as for the engine's own commands."""
    _plugin_commands.append(register)
    return register


def build_parser() -> argparse.ArgumentParser:
    from engine.plugins import load_plugins

    parser = argparse.ArgumentParser(
        prog="flowbot", description="A declarative conversation engine for WhatsApp commerce."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"engine.cli.{name}").register(subparsers)
    load_plugins()
    for register in _plugin_commands:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from engine.config import ConfigError

    try:
        args = build_parser().parse_args(argv)
        _export_flow_options(args)
        return int(args.func(args) or 0)
    except ConfigError as error:
        print(f"flowbot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _export_flow_options(args: argparse.Namespace) -> None:
    """--flows/--templates win over the environment, for this process and its children."""
    if getattr(args, "flows", None):
        os.environ["FLOWBOT_FLOWS_DIR"] = args.flows
    if getattr(args, "templates", None):
        os.environ["FLOWBOT_TEMPLATES_DIR"] = args.templates


def add_flow_options(parser: argparse.ArgumentParser) -> None:
    """`--flows` / `--templates`, defaulting to FLOWBOT_FLOWS_DIR / FLOWBOT_TEMPLATES_DIR."""
    parser.add_argument(
        "--flows", metavar="DIR", help="flows folder (env FLOWBOT_FLOWS_DIR, default ./flows)"
    )
    parser.add_argument(
        "--templates", metavar="DIR", help="templates folder (env FLOWBOT_TEMPLATES_DIR, default ./templates)"
    )
