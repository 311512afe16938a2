"""Message texts with variables: built-in defaults, overridable per installation by a
`MessageTemplate` row of the same slug (admin). `string.Template` keeps them safe to edit: a
template can only insert the variables it is given, never run code; unknown $names stay as written.
"""

from __future__ import annotations

from string import Template

DEFAULTS: dict[str, tuple[str, str]] = {
    "alert": ("[Linewatch $site] $title",
              "$title\nSite: $site\nAsset: $asset\nAt stake: $stake\nAlert: $link\n"
              "Acknowledge it to stop the escalation."),
    "crisis_declared": ("[Linewatch $site] CRISIS: $crisis",
                        "A crisis was declared for $sites: $crisis ($kind), phase $phase.\n"
                        "Declared by $by at $time.\n$description\nCrisis room: $link"),
    "rollcall": ("[Linewatch $site] Roll call: are you safe? [RC $code]",
                 "$name, a roll call is open at $site ($crisis).\n"
                 "Answer here: $link\n"
                 "Or reply by SMS or to this e-mail: SAFE $code, HELP $code or OUT $code (not on site)."),
    "rollcall_reminder": ("[Linewatch $site] Reminder $wave: roll call, are you safe? [RC $code]",
                          "$name, we have no answer from you yet ($crisis at $site).\n"
                          "Answer here: $link\n"
                          "Or reply by SMS or to this e-mail: SAFE $code, HELP $code or OUT $code."),
    "rollcall_unaccounted": ("[Linewatch $site] $count unaccounted after $waves waves",
                             "Roll call at $site ($crisis): $count people have not answered after $waves "
                             "waves, $help need help.\n\n$people\n\nUnaccounted list (printable): $link"),
    "digest": ("[Linewatch] $count automatic messages held by the flood guard",
               "More than $limit automatic messages for $team within $window minutes: the rest are "
               "collected here.\n\n$items"),
}

EXERCISE_MARK = "EXERCISE"


def render(slug: str, variables: dict[str, object], *, exercise: bool = False) -> tuple[str, str]:
    """(subject, body) for the template `slug` with `variables`; marked EXERCISE for drills."""
    from linewatch.response.models import MessageTemplate

    row = MessageTemplate.objects.filter(slug=slug).first()
    subject, body = (row.subject, row.body) if row else DEFAULTS[slug]
    values = {k: "" if v is None else str(v) for k, v in variables.items()}
    subject = Template(subject).safe_substitute(values)
    body = Template(body).safe_substitute(values)
    return mark_exercise(subject, body, exercise)


def mark_exercise(subject: str, body: str, exercise: bool) -> tuple[str, str]:
    """Drills are unmistakable: EXERCISE leads the subject and the first line of the body."""
    if not exercise or subject.startswith(EXERCISE_MARK):
        return subject, body
    return (f"{EXERCISE_MARK} — {subject}",
            f"{EXERCISE_MARK} — THIS IS A DRILL, NOT A REAL EMERGENCY.\n\n{body}\n\n"
            f"{EXERCISE_MARK} — END OF DRILL MESSAGE")
