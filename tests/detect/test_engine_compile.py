"""The compile layer: optimisation of the tree, generated code, and the lower-cased event view."""

from __future__ import annotations

from linewatch.detect.engine import ir
from linewatch.detect.engine.compile import compile_predicate, normalize, optimize
from linewatch.detect.engine.prefilter import Prefilter, haystack, necessary_literals, usable

from .engine_helpers import fires, one_rule, process


def t(field: str, op: str, arg: str) -> ir.Test:
    return ir.Test(field, op, arg)


def test_or_of_literals_on_one_field_merges_into_one_anyof():
    tree = optimize(
        ir.Or(
            (
                t("Image", ir.SUFFIX, "\\a.exe"),
                t("Image", ir.SUFFIX, "\\b.exe"),
                t("Image", ir.EQ, "x"),
                t("CommandLine", ir.CONTAINS, "-enc"),
                t("Image", ir.PREFIX, "c:\\temp\\"),
            )
        )
    )
    assert isinstance(tree, ir.Or)
    merged = [c for c in tree.children if isinstance(c, ir.AnyOf)]
    assert len(merged) == 1
    assert merged[0].suffixes == ("\\a.exe", "\\b.exe")
    assert merged[0].equals == frozenset({"x"}) and merged[0].prefixes == ("c:\\temp\\",)


def test_subsumed_substrings_are_dropped():
    tree = optimize(ir.Or((t("F", ir.CONTAINS, "mimikatz"), t("F", ir.CONTAINS, "invoke-mimikatz"))))
    assert tree == ir.Test("F", ir.CONTAINS, "mimikatz")


def test_constants_fold_and_double_negation_cancels():
    x = t("F", ir.EQ, "x")
    assert optimize(ir.And((ir.TRUE, x))) == x
    assert optimize(ir.And((ir.FALSE, x))) == ir.FALSE
    assert optimize(ir.Or((ir.TRUE, x))) == ir.TRUE
    assert optimize(ir.Not(ir.Not(x))) == x


def test_and_runs_cheap_tests_first():
    tree = optimize(ir.And((ir.Test("F", ir.REGEX, None), t("G", ir.EQ, "1"))))
    assert [c.op for c in tree.children] == [ir.EQ, ir.REGEX]


def test_generated_code_holds_rule_text_only_as_literals():
    nasty = "'); __import__('os').system('echo pwned'); ('"
    pred = compile_predicate(optimize(t("CommandLine", ir.CONTAINS, nasty.lower())))
    assert "__import__" in pred.source  # inside a string literal …
    assert compile(pred.source, "<check>", "exec")  # … that is valid Python
    assert pred({"CommandLine": "x" + nasty}, normalize({"CommandLine": "x" + nasty}))
    assert not pred({"CommandLine": "echo"}, normalize({"CommandLine": "echo"}))


def test_quotes_and_backslashes_in_rule_values_match_exactly():
    # YAML 'a"b''c\\d' is the Sigma string a"b'c\\d, in which `\\` escapes one backslash.
    ruleset = one_rule("selection:\n  CommandLine|contains: 'a\"b''c\\\\d'\ncondition: selection")
    assert fires(ruleset, process(CommandLine="x a\"b'c\\d y"))
    assert not fires(ruleset, process(CommandLine="x a\"b'c\\\\d y"))


def test_normalize_lowers_strings_and_stringifies_numbers():
    low = normalize({"A": "MiXeD", "B": 4688, "C": True, "D": None, "E": ["X", 1]})
    assert low == {"A": "mixed", "B": "4688", "C": "true", "E": ("x", "1")}
    assert haystack(low) == "mixed\x004688\x00true\x00x\x001"


def test_explain_shows_the_generated_source():
    ruleset = one_rule("selection:\n  Image|endswith: ['\\a.exe', '\\b.exe']\ncondition: selection")
    ruleset.match(process(Image="c:\\a.exe"))
    (source,) = ruleset.explain("Test rule")
    assert "endswith" in source and "def _pred" in source


# --- necessary literals (the pre-filter's soundness rests on these) ------------------------------


def test_literals_or_is_union_and_picks_most_selective_not_gives_none():
    a, b = t("F", ir.CONTAINS, "mimikatz"), t("F", ir.CONTAINS, "procdump")
    short = t("G", ir.EQ, "ab")
    assert necessary_literals(ir.Or((a, b))) == {"mimikatz", "procdump"}
    assert necessary_literals(ir.And((short, a))) == {"mimikatz"}
    assert necessary_literals(ir.Not(a)) is None
    assert necessary_literals(ir.Or((a, ir.Not(b)))) is None
    assert necessary_literals(ir.And((ir.Not(b), a))) == {"mimikatz"}


def test_short_ascii_literals_are_not_usable_but_non_ascii_ones_are():
    assert not usable(frozenset({"-e"}))
    assert usable(frozenset({"\u202e"}))
    assert not usable(None)


def test_prefilter_returns_literal_hits_plus_rules_without_literals():
    pre = Prefilter([frozenset({"mimikatz"}), None, frozenset({"\u202e"}), frozenset({"procdump"})])
    assert pre.candidates("x\x00mimikatz.exe") == [0, 1]
    assert pre.candidates("evil\u202egpj.exe") == [1, 2]
    assert pre.candidates("procdump\x00mimikatz") == [0, 1, 3]
    assert pre.candidates("nothing") == [1]
