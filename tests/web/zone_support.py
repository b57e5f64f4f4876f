"""Reading a zone picker (``<select>`` with one ``<optgroup>`` per region) out of a page."""
from __future__ import annotations

import html as html_lib
import re


def zone_picker(page: str, select_id: str) -> tuple[list[tuple[str, list[tuple[str, str]]]], list[str]]:
    """``([(group label, [(value, label), ...]), ...], [selected values])`` of the select
    ``#select_id``; options outside any group come under the label ``""``."""
    match = re.search(rf'<select[^>]*\bid="{re.escape(select_id)}"[^>]*>(.*?)</select>', page, re.S)
    assert match, f"no select #{select_id}"
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    selected: list[str] = []
    in_group = False
    for token in re.finditer(r'<optgroup label="([^"]*)">|</optgroup>|<option([^>]*)>([^<]*)</option>', match.group(1)):
        group, attrs, label = token.groups()
        if token.group(0) == "</optgroup>":
            in_group = False
        elif group is not None:
            groups.append((html_lib.unescape(group), []))
            in_group = True
        else:
            value = html_lib.unescape(re.search(r'\bvalue="([^"]*)"', attrs).group(1))
            if re.search(r"\bselected\b", attrs):
                selected.append(value)
            if not in_group:
                groups.append(("", []))
            groups[-1][1].append((value, html_lib.unescape(label)))
    return groups, selected


def expected_picker(at, current=None) -> list[tuple[str, list[tuple[str, str]]]]:
    """What :func:`zone_picker` should read for the zone list at the instant ``at``."""
    from app.timezones import REGION_LABELS, zone_groups

    return [(str(REGION_LABELS[region]), [(o.name, o.label) for o in options]) for region, options in zone_groups(at, current)]


REGION_GROUPS = ["Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian Ocean", "Pacific", "UTC"]
