"""Read YAML keeping the line of every value, so errors can say where they are.

PyYAML's composer gives nodes with their marks; we build plain Python values from them and a
map from each YAML path (e.g. `assets[3].interfaces[0].ip`) to its 1-based line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from linewatch.errors import InputError

try:  # the C loader is several times faster on large site files
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

Path_ = tuple[str | int, ...]


def format_path(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


@dataclass
class Located:
    """A loaded document with the line of each path in it."""

    source: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int:
        """The line of `path`, or of its nearest enclosing value that has one."""
        path = tuple(path)
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)

    def error(self, path: Path_, message: str) -> InputError:
        return InputError(self.source, f"{self.line_of(path)}: {format_path(tuple(path))}", message)


class _Builder:
    def __init__(self) -> None:
        self.constructor = yaml.constructor.SafeConstructor()
        self.lines: dict[Path_, int] = {}

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self.constructor.construct_object(key_node)
                if not isinstance(key, str):
                    key = str(key)
                if key in result:
                    raise _Duplicate(path + (key,), key_node.start_mark.line + 1)
                result[key] = self.build(value_node, path + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        # Dates stay strings: the schema and the importer parse them (an impossible date such as
        # 2026-02-30 becomes an error with its place, not a crash), and export writes them back.
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value
        return self.constructor.construct_object(node)


class _Duplicate(Exception):
    def __init__(self, path: Path_, line: int) -> None:
        self.path, self.line = path, line


def load_text(text: str, source: str) -> Located:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"{mark.line + 1}" if mark else ""
        raise InputError(source, line, f"YAML syntax error: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise InputError(source, "", f"YAML error: {exc}") from None
    if node is None:
        raise InputError(source, "1", "the file is empty")
    builder = _Builder()
    try:
        data = builder.build(node, ())
    except _Duplicate as dup:
        raise InputError(source, f"{dup.line}: {format_path(dup.path)}", "duplicate key") from None
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise InputError(source, f"{mark.line + 1}" if mark else "", str(exc.problem)) from None
    return Located(source, data, builder.lines)


def load_file(path: str | Path) -> Located:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(str(path), "", "no such file") from None
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"byte {exc.start}", "not UTF-8 text") from None
    except OSError as exc:
        raise InputError(str(path), "", exc.strerror or str(exc)) from None
    return load_text(text, str(path))
