"""The services' reasons (refusals, alerts, why someone may not go yet) in the page language.

The services write their reasons in English sentences; each known shape is matched here and worded
with gettext, so a page in Chinese shows Chinese. A sentence of an unknown shape is shown as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from babel.support import Translations

_OTHERS_REFUSED = re.compile(r" \(\d+ other readings? refused too\)$")

# -- the services' reasons, in the page language -----------------------------------------------------------

_Wording = Callable[[Translations, "re.Match[str]"], str]
_NUM = r"[-+]?\d+(?:\.\d+)?"
_REASONS: list[tuple[re.Pattern[str], _Wording]] = [
    (
        re.compile(rf"^(?P<value>\S+) looks like (?P<guess>{_NUM}) without its decimal point: re-enter it$"),
        lambda t, m: (
            t.gettext("%(value)s looks like %(guess)s without its decimal point: re-enter it.") % m.groupdict()
        ),
    ),
    (
        re.compile(rf"^(?P<value>\S+) looks like (?P<guess>{_NUM}) with the decimal point misplaced: re-enter it$"),
        lambda t, m: (
            t.gettext("%(value)s looks like %(guess)s with the decimal point misplaced: re-enter it.") % m.groupdict()
        ),
    ),
    (
        re.compile(rf"^(?P<value>\S+) looks like °F \((?P<celsius>{_NUM}) °C\), outside .*$"),
        lambda t, m: (
            t.gettext("%(value)s looks like °F (%(celsius)s °C): type it as %(value)sF, or re-enter it in °C.")
            % m.groupdict()
        ),
    ),
    (
        re.compile(rf"^(?P<value>\S+) °F is (?P<celsius>{_NUM}) °C, outside the human body range (?P<range>\S+) °C.*$"),
        lambda t, m: (
            t.gettext("%(value)s °F is %(celsius)s °C, outside the body range %(range)s °C: re-enter it.")
            % m.groupdict()
        ),
    ),
    (
        re.compile(r"^(?P<value>\S+) °C is outside the human body range (?P<range>\S+) °C: re-enter it$"),
        lambda t, m: t.gettext("%(value)s °C is outside the body range %(range)s °C: re-enter it.") % m.groupdict(),
    ),
    (
        re.compile(r"^(?P<value>.+?)…? is not a temperature: .*$"),
        lambda t, m: t.gettext("%(value)s is not a temperature: type a number such as 36.5.") % m.groupdict(),
    ),
    (
        re.compile(r"^.+ means no symptoms: .*$"),
        lambda t, _m: t.gettext("Leave the symptoms empty when there are none."),
    ),
    (
        re.compile(rf"^(?P<value>{_NUM}) °F converted to (?P<celsius>{_NUM}) °C$"),
        lambda t, m: t.gettext("%(value)s °F converted to %(celsius)s °C") % m.groupdict(),
    ),
    (
        re.compile(r"^.* is in the future$"),
        lambda t, _m: t.gettext("The time of the round is in the future."),
    ),
    (
        re.compile(r"^measured before the stay began .*$"),
        lambda t, _m: t.gettext("Measured before this person arrived: check the time of the round."),
    ),
    (
        re.compile(r"^.*a different reading for the same time is not taken$"),
        lambda t, _m: t.gettext(
            "Another reading is stored for this person at this time: change the time of the round for a new one."
        ),
    ),
    (
        re.compile(r"^stay \d+ is not an open stay at site \d+$"),
        lambda t, _m: t.gettext("This person has left the site: reload the floor."),
    ),
    (
        re.compile(rf"^(?P<celsius>{_NUM}) °C \(fever from (?P<fever>{_NUM}) °C\)(?:; (?P<symptoms>.+))?$"),
        lambda t, m: (
            t.gettext("%(celsius)s °C (fever from %(fever)s °C)") % m.groupdict()
            + (f"; {m['symptoms']}" if m["symptoms"] else "")
        ),
    ),
    (
        re.compile(r"^(?P<day>\d{4}-\d{2}-\d{2}): (?P<taken>\d+) of (?P<due>\d+) temperature checks taken$"),
        lambda t, m: t.gettext("%(day)s: %(taken)s of %(due)s temperature checks taken") % m.groupdict(),
    ),
    # release (解除隔离): why someone may not go yet
    (
        re.compile(r"^the plan allows release from (?P<day>\d{4}-\d{2}-\d{2})$"),
        lambda t, m: t.gettext("The plan allows release from %(day)s") % m.groupdict(),
    ),
    (
        re.compile(r"^the release test of (?P<day>\d{4}-\d{2}-\d{2}) is not taken yet$"),
        lambda t, m: t.gettext("Release test of %(day)s not taken yet") % m.groupdict(),
    ),
    (
        re.compile(r"^the release test of (?P<day>\S+) has (?P<negative>\d+) of (?P<samples>\d+) negative samples$"),
        lambda t, m: (
            t.gettext("Release test of %(day)s: %(negative)s of %(samples)s samples negative so far") % m.groupdict()
        ),
    ),
    (
        re.compile(r"^the release test needs (?P<needed>\d+) reagents, has (?P<have>\d+)$"),
        lambda t, m: t.gettext("Release test needs %(needed)s reagents, has %(have)s") % m.groupdict(),
    ),
    (
        re.compile(r"^the plan has no release test scheduled$"),
        lambda t, _m: t.gettext("No release test scheduled"),
    ),
    (
        re.compile(r"^the test of (?P<day>\d{4}-\d{2}-\d{2}) is not taken yet$"),
        lambda t, m: t.gettext("Test of %(day)s not taken yet") % m.groupdict(),
    ),
    (
        re.compile(r"^the test of (?P<day>\d{4}-\d{2}-\d{2}) awaits its result$"),
        lambda t, m: t.gettext("Test of %(day)s awaits its result") % m.groupdict(),
    ),
    (
        re.compile(r"^the linked close contact's first tests \(person (?P<person>\d+)\) are not all negative yet$"),
        lambda t, m: (
            t.gettext("Waiting for the linked close contact's first tests (person %(person)s)") % m.groupdict()
        ),
    ),
    (
        re.compile(r"^the linked close contact \(person (?P<person>\d+)\) tested positive$"),
        lambda t, m: t.gettext("The linked close contact (person %(person)s) tested positive") % m.groupdict(),
    ),
    (
        re.compile(r"^the test of (?P<day>\S+) was positive$"),
        lambda t, m: t.gettext("Test of %(day)s positive") % m.groupdict(),
    ),
    (
        re.compile(r"^the person is a confirmed case.*$"),
        lambda t, _m: t.gettext("Confirmed case: to a designated hospital, not home"),
    ),
    (
        re.compile(r"^no quarantine plan.*$"),
        lambda t, _m: t.gettext("No quarantine plan yet: the last exposure is not known"),
    ),
    (
        re.compile(r"^a designated hospital discharges cases.*$"),
        lambda t, _m: t.gettext("A designated hospital discharges cases; it does not release from quarantine"),
    ),
    # taking a test (采样): why a tube is refused
    (
        re.compile(r"^must be 1 to 40 characters$"),
        lambda t, _m: t.gettext("Scan or type the tube's barcode (1 to 40 characters)."),
    ),
    (
        re.compile(r"^is longer than 64 characters$"),
        lambda t, _m: t.gettext("A reagent's name takes at most 64 characters."),
    ),
    (
        re.compile(r"^tube (?P<barcode>.+) is listed twice \(tubes\[\d+\]\)$"),
        lambda t, m: t.gettext("Tube %(barcode)s is scanned twice.") % m.groupdict(),
    ),
    (
        re.compile(r"^tube (?P<barcode>.+) is already in use for this test: send only the new tubes$"),
        lambda t, m: t.gettext("Tube %(barcode)s is taken for this test already.") % m.groupdict(),
    ),
    (
        re.compile(r"^tube (?P<barcode>.+) is already in use$"),
        lambda t, m: t.gettext("Tube %(barcode)s is already in use: take a new tube.") % m.groupdict(),
    ),
    (
        re.compile(
            r"^the (?:release )?test takes (?P<samples>\d+) samples? for (?P<reagents>\d+) reagents?: "
            r"name a different reagent for each tube$"
        ),
        lambda t, m: (
            t.gettext("The test takes %(samples)s samples for %(reagents)s reagents: a different reagent each.")
            % m.groupdict()
        ),
    ),
    (
        re.compile(
            r"^the (?:release )?test takes (?P<samples>\d+) samples? for \d+ reagents?"
            r"(?:; \d+ already taken, (?P<needed>\d+) to take)?; (?P<sent>\d+) sent$"
        ),
        lambda t, m: (
            t.gettext("Scan %(needed)s tubes for this test (%(sent)s scanned).")
            % {"needed": m["needed"] or m["samples"], "sent": m["sent"]}
        ),
    ),
    (
        re.compile(r"^take at least one tube$"),
        lambda t, _m: t.gettext("Scan at least one tube."),
    ),
    (
        re.compile(r"^test \d+ is \w+, not due$"),
        lambda t, _m: t.gettext("This test is taken already: reload the list."),
    ),
    (
        re.compile(r"^test \d+ is due on (?P<day>\S+): it is not taken before its day$"),
        lambda t, m: t.gettext("This test is due on %(day)s: it is not taken before its day.") % m.groupdict(),
    ),
    # home tasks (居家健康监测任务)
    (
        re.compile(r"^say why the task was missed$"),
        lambda t, _m: t.gettext("Say why the task was missed."),
    ),
    (
        re.compile(r"^the task is due on (?P<day>\S+), not yet$"),
        lambda t, m: t.gettext("This task is due on %(day)s, not yet.") % m.groupdict(),
    ),
    (
        re.compile(r"^home task \d+ is already \w+$"),
        lambda t, _m: t.gettext("This task is recorded already: reload the list."),
    ),
    (
        re.compile(r"^must be done or missed$"),
        lambda t, _m: t.gettext("Choose done or missed."),
    ),
]


def describe(raw: str, t: Translations) -> str:
    """A service's reason in the page language when its shape is known, else as the service wrote it."""
    text = _OTHERS_REFUSED.sub("", raw.strip())
    for pattern, wording in _REASONS:
        found = pattern.match(text)
        if found:
            return wording(t, found)
    return text


def describe_all(reasons: Iterable[str], t: Translations) -> list[str]:
    return [describe(reason, t) for reason in reasons]
