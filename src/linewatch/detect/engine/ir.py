"""The engine's intermediate form of a Sigma detection: a small boolean tree over field tests.

pySigma hands us its condition tree with modifiers already applied (wildcards, base64, windash
expansions…). We translate that once into these plain nodes so that every later layer — field
renaming per log source, optimisation, literal extraction for the pre-filter, code generation — works
on one small, well-typed vocabulary instead of pySigma's many classes, and can be tested alone.

String operands of case-insensitive tests are stored lower-cased: the evaluator compares them with
lower-cased event values, which is how Sigma's default case-insensitivity is implemented.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

# Test operations. String operations compare a (lower-cased unless `cased`) string value.
EQ = "eq"  # value == arg
PREFIX = "prefix"  # value.startswith(arg)
SUFFIX = "suffix"  # value.endswith(arg)
CONTAINS = "contains"  # arg in value
GLOB = "glob"  # arg is a strings.Glob: a pattern with inner wildcards
ANY = "any"  # a lone `*`: the field has some (string) value, even empty
STRING_OPS = frozenset({EQ, PREFIX, SUFFIX, CONTAINS, GLOB, ANY})
# Other operations read the raw value.
REGEX = "regex"  # arg is a strings.Regex
CIDR = "cidr"  # arg is a tuple of ipaddress networks
CMP = "cmp"  # arg is (operator, float): lt, lte, gt, gte, neq
EXISTS = "exists"  # arg is a bool: field present (True) or absent (False)
NULL = "null"  # field absent or None
FIELDREF = "fieldref"  # arg is (other field, mode) with mode one of eq/prefix/suffix/contains
TIMEPART = "timepart"  # arg is (part name, int): the value parsed as a timestamp, one part compared


class Node:
    """Base of the boolean tree. Nodes are immutable and hashable so that rules can share them."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Const(Node):
    value: bool


TRUE = Const(True)
FALSE = Const(False)


@dataclass(frozen=True, slots=True)
class Test(Node):
    """One comparison of one event field (or, with `field=None`, of any event value: a Sigma keyword)."""

    field: str | None
    op: str
    arg: Any = None
    cased: bool = False


@dataclass(frozen=True, slots=True)
class AnyOf(Node):
    """An OR of plain string tests on one field, merged so it runs as set/tuple checks in C.

    `contains` keeps the rule's order; it is a tuple because short lists are emitted inline and long
    ones go through a small Aho-Corasick automaton.
    """

    field: str | None
    cased: bool
    equals: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class And(Node):
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or(Node):
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not(Node):
    child: Node


def and_(*children: Node) -> Node:
    return children[0] if len(children) == 1 else And(tuple(children))


def or_(*children: Node) -> Node:
    return children[0] if len(children) == 1 else Or(tuple(children))


def walk(node: Node) -> list[Node]:
    """All nodes of a tree, parents before children."""
    out: list[Node] = []
    stack = [node]
    while stack:
        n = stack.pop()
        out.append(n)
        if isinstance(n, (And, Or)):
            stack.extend(reversed(n.children))
        elif isinstance(n, Not):
            stack.append(n.child)
    return out


def fields_of(node: Node) -> frozenset[str]:
    """Every event key a tree reads (keywords read all of them and are not listed)."""
    names: set[str] = set()
    for n in walk(node):
        if isinstance(n, (Test, AnyOf)) and n.field is not None:
            names.add(n.field)
            if isinstance(n, Test) and n.op == FIELDREF:
                names.add(n.arg[0])
    return frozenset(names)


def rename(node: Node, mapping: Mapping[str, str] | Callable[[str], str]) -> Node:
    """The same tree reading other event keys: how a log source's field aliases are applied.

    A process_creation rule is written with Sysmon names (`Image`); on a Security 4688 event the same
    rule must read `NewProcessName`. Renaming the tree per route keeps one parse for both.
    """
    get = mapping if callable(mapping) else (lambda f: mapping.get(f, f))

    def visit(n: Node) -> Node:
        if isinstance(n, Test):
            if n.field is None:
                return n
            if n.op == FIELDREF:
                other, mode = n.arg
                return replace(n, field=get(n.field), arg=(get(other), mode))
            return replace(n, field=get(n.field))
        if isinstance(n, AnyOf):
            return n if n.field is None else replace(n, field=get(n.field))
        if isinstance(n, And):
            return And(tuple(visit(c) for c in n.children))
        if isinstance(n, Or):
            return Or(tuple(visit(c) for c in n.children))
        if isinstance(n, Not):
            return Not(visit(n.child))
        return n

    return visit(node)
