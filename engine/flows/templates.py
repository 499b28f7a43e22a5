"""Reply templates: `templates/<locale>/<name>.j2`, rendered in the sandbox.

A template missing in the contact's locale falls back to the default locale (`en`), one
template at a time, so a Hindi set can be translated gradually. Which file that is gets
looked up again at most every `FLOW_RELOAD_CHECK_SECONDS` (a render must not stat files).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import FileSystemLoader, TemplateSyntaxError

from engine import defaults
from engine.flows import sandbox

SUFFIX = ".j2"
LOOKUP_SECONDS = defaults.FLOW_RELOAD_CHECK_SECONDS


class RenderError(Exception):
    """A template could not be rendered (e.g. an undefined variable); names the template."""

    def __init__(self, template: str, message: str) -> None:
        super().__init__(f"template {template}: {message}")
        self.template = template
        self.message = message


@dataclass(frozen=True)
class TemplateProblem:
    path: Path
    line: int
    message: str


class TemplateSet:
    def __init__(self, root: Path, default_locale: str = "en") -> None:
        self.root = Path(root)
        self.default_locale = default_locale
        self.env = sandbox.environment(FileSystemLoader(str(self.root)))
        self._inline: dict[str, jinja2.Template] = {}
        self._lock = threading.Lock()
        # (name, locale) → when looked up, and the file with its loader name (or None)
        self._files: dict[tuple[str, str], tuple[float, tuple[Path, str] | None]] = {}

    def locales(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))

    def names(self, locale: str) -> list[str]:
        folder = self.root / locale
        if not folder.is_dir():
            return []
        return sorted(p.name[: -len(SUFFIX)] for p in folder.glob(f"*{SUFFIX}"))

    def path(self, name: str, locale: str) -> Path | None:
        """The file used for `name` in `locale`, after fallback; None when there is none."""
        file = self._file(name, locale)
        return None if file is None else file[0]

    def _file(self, name: str, locale: str) -> tuple[Path, str] | None:
        now = time.monotonic()
        looked_up = self._files.get((name, locale))
        if looked_up is not None and now - looked_up[0] < LOOKUP_SECONDS:
            return looked_up[1]
        found = self._find(name, locale)
        self._files[(name, locale)] = (now, found)
        return found

    def _find(self, name: str, locale: str) -> tuple[Path, str] | None:
        for candidate in dict.fromkeys((locale, self.default_locale)):
            path = self.root / candidate / f"{name}{SUFFIX}"
            if path.is_file():
                return path, path.relative_to(self.root).as_posix()
        return None

    def has(self, name: str, locale: str) -> bool:
        return self.path(name, locale) is not None

    def render(self, name: str, locale: str, context: Mapping[str, Any]) -> str:
        file = self._file(name, locale)
        if file is None:
            raise RenderError(name, f"no template {name}{SUFFIX} in {locale} or {self.default_locale}")
        relative = file[1]
        try:
            template = self.env.get_template(relative)
        except TemplateSyntaxError as error:
            raise RenderError(relative, f"line {error.lineno}: {error.message}") from error
        return _rendered(template, context, relative)

    def render_string(self, source: str, context: Mapping[str, Any], origin: str) -> str:
        try:
            with self._lock:
                template = self._inline.get(source)
                if template is None:
                    template = self._inline[source] = self.env.from_string(source)
        except TemplateSyntaxError as error:
            raise RenderError(origin, f"line {error.lineno}: {error.message}") from error
        return _rendered(template, context, origin)

    def problems(self) -> list[TemplateProblem]:
        """Syntax errors in every template file (unknown filters included)."""
        found = []
        for locale in self.locales():
            for path in sorted((self.root / locale).glob(f"*{SUFFIX}")):
                try:
                    self.env.parse(path.read_text(encoding="utf-8"))
                except TemplateSyntaxError as error:
                    found.append(TemplateProblem(path, error.lineno or 1, error.message or str(error)))
        return found


def _rendered(template: jinja2.Template, context: Mapping[str, Any], origin: str) -> str:
    try:
        return template.render(context).strip()
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, sandbox.EvaluationError) as error:
        raise RenderError(origin, str(error)) from error
