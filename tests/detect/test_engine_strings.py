"""Value matchers: wildcard classification, the glob walker, regexes and long substring lists."""

from __future__ import annotations

import pytest
from sigma.types import SigmaString, SpecialChars

from linewatch.detect.engine import ir
from linewatch.detect.engine import strings as s


def pattern_node(pattern: str, cased: bool = False) -> ir.Node:
    parts = SigmaString(pattern).s
    return s.string_test(
        "F", s.tokens_from_parts(parts, SpecialChars.WILDCARD_MULTI, SpecialChars.WILDCARD_SINGLE), cased
    )


@pytest.mark.parametrize(
    ("pattern", "op", "arg"),
    [
        ("Abc", ir.EQ, "abc"),
        ("", ir.EQ, ""),
        ("*", ir.ANY, None),
        ("**", ir.ANY, None),
        ("*\\Cmd.exe", ir.SUFFIX, "\\cmd.exe"),
        ("C:\\Temp\\\\*", ir.PREFIX, "c:\\temp\\"),  # Sigma: `\\` is a backslash, then `*`
        ("C:\\Temp\\*", ir.EQ, "c:\\temp*"),  # Sigma: `\*` is a literal star
        ("*-enc *", ir.CONTAINS, "-enc "),
        ("a\\*b", ir.EQ, "a*b"),
    ],
)
def test_simple_patterns_become_single_string_calls(pattern, op, arg):
    node = pattern_node(pattern)
    assert (node.op, node.arg) == (op, arg)


def test_cased_patterns_keep_their_case():
    assert pattern_node("*EnCoDe*", cased=True).arg == "EnCoDe"


@pytest.mark.parametrize(
    ("pattern", "yes", "no"),
    [
        ("a*b*c", ["abc", "a--b--c", "abbc"], ["ab", "acb", "xabc", "abcx"]),
        ("*a*b*", ["ab", "xxaxxbxx"], ["ba", "b a"]),
        ("net? user*", ["net1 user x", "netx user"], ["net user", "net12 user"]),
        ("a?c", ["abc", "a c"], ["ac", "abbc"]),
        ("ab*ba", ["abba", "ab-ba", "abxxba"], ["aba", "abb"]),
        ("*.exe?*", ["a.exe1", "a.exe:b"], ["a.exe"]),
    ],
)
def test_glob_walks_pieces_left_to_right(pattern, yes, no):
    node = pattern_node(pattern)
    assert node.op == ir.GLOB
    for value in yes:
        assert node.arg(value), value
    for value in no:
        assert not node.arg(value), value


def test_glob_reports_its_fixed_pieces_as_literals():
    assert sorted(pattern_node("*powershell*-e?c *").arg.literals()) == ["-e", "c ", "powershell"]


def test_regex_required_literals_and_guard():
    r = s.Regex.compile(r"\-enc(odedcommand)?\s+[A-Za-z0-9+/=]{20,}")
    assert r.required == frozenset({"-enc"})
    assert r("x -encodedcommand " + "A" * 24)
    assert not r("x -ENC " + "A" * 24)  # case-sensitive by default


def test_regex_with_alternatives_requires_one_of_them():
    r = s.Regex.compile(r"(mimikatz|sekurlsa)::\w+")
    assert r.required == frozenset({"mimikatz", "sekurlsa"}) or r.required == frozenset({"::"})
    assert r("sekurlsa::logonpasswords")


def test_partly_case_insensitive_regex_guards_on_the_lowered_value():
    r = s.Regex.compile("a(?i:Bcd)")
    assert r.fold
    assert r("aBCD") and r("abcd") and not r("ABCD")


def test_regex_of_classes_only_has_no_literal():
    assert s.Regex.compile(r"^[A-Z]{3}\d+$").required is None


def test_long_values_use_re2(monkeypatch):
    r = s.Regex.compile(r"(a+)+b")  # catastrophic for a backtracking engine on 'aaaa…c'
    value = "a" * (s.RE2_THRESHOLD + 1) + "c"
    assert not r(value)  # returns promptly: RE2 is linear time
    monkeypatch.setattr(s, "RE2_THRESHOLD", 10**9)
    assert r("aaab")


def test_contains_any_checks_non_ascii_literals_only_on_non_ascii_values():
    m = s.ContainsAny(["invoke-", "downloadstring", "\u202e", "\u0430dmin"])  # RLO, Cyrillic 'а'
    assert m("x invoke-expression")
    assert m("evil\u202egpj.exe")
    assert m("\u0430dmin")
    assert not m("plain ascii admin")
