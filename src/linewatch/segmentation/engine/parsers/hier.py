"""Hierarchical configurations (Junos and PAN-OS `{ ... }` text, PAN-OS XML) flattened into `set` statements.

Both vendors print a configuration either as a tree or as `set a b c` lines meaning the same. The parsers work on
the flat form: a list of (line, words) where words is the full path of a leaf, `[ a b ]` lists kept as words.
"""

from __future__ import annotations

import re

from linewatch.errors import InputError

TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|\[|\]|\{|\}|;|[^\s\[\]{};"\']+')


def words(line: str) -> list[str]:
    return [t[1:-1] if t[:1] in "\"'" and len(t) >= 2 else t for t in TOKEN.findall(line)]


def set_lines(text: str, source: str) -> tuple[list[tuple[int, list[str]]], set[int]]:
    """`set ...` lines as (line, words after `set`); other non-comment lines raise. Returns (statements, comment
    and blank lines)."""
    out, skipped = [], set()
    for n, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        if not s or s.startswith(("#", "//")):
            skipped.add(n)
            continue
        w = words(s)
        if w[0] in ("set", "activate"):
            out.append((n, w[1:]))
        else:
            out.append((n, ["!" + w[0], *w[1:]]))  # deactivate/delete/other verbs: the parser reports them
    return out, skipped


def flatten(text: str, source: str) -> tuple[list[tuple[int, list[str]]], set[int]]:
    """Curly-brace configuration to set statements. Returns (statements, structural lines: braces, comments)."""
    out: list[tuple[int, list[str]]] = []
    structure: set[int] = set()
    path: list[list[str]] = []
    cur: list[str] = []
    cur_line = 0
    in_comment = False
    for n, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        if in_comment:
            structure.add(n)
            if "*/" in s:
                in_comment = False
            continue
        if s.startswith("/*"):
            structure.add(n)
            in_comment = "*/" not in s
            continue
        if not s or s.startswith("#"):
            structure.add(n)
            continue
        for t in TOKEN.findall(s):
            if t == "{":
                path.append(cur)
                structure.add(n)
                cur = []
            elif t == "}":
                if cur:
                    out.append((cur_line, [w for p in path for w in p] + cur))
                    cur = []
                if not path:
                    raise InputError(source, str(n), "unbalanced '}'")
                path.pop()
                structure.add(n)
            elif t == ";":
                if cur:
                    out.append((cur_line, [w for p in path for w in p] + cur))
                else:
                    structure.add(n)
                cur = []
            else:
                if not cur:
                    cur_line = n
                cur.append(t[1:-1] if t[:1] in "\"'" and len(t) >= 2 else t)
    if path:
        raise InputError(source, str(len(text.splitlines())), "unterminated block: missing '}'")
    if cur:
        raise InputError(source, str(cur_line), f"statement without ';': {' '.join(cur)[:80]}")
    # a line that only opened a block is structure, but it also named the path: count it accounted
    return out, structure


def values(w: list[str], i: int) -> list[str]:
    """The value(s) at w[i]: one word or a `[ a b ]` list."""
    if i >= len(w):
        return []
    if w[i] == "[":
        j = w.index("]", i) if "]" in w[i:] else len(w)
        return w[i + 1:j]
    return [w[i]]


def xml_statements(text: str, source: str) -> tuple[list[tuple[int, list[str]]], set[int]]:
    """PAN-OS XML (`<config>...`) to set statements, with the line of each leaf element (parsed with defusedxml)."""
    from defusedxml.ElementTree import DefusedXMLParser, ParseError

    out: list[tuple[int, list[str]]] = []

    class Target:
        def __init__(self) -> None:
            self.stack: list[tuple[str, int, dict, list[bool]]] = []
            self.text: list[str] = []

        def start(self, tag, attrib):
            line = parser.parser.CurrentLineNumber
            if self.stack:
                self.stack[-1][3][0] = True
            self.stack.append((tag, line, dict(attrib), [False]))
            self.text = []

        def data(self, d):
            self.text.append(d)

        def end(self, tag):
            name, line, attrib, has_child = self.stack.pop()
            path = []
            for t, _ln, a, _c in self.stack:
                if t == "entry" and "name" in a:
                    path.append(a["name"])
                else:
                    path.append(t)
            value = "".join(self.text).strip()
            self.text = []
            if name == "member":
                out.append((line, [*path, value]))
            elif name == "entry" and "name" in attrib:
                if not has_child[0]:  # <ip><entry name="10.0.0.1/24"/></ip>: the name is the value
                    out.append((line, [*path, attrib["name"]]))
            elif value:
                out.append((line, [*path, name, value]))

        def close(self):
            return None

    parser = DefusedXMLParser(target=Target())
    try:
        parser.feed(text)
        parser.close()
    except ParseError as exc:
        line = getattr(exc, "position", (0, 0))[0]
        raise InputError(source, str(line), f"not well-formed XML: {exc}") from None
    # a list's members arrive one per statement; the parsers add list values up, as `set` does
    structure = set(range(1, text.count("\n") + 2)) - {ln for ln, _ in out}
    return out, structure
