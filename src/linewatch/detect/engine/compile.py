"""Compile layer: pySigma's condition tree → IR → optimised IR → one Python function per rule.

Why generated code rather than nested closures: a closure per tree node costs a Python call per node
per event (~60 ns each); a SigmaHQ rule has tens of nodes, and a routed event still meets hundreds of
rules. Emitting one expression per rule lets CPython's own short-circuit `and`/`or` do the walking,
and OR-lists of literals on one field become a single `in frozenset`, `str.startswith(tuple)` or
`str.endswith(tuple)` call in C. The generated source is kept on the compiled rule (`source`) so a
surprising match can be read, not guessed at.

Only values that are literals (strings, numbers) are written into the source, with `repr`; everything
else (sets, regexes, networks, matchers) is passed in the function's namespace, so rule text can
never become code.

Evaluation contract of a compiled predicate `pred(e, l)`:
- `e` is the flat event (`Mapping[str, Any]`), read for raw values (regex, cased, numbers, CIDR…);
- `l` is the same event with every value as a lower-cased `str` (lists as tuples of them) and `None`
  values dropped — see `normalize()`. Case-insensitive tests read `l`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)

from . import ir
from .modifiers import Unsupported, ValueContext, map_fields, value_test
from .strings import CONTAINS_AUTOMATON_MIN, ContainsAny

Predicate = Callable[[Mapping[str, Any], Mapping[str, Any]], bool]


# ---------------------------------------------------------------------------------------------------
# pySigma condition tree → IR


def condition_to_ir(tree: Any, ctx: ValueContext) -> ir.Node:
    """Translate one parsed pySigma condition (already resolved to field/value leaves)."""
    if tree is None:  # every detection item was dropped by a transformation: nothing can match
        return ir.FALSE
    if isinstance(tree, ConditionAND):
        return ir.And(tuple(condition_to_ir(a, ctx) for a in tree.args))
    if isinstance(tree, ConditionOR):
        return ir.Or(tuple(condition_to_ir(a, ctx) for a in tree.args))
    if isinstance(tree, ConditionNOT):
        return ir.Not(condition_to_ir(tree.args[0], ctx))
    if isinstance(tree, ConditionFieldEqualsValueExpression):
        return map_fields(value_test(tree.field, tree.value, ctx), ctx)
    if isinstance(tree, ConditionValueExpression):
        return value_test(None, tree.value, ctx)
    raise Unsupported(f"condition element {type(tree).__name__}")


def detection_to_ir(detections: Any, ctx: ValueContext) -> ir.Node:
    """A rule's (or filter's) whole detection: its conditions are ORed, as the spec says."""
    return ir.or_(*(condition_to_ir(c.parsed, ctx) for c in detections.parsed_condition))


# ---------------------------------------------------------------------------------------------------
# Optimisation

_MERGEABLE = frozenset({ir.EQ, ir.PREFIX, ir.SUFFIX, ir.CONTAINS})
_OP_COST = {
    ir.EQ: 1,
    ir.ANY: 1,
    ir.EXISTS: 1,
    ir.NULL: 1,
    ir.PREFIX: 2,
    ir.SUFFIX: 2,
    ir.CONTAINS: 3,
    ir.FIELDREF: 3,
    ir.CMP: 4,
    ir.GLOB: 5,
    ir.CIDR: 8,
    ir.TIMEPART: 10,
    ir.REGEX: 20,
}


def cost(node: ir.Node) -> float:
    """A rough evaluation cost, used to run cheap tests first inside an AND (all tests are pure)."""
    if isinstance(node, ir.Test):
        c = _OP_COST[node.op] + (2 if node.cased else 0)
        return c * 10 if node.field is None else c
    if isinstance(node, ir.AnyOf):
        c = 1 + 0.3 * (len(node.prefixes) + len(node.suffixes)) + min(len(node.contains), CONTAINS_AUTOMATON_MIN)
        return c * 10 if node.field is None else c
    if isinstance(node, (ir.And, ir.Or)):
        return sum(cost(c) for c in node.children)
    if isinstance(node, ir.Not):
        return cost(node.child)
    return 0


def _dedupe(nodes: Iterable[ir.Node]) -> list[ir.Node]:
    seen: set[ir.Node] = set()
    out = []
    for n in nodes:
        if n not in seen:
            seen.add(n)
            out.append(n)
    return out


def _merge_or(children: list[ir.Node]) -> list[ir.Node]:
    """Merge same-field literal tests of an OR into one AnyOf per (field, cased)."""
    groups: dict[tuple[str | None, bool], list[ir.Node]] = {}
    order: list[object] = []
    for c in children:
        if (isinstance(c, ir.Test) and c.op in _MERGEABLE) or isinstance(c, ir.AnyOf):
            key = (c.field, c.cased)
            if key not in groups:
                groups[key] = []
                order.append(key)
            groups[key].append(c)
        else:
            order.append(c)
    out: list[ir.Node] = []
    for item in order:
        if not isinstance(item, tuple):
            out.append(item)  # type: ignore[arg-type]
            continue
        members = groups[item]
        if len(members) == 1:
            out.append(members[0])
            continue
        eq: set[str] = set()
        pre: list[str] = []
        suf: list[str] = []
        con: list[str] = []
        for m in members:
            if isinstance(m, ir.AnyOf):
                eq |= m.equals
                pre += m.prefixes
                suf += m.suffixes
                con += m.contains
            elif m.op == ir.EQ:
                eq.add(m.arg)
            elif m.op == ir.PREFIX:
                pre.append(m.arg)
            elif m.op == ir.SUFFIX:
                suf.append(m.arg)
            else:
                con.append(m.arg)
        # A value containing a shorter literal makes longer ones containing it redundant for
        # `contains`; for prefixes/suffixes likewise. Dropping them keeps the C calls short.
        con = _drop_subsumed(con, lambda short, long: short in long)
        pre = _drop_subsumed(pre, lambda short, long: long.startswith(short))
        suf = _drop_subsumed(suf, lambda short, long: long.endswith(short))
        field, cased = item
        if len(eq) + len(pre) + len(suf) + len(con) == 1:  # merged down to one test: keep it plain
            op, arg = next(
                (op, lits[0])
                for op, lits in ((ir.EQ, list(eq)), (ir.PREFIX, pre), (ir.SUFFIX, suf), (ir.CONTAINS, con))
                if lits
            )
            out.append(ir.Test(field, op, arg, cased))
            continue
        out.append(ir.AnyOf(field, cased, frozenset(eq), tuple(pre), tuple(suf), tuple(con)))
    return out


def _drop_subsumed(literals: list[str], covers: Callable[[str, str], bool]) -> list[str]:
    unique = list(dict.fromkeys(literals))
    if len(unique) > 200:  # quadratic check; not worth it on huge lists
        return unique
    return [x for x in unique if not any(y != x and covers(y, x) for y in unique)]


def optimize(node: ir.Node) -> ir.Node:
    """Flatten, fold constants, merge OR-lists per field and order AND children by cost."""
    if isinstance(node, ir.And):
        kids: list[ir.Node] = []
        for c in (optimize(c) for c in node.children):
            if isinstance(c, ir.And):
                kids.extend(c.children)
            elif c == ir.TRUE:
                continue
            elif c == ir.FALSE:
                return ir.FALSE
            else:
                kids.append(c)
        kids = _dedupe(kids)
        if not kids:
            return ir.TRUE
        kids.sort(key=cost)
        return kids[0] if len(kids) == 1 else ir.And(tuple(kids))
    if isinstance(node, ir.Or):
        kids = []
        for c in (optimize(c) for c in node.children):
            if isinstance(c, ir.Or):
                kids.extend(c.children)
            elif c == ir.FALSE:
                continue
            elif c == ir.TRUE:
                return ir.TRUE
            else:
                kids.append(c)
        kids = _merge_or(_dedupe(kids))
        if not kids:
            return ir.FALSE
        return kids[0] if len(kids) == 1 else ir.Or(tuple(kids))
    if isinstance(node, ir.Not):
        child = optimize(node.child)
        if isinstance(child, ir.Not):
            return child.child
        if isinstance(child, ir.Const):
            return ir.Const(not child.value)
        return ir.Not(child)
    return node


# ---------------------------------------------------------------------------------------------------
# Runtime helpers the generated code calls for the rarer tests


def _multi(values: Any, test: Callable[[str], bool]) -> bool:
    """A list-valued field (e.g. classic event logs' `Data`) matches when any element does."""
    return values.__class__ is tuple and any(test(x) for x in values)


def _kw(l: Mapping[str, Any], test: Callable[[str], bool]) -> bool:  # noqa: E741 - `l` as in the contract
    """Keyword search: any value of the event."""
    for v in l.values():
        if v.__class__ is str:
            if test(v):
                return True
        elif any(test(x) for x in v):
            return True
    return False


def _raw_strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if value.__class__ is str:
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(str(x) for x in value if x is not None)
    if isinstance(value, bool):
        return ("true" if value else "false",)
    return (str(value),)


def _cased(value: Any, test: Callable[[str], bool]) -> bool:
    if value.__class__ is str:
        return test(value)
    return any(test(s) for s in _raw_strings(value))


def _kw_raw(e: Mapping[str, Any], test: Callable[[str], bool]) -> bool:
    return any(test(s) for v in e.values() for s in _raw_strings(v))


def _rx(value: Any, regex: Callable[[str], bool]) -> bool:
    if value.__class__ is str:
        return regex(value)
    return any(regex(s) for s in _raw_strings(value))


@lru_cache(maxsize=4096)
def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]").split("%")[0])
    except ValueError:
        return None


def _cidr(value: Any, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    for s in _raw_strings(value):
        addr = _ip(s)
        if addr is not None:
            for net in networks:
                if addr.version == net.version and addr in net:
                    return True
    return False


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        s = value.strip()
        try:
            return float(int(s, 16)) if s[:2].lower() == "0x" else float(s)
        except ValueError:
            return None
    return None


def _cmp(value: Any, op: str, number: float) -> bool:
    values = value if isinstance(value, (list, tuple)) else (value,)
    for v in values:
        x = _number(v)
        if x is None:
            continue
        if (
            (op == "lt" and x < number)
            or (op == "lte" and x <= number)
            or (op == "gt" and x > number)
            or (op == "gte" and x >= number)
            or (op == "neq" and x != number)
        ):
            return True
    return False


def _fref(value: Any, other: Any, mode: str) -> bool:
    """Field reference: compares two fields of the same event, case-insensitively like plain values."""
    if value.__class__ is not str or other.__class__ is not str:
        return False
    if mode == "eq":
        return value == other
    if mode == "prefix":
        return value.startswith(other)
    if mode == "suffix":
        return value.endswith(other)
    return other in value


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 1e11 else value  # epoch milliseconds or seconds
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        s = value.strip().replace(" ", "T", 1)
        try:
            return datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith("Z") else s)
        except ValueError:
            return None
    return None


def _tpart(value: Any, part: str, number: int) -> bool:
    ts = _timestamp(value)
    if ts is None:
        return False
    got = ts.isocalendar()[1] if part == "week" else getattr(ts, part)
    return got == number


RUNTIME: dict[str, Any] = {
    "_multi": _multi,
    "_kw": _kw,
    "_kw_raw": _kw_raw,
    "_cased": _cased,
    "_rx": _rx,
    "_cidr": _cidr,
    "_cmp": _cmp,
    "_fref": _fref,
    "_tpart": _tpart,
}


# ---------------------------------------------------------------------------------------------------
# Code generation

# Inline `'x' in v or 'y' in v …` up to this many literals; beyond, one automaton pass (ContainsAny).
_INLINE_CONTAINS = CONTAINS_AUTOMATON_MIN - 1


class _Generator:
    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {}

    def const(self, value: Any) -> str:
        name = f"_k{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def string_body(self, node: ir.Test | ir.AnyOf) -> str:
        """An expression over `v` (a str) for a string test or a merged OR-list."""
        if isinstance(node, ir.Test):
            op, arg = node.op, node.arg
            if op == ir.EQ:
                return f"v == {arg!r}"
            if op == ir.PREFIX:
                return f"v.startswith({arg!r})"
            if op == ir.SUFFIX:
                return f"v.endswith({arg!r})"
            if op == ir.CONTAINS:
                return f"{arg!r} in v"
            if op == ir.GLOB:
                return f"{self.const(arg)}(v)"
            if op == ir.ANY:
                return "True"
            raise AssertionError(op)  # pragma: no cover
        parts: list[str] = []
        if len(node.equals) == 1:
            parts.append(f"v == {next(iter(node.equals))!r}")
        elif node.equals:
            parts.append(f"v in {self.const(node.equals)}")
        if node.prefixes:
            arg = repr(node.prefixes[0]) if len(node.prefixes) == 1 else self.const(node.prefixes)
            parts.append(f"v.startswith({arg})")
        if node.suffixes:
            arg = repr(node.suffixes[0]) if len(node.suffixes) == 1 else self.const(node.suffixes)
            parts.append(f"v.endswith({arg})")
        ascii_lits = [x for x in node.contains if x.isascii()]
        other_lits = [x for x in node.contains if not x.isascii()]
        if len(ascii_lits) > _INLINE_CONTAINS:
            parts.append(f"{self.const(ContainsAny(ascii_lits))}(v)")
        else:
            parts.extend(f"{lit!r} in v" for lit in ascii_lits)
        if other_lits:
            # Non-ASCII literals cannot occur in an ASCII value; `isascii()` skips them almost for free.
            if len(other_lits) > _INLINE_CONTAINS:
                inner = f"{self.const(ContainsAny(other_lits))}(v)"
            else:
                inner = " or ".join(f"{lit!r} in v" for lit in other_lits)
            parts.append(f"(not v.isascii() and ({inner}))")
        return " or ".join(parts) if parts else "False"

    def expr(self, node: ir.Node) -> str:
        if isinstance(node, ir.Const):
            return "True" if node.value else "False"
        if isinstance(node, ir.And):
            return "(" + " and ".join(self.expr(c) for c in node.children) + ")"
        if isinstance(node, ir.Or):
            return "(" + " or ".join(self.expr(c) for c in node.children) + ")"
        if isinstance(node, ir.Not):
            return f"(not {self.expr(node.child)})"
        if isinstance(node, ir.AnyOf) or (isinstance(node, ir.Test) and node.op in ir.STRING_OPS):
            body = self.string_body(node)
            f = node.field
            if node.cased:
                if f is None:
                    return f"_kw_raw(e, lambda v: {body})"
                return f"_cased(e.get({f!r}), lambda v: {body})"
            if f is None:
                return f"_kw(l, lambda v: {body})"
            # The common case stays inline: one dict lookup, one type check, the C string call.
            fallback = f"(v is not None and _multi(v, lambda v: {body}))"
            return f"({body} if (v := l.get({f!r})).__class__ is str else {fallback})"
        assert isinstance(node, ir.Test)
        f, op, arg = node.field, node.op, node.arg
        if op == ir.REGEX:
            if f is None:
                return f"_kw_raw(e, {self.const(arg)})"
            return f"_rx(e.get({f!r}), {self.const(arg)})"
        if op == ir.CIDR:
            return f"_cidr(e.get({f!r}), {self.const(arg)})"
        if op == ir.CMP:
            return f"_cmp(e.get({f!r}), {arg[0]!r}, {arg[1]!r})"
        if op == ir.EXISTS:
            return f"({f!r} in e)" if arg else f"({f!r} not in e)"
        if op == ir.NULL:
            return f"(e.get({f!r}) is None)"
        if op == ir.FIELDREF:
            return f"_fref(l.get({f!r}), l.get({arg[0]!r}), {arg[1]!r})"
        if op == ir.TIMEPART:
            return f"_tpart(e.get({f!r}), {arg[0]!r}, {arg[1]!r})"
        raise AssertionError(op)  # pragma: no cover


def normalize(event: Mapping[str, Any]) -> dict[str, Any]:
    """The lower-cased view `l` of an event that case-insensitive tests read (see module doc).

    Numbers and booleans become their string form (`4688`, `true`) so that `EventID: 4688` and
    `EventID: '4688'` in a rule behave the same, as they do in every Sigma backend.
    """
    low: dict[str, Any] = {}
    for k, v in event.items():
        if v.__class__ is str:
            low[k] = v.lower()
        elif v is None:
            continue
        elif isinstance(v, (list, tuple)):
            low[k] = tuple(str(x).lower() for x in v if x is not None)
        else:
            low[k] = str(v).lower()
    return low


class CompiledPredicate:
    """A rule body as a Python function, with the source it was generated from."""

    __slots__ = ("function", "source")

    def __init__(self, function: Predicate, source: str) -> None:
        self.function = function
        self.source = source

    def __call__(self, e: Mapping[str, Any], l: Mapping[str, Any]) -> bool:  # noqa: E741
        return self.function(e, l)


def compile_predicate(node: ir.Node, name: str = "rule") -> CompiledPredicate:
    """Generate and compile `def pred(e, l): return <expr>` for an (optimised) tree."""
    gen = _Generator()
    body = gen.expr(node)
    source = f"def _pred(e, l):\n    return {body}\n"
    namespace: dict[str, Any] = dict(RUNTIME)
    namespace.update(gen.namespace)
    exec(compile(source, f"<sigma {name}>", "exec"), namespace)  # noqa: S102 - literals only, see module doc
    return CompiledPredicate(namespace["_pred"], source)
