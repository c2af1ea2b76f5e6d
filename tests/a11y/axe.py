"""axe-core (the copy shipped by axe-playwright-python) on the page a Playwright tab
shows: its serious and critical violations of the WCAG 2.1 A and AA rules."""

import json

from axe_playwright_python.base import AXE_FILE_PATH

BLOCKING = ("serious", "critical")
# The WCAG 2.0/2.1 A and AA rules, those the RGAA 4.1 takes up; axe's best practices
# (one ``main`` landmark, heading order...) are advice, not criteria.
OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
}
# Colours do not change with the width: the second width skips the slowest rule.
SAME_COLOURS = {**OPTIONS, "rules": {"color-contrast": {"enabled": False}}}


def install(context):
    """Load axe-core in every page the context opens (once compiled, not sent each time)."""
    context.add_init_script(path=AXE_FILE_PATH)


def violations(page, contrast=True):
    """The serious and critical violations of the page, one readable line per rule."""
    options = json.dumps(OPTIONS if contrast else SAME_COLOURS)
    lines = []
    for violation in page.evaluate(f"() => axe.run(document, {options})")["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        lines.append(f"{violation['impact']} {violation['id']}: {violation['help']} [{targets}]")
    return lines
