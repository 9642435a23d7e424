"""The French catalogue keeps French typography: a no-break space (U+00A0 or
U+202F) before « : ; ? ! » and inside « », the apostrophe ’, « » rather
than straight double quotes. HTML tags, placeholders and addresses inside the
strings are left out of the check."""

import re
import subprocess
from pathlib import Path

import polib
import pytest
from django.conf import settings

CATALOGUES = [Path(path) / "fr" / "LC_MESSAGES" / "django.po" for path in settings.LOCALE_PATHS]
NO_BREAK = "\u00a0\u202f"
# What is not French text: HTML tags, Python and str.format placeholders, addresses.
NOT_TEXT = re.compile(r"<[^>]*>|%\([^)]*\)[sdifr]|%[sdifr]|\{[^{}]*\}|https?://\S+")
BEFORE_PUNCTUATION = re.compile(rf"(?<![{NO_BREAK}])[;:?!](?=\s|$)")


def translations():
    for entry in (e for path in CATALOGUES for e in polib.pofile(str(path))):
        if entry.obsolete or "fuzzy" in entry.flags:
            continue
        strings = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for msgstr in strings:
            if msgstr:
                yield entry, msgstr


def problems(msgstr):
    text = NOT_TEXT.sub("\x00", msgstr)  # Placeholders count as words before a colon.
    found = []
    if "'" in text:
        found.append("straight apostrophe (’)")
    if '"' in text:
        found.append("straight double quotes (« »)")
    if BEFORE_PUNCTUATION.search(text.replace("\x00", "x")):
        found.append("no no-break space before : ; ? !")
    if re.search(rf"«(?![{NO_BREAK}])|(?<![{NO_BREAK}])»", text):
        found.append("no no-break space inside « »")
    return found


@pytest.mark.parametrize(
    ("msgstr", "expected"),
    [
        ("L'année", ["straight apostrophe (’)"]),
        ('le site "%(site)s"', ["straight double quotes (« »)"]),
        ("Total : %(total)s", ["no no-break space before : ; ? !"]),
        ("%(name)s: %(value)s", ["no no-break space before : ; ? !"]),
        ("« Facturation »", ["no no-break space inside « »"]),
        ('<a href="%(url)s">L’onglet\u00a0«\u00a0Facturation\u00a0»</a>\u00a0?', []),
        ("Heure\u00a0: 18:30, https://example.org/?a=1", []),
    ],
)
def test_the_check_itself(msgstr, expected):
    assert problems(msgstr) == expected


def test_the_french_catalogue_keeps_french_typography():
    wrong = [
        f"{entry.msgid!r} → {msgstr!r}: {', '.join(found)}"
        for entry, msgstr in translations()
        if (found := problems(msgstr))
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda path: path.parts[-4])
def test_the_french_catalogue_compiles_without_warnings(catalogue):
    subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(catalogue)], check=True)


def test_django_s_own_strings_are_reworded_apart_from_what_makemessages_writes():
    project, overrides = (polib.pofile(str(path)) for path in CATALOGUES)
    ours = {(e.msgctxt, e.msgid) for e in project}
    assert overrides.translated_entries(), "the overrides catalogue is empty"
    assert not [e.msgid for e in overrides if (e.msgctxt, e.msgid) in ours]
