"""Plugin discovery: every package under `plugins/` and the entry-point group `flowbot.plugins`.

Importing a plugin registers its actions, jobs and migrations. The engine never imports
a plugin by name; it only walks what is installed.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from importlib.metadata import entry_points

log = logging.getLogger("flowbot.plugins")

ENTRY_POINT_GROUP = "flowbot.plugins"
BUILTIN_PACKAGE = "plugins"
# Engine modules that register jobs of their own; imported before any plugin.
ENGINE_JOB_MODULES = (
    "engine.jobs.runner",
    "engine.conversations",
    "engine.timeouts",
    "engine.channels.outbound",
)

_loaded: list[str] | None = None


def load_plugins() -> list[str]:
    """Import every plugin once; returns the module names loaded, in load order."""
    global _loaded
    if _loaded is not None:
        return list(_loaded)
    for module in ENGINE_JOB_MODULES:
        importlib.import_module(module)
    names: list[str] = []
    try:
        package = importlib.import_module(BUILTIN_PACKAGE)
    except ModuleNotFoundError:
        package = None
    if package is not None:
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if info.ispkg:
                name = f"{BUILTIN_PACKAGE}.{info.name}"
                importlib.import_module(name)
                names.append(name)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        entry.load()
        names.append(entry.value)
    _loaded = names
    log.debug("plugins loaded", extra={"plugins": names})
    return list(names)
