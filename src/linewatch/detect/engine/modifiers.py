"""Sigma values, after pySigma applied their modifiers, turned into IR field tests.

pySigma does the modifier work at parse time: `contains`/`startswith`/`endswith` add wildcards,
`base64`/`base64offset`/`wide`/`utf16*` re-encode the string, `windash` expands dash variants into an
OR-group (`SigmaExpansion`), `cased` yields a `SigmaCasedString`, `re` a `SigmaRegularExpression` with
its i/m/s flags, `cidr`/`lt`…/`fieldref`/`exists` their own types, `all` switches the list linking
and `neq` negates the item. What reaches us is one typed value per leaf; this module decides what
each means on an event. Placeholders left by `expand` are filled from the site's values here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sigma.modifiers import SigmaWideModifier, modifier_mapping
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SigmaType,
    SpecialChars,
    TimestampPart,
)

from . import ir
from .pipeline import FieldMapping, Placeholders, identity, mapped_fields, placeholder_values
from .strings import QMARK, STAR, Regex, string_test, tokens_from_parts

# Sigma 2.1 names UTF-16LE `utf16le` (with `wide` as its alias); pySigma 2.0.1 only knows `wide`.
# Registering the alias lets rules written to the spec parse; it changes nothing else in pySigma.
modifier_mapping.setdefault("utf16le", SigmaWideModifier)


class Unsupported(Exception):
    """A rule uses something the engine cannot evaluate faithfully; the rule is reported, not guessed."""


_CMP_OPS = {
    CompareOperators.LT: "lt",
    CompareOperators.LTE: "lte",
    CompareOperators.GT: "gt",
    CompareOperators.GTE: "gte",
    CompareOperators.NEQ: "neq",
}
_TIME_PARTS = {
    TimestampPart.MINUTE: "minute",
    TimestampPart.HOUR: "hour",
    TimestampPart.DAY: "day",
    TimestampPart.WEEK: "week",
    TimestampPart.MONTH: "month",
    TimestampPart.YEAR: "year",
}
_RE_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}


@dataclass(frozen=True)
class ValueContext:
    """What turning values into tests depends on besides the value: the pipeline's two inputs."""

    field_mapping: FieldMapping = identity
    placeholders: Placeholders | None = None


def number_strings(n: int | float) -> tuple[str, ...]:
    """How a Sigma number can appear in an event once stringified: `4688`, and `1.0` also as `1`."""
    if isinstance(n, float) and n.is_integer():
        return (str(int(n)), repr(n))
    return (str(n),)


def expand_placeholders(value: SigmaString, ctx: ValueContext) -> list[SigmaString]:
    """Fill `%name%` placeholders (from the `expand` modifier) with the site's values.

    Each site value is read as a Sigma string, so it may itself use wildcards (`adm_*`).
    """
    if not value.contains_placeholder():
        return [value]
    if ctx.placeholders is None:
        names = sorted({p.name for p in value.s if isinstance(p, Placeholder)})
        raise Unsupported(f"placeholder {', '.join('%' + n + '%' for n in names)} has no site value")

    def values(p: Placeholder):  # noqa: ANN202 - pySigma's callback protocol
        try:
            vals = placeholder_values(ctx.placeholders, p.name)  # type: ignore[arg-type]
        except KeyError:
            raise Unsupported(f"placeholder %{p.name}% has no site value") from None
        for v in vals:
            yield SigmaString(v)

    return value.replace_placeholders(values)


def _string_tests(field: str | None, value: SigmaString, ctx: ValueContext, keyword: bool) -> ir.Node:
    cased = isinstance(value, SigmaCasedString)
    alternatives: list[ir.Node] = []
    for s in expand_placeholders(value, ctx):
        tokens = tokens_from_parts(s.s, SpecialChars.WILDCARD_MULTI, SpecialChars.WILDCARD_SINGLE)
        if any(t is not STAR and t is not QMARK and not isinstance(t, str) for t in tokens):  # pragma: no cover
            raise Unsupported(f"unresolved part in string {s}")
        if keyword:
            # A keyword is a full-text search: it matches inside any value, as in every Sigma backend.
            if not tokens or tokens[0] is not STAR:
                tokens = [STAR, *tokens]
            if tokens[-1] is not STAR:
                tokens = [*tokens, STAR]
        alternatives.append(string_test(field, tokens, cased))
    return ir.or_(*alternatives)


def _regex_tests(field: str | None, value: SigmaRegularExpression, ctx: ValueContext) -> ir.Node:
    flags = "".join(sorted(_RE_FLAGS[f] for f in value.flags))
    regexes = [value]
    if value.regexp.contains_placeholder():
        if ctx.placeholders is None:
            raise Unsupported("placeholder in regular expression has no site value")

        def values(p: Placeholder):  # noqa: ANN202
            try:
                yield from placeholder_values(ctx.placeholders, p.name)  # type: ignore[arg-type]
            except KeyError:
                raise Unsupported(f"placeholder %{p.name}% has no site value") from None

        regexes = value.replace_placeholders(values)
    tests: list[ir.Node] = []
    for r in regexes:
        try:
            tests.append(ir.Test(field, ir.REGEX, Regex.compile(str(r.regexp), flags)))
        except Exception as exc:  # re.error or re2.error: both engines must accept the pattern
            raise Unsupported(f"regular expression {str(r.regexp)!r} not accepted: {exc}") from exc
    return ir.or_(*tests)


def value_test(field: str | None, value: SigmaType, ctx: ValueContext) -> ir.Node:
    """The IR for one (field, value) leaf of pySigma's condition tree, before field mapping."""
    keyword = field is None
    # Order matters: SigmaCasedString is a SigmaString, SigmaTimestampPart is a SigmaNumber.
    if isinstance(value, SigmaString):
        return _string_tests(field, value, ctx, keyword)
    if isinstance(value, SigmaExpansion):
        return ir.or_(*(value_test(field, v, ctx) for v in value.values))
    if isinstance(value, SigmaTimestampPart):
        if keyword:
            raise Unsupported("time modifier without a field")
        return ir.Test(field, ir.TIMEPART, (_TIME_PARTS[value.timestamp_part], int(value.number)))
    if isinstance(value, SigmaNumber):
        strings = number_strings(value.number)
        if keyword:
            return ir.or_(*(ir.Test(None, ir.CONTAINS, s) for s in strings))
        return ir.or_(*(ir.Test(field, ir.EQ, s) for s in strings))
    if isinstance(value, SigmaBool):
        if keyword:
            raise Unsupported("boolean keyword")
        return ir.Test(field, ir.EQ, "true" if value.boolean else "false")
    if isinstance(value, SigmaRegularExpression):
        return _regex_tests(field, value, ctx)
    if keyword:
        raise Unsupported(f"keyword value of type {type(value).__name__}")
    if isinstance(value, SigmaNull):
        return ir.Test(field, ir.NULL)
    if isinstance(value, SigmaExists):
        return ir.Test(field, ir.EXISTS, bool(value.exists))
    if isinstance(value, SigmaCIDRExpression):
        return ir.Test(field, ir.CIDR, (value.network,))
    if isinstance(value, SigmaCompareExpression):
        number = float(value.number.number)
        if math.isnan(number):
            raise Unsupported("comparison with NaN")
        return ir.Test(field, ir.CMP, (_CMP_OPS[value.op], number))
    if isinstance(value, SigmaFieldReference):
        mode = (
            "contains"
            if value.starts_with and value.ends_with
            else "prefix"
            if value.starts_with
            else "suffix"
            if value.ends_with
            else "eq"
        )
        return ir.Test(field, ir.FIELDREF, (value.field, mode))
    raise Unsupported(f"value of type {type(value).__name__}")


def map_fields(node: ir.Node, ctx: ValueContext) -> ir.Node:
    """Apply the pipeline's field mapping; a field mapped to several keys becomes an OR over them."""
    if ctx.field_mapping is identity:
        return node

    def one(name: str) -> str:
        names = mapped_fields(ctx.field_mapping, name)
        if len(names) != 1:
            raise Unsupported(f"field {name!r} maps to several keys inside a field reference")
        return names[0]

    def visit(n: ir.Node) -> ir.Node:
        if isinstance(n, ir.Test) and n.field is not None:
            try:
                if n.op == ir.FIELDREF:
                    return ir.rename(n, one)
                names = mapped_fields(ctx.field_mapping, n.field)
            except KeyError as exc:
                raise Unsupported(f"field {exc.args[0]!r} has no mapping for these events") from None
            return ir.or_(*(ir.rename(n, {n.field: name}) for name in names))
        if isinstance(n, ir.And):
            return ir.And(tuple(visit(c) for c in n.children))
        if isinstance(n, ir.Or):
            return ir.Or(tuple(visit(c) for c in n.children))
        if isinstance(n, ir.Not):
            return ir.Not(visit(n.child))
        return n

    return visit(node)


def required_values(node: ir.Node, field: str) -> frozenset[str] | None:
    """The values `field` must have (lower-cased) for the tree to match, or None if unconstrained.

    Used to index rules by EventID inside a log source: a Security-log rule that says `EventID: 4625`
    is never looked at for a 4624 event.
    """
    if isinstance(node, ir.Test):
        if node.field == field and node.op == ir.EQ and not node.cased:
            return frozenset((node.arg,))
        return None
    if isinstance(node, ir.AnyOf):
        if node.field == field and not node.cased and not (node.prefixes or node.suffixes or node.contains):
            return node.equals
        return None
    if isinstance(node, ir.And):
        best: frozenset[str] | None = None
        for c in node.children:
            r = required_values(c, field)
            if r is not None:
                best = r if best is None else best & r
        return best
    if isinstance(node, ir.Or):
        acc: set[str] = set()
        for c in node.children:
            r = required_values(c, field)
            if r is None:
                return None
            acc |= r
        return frozenset(acc)
    if isinstance(node, ir.Const) and not node.value:
        return frozenset()
    return None
