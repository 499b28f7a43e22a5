"""Where a command finds flows and templates: --flows/--templates, else the environment,
else ./flows and ./templates."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from engine import defaults


def flow_dirs(args: argparse.Namespace) -> tuple[Path, Path]:
    flows = getattr(args, "flows", None) or os.environ.get("FLOWBOT_FLOWS_DIR") or defaults.FLOWS_DIR
    templates = (
        getattr(args, "templates", None) or os.environ.get("FLOWBOT_TEMPLATES_DIR") or defaults.TEMPLATES_DIR
    )
    return Path(flows), Path(templates)
