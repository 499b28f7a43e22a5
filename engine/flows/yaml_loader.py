"""Reading flow YAML the way analysts expect, with every node's position kept.

- YAML 1.2 booleans: only `true`/`false` are booleans. PyYAML (YAML 1.1) would read `on:`,
  `yes`, `no`, `off` as booleans — flows use `on:` and `match: [yes, no]`.
- A duplicate key is an error naming both lines (PyYAML silently keeps the last one).
- `LoadedDocument.position(path)` gives the 1-based line and column of any node, so every
  validation message points at the analyst's own line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path = Sequence[str | int]


class YamlError(Exception):
    """A file that is not valid YAML (or has a duplicate key), with its position."""

    def __init__(self, filename: str, line: int, column: int, message: str) -> None:
        super().__init__(f"{filename}:{line}:{column}: {message}")
        self.filename = filename
        self.line = line
        self.column = column
        self.message = message


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """SafeLoader with YAML 1.2 booleans and duplicate keys refused."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_mapping(loader: _Loader, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, Node] = {}
    for key_node, _ in node.value:
        key = key_node.value if isinstance(key_node, ScalarNode) else id(key_node)
        if key in seen:
            first = seen[key].start_mark.line + 1
            raise _Duplicate(key_node, f"duplicate key {key!r} (first defined at line {first})")
        seen[key] = key_node
    return yaml.SafeLoader.construct_mapping(loader, node, deep=True)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


class _Duplicate(Exception):
    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


@dataclass
class LoadedDocument:
    data: Any
    root: Node | None
    filename: str

    def node(self, path: Path) -> tuple[Node | None, Node | None]:
        """(value node, key node) at `path`, or of the nearest existing ancestor."""
        node, key_node = self.root, None
        for part in path:
            if isinstance(node, MappingNode):
                for k, v in node.value:
                    if isinstance(k, ScalarNode) and k.value == str(part):
                        node, key_node = v, k
                        break
                else:
                    return node, key_node
            elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node, key_node = node.value[part], None
            else:
                return node, key_node
        return node, key_node

    def position(self, path: Path) -> tuple[int, int]:
        """1-based (line, column) of the node at `path` (or its nearest ancestor)."""
        node, _ = self.node(path)
        return _mark(node)

    def key_position(self, path: Path) -> tuple[int, int]:
        """1-based (line, column) of the key of the mapping entry at `path`."""
        node, key_node = self.node(path)
        return _mark(key_node or node)


def _mark(node: Node | None) -> tuple[int, int]:
    if node is None:
        return 1, 1
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_yaml(text: str, filename: str) -> LoadedDocument:
    """Parse one YAML document; raise `YamlError` with the line of the problem."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = None if root is None else loader.construct_document(root)
    except _Duplicate as duplicate:
        line, column = _mark(duplicate.node)
        raise YamlError(filename, line, column, duplicate.message) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = error.problem or "invalid YAML"
        if error.context:
            started = error.context_mark.line + 1 if error.context_mark else None
            where = f" that starts at line {started}" if started and started != line else ""
            problem = f"{problem} ({error.context}{where})"
        raise YamlError(filename, line, column, problem) from None
    except yaml.YAMLError as error:
        raise YamlError(filename, 1, 1, str(error)) from None
    finally:
        loader.dispose()
    return LoadedDocument(data, root, filename)
