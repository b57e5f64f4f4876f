"""The password rule: one check for every place a password is chosen (sign-up, and any future
password change).

A password must be 10 to 128 characters, not only digits, not one character repeated, not the
e-mail address, and hard to guess once the person's own words (e-mail, name, business name) are
taken out of it. "Hard to guess" is zxcvbn's estimate (Wheeler, "zxcvbn: Low-Budget Password
Strength Estimation", USENIX Security 2016; the ``zxcvbn`` package on PyPI, MIT): it matches
against its offline lists (the 30,000 most common passwords of leaked sets, English words, names)
plus keyboard patterns, sequences, repeats, dates and l33t substitutions, and scores 0-4; we ask
for 3 ("safely unguessable": about 10^8 guesses or more), the level its authors recommend.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 128
MIN_SCORE = 3
# zxcvbn refuses longer input (its matching is quadratic); a longer password is judged by its
# first 72 characters, which is already far past any list.
_ZXCVBN_MAX = 72
_WORD = re.compile(r"[^\W_]+")

TOO_SHORT = f"Use at least {MIN_LENGTH} characters."
TOO_LONG = f"Use at most {MAX_LENGTH} characters."
ONLY_DIGITS = "Use more than just digits."
REPEATED = "Use more than one repeated character."
IS_EMAIL = "Your password must not be your e-mail address."
TOO_COMMON = "This password is too common or too easy to guess. Try a few unrelated words."


def _personal_words(email: str, names: Iterable[str]) -> list[str]:
    """Lower-case words (3+ letters or digits) of the e-mail's local part and domain name and
    of ``names``, longest first."""
    local, _, domain = email.strip().lower().partition("@")
    words = {w for text in (local, domain.split(".")[0], *(n.lower() for n in names if n)) for w in _WORD.findall(text)}
    return sorted((w for w in words if len(w) >= 3), key=len, reverse=True)


def password_problem(password: str, *, email: str = "", names: Iterable[str] = ()) -> str | None:
    """Why ``password`` is refused (a message for the person choosing it), or None when it is fine.

    ``email`` and ``names`` (the person's name, the business name) are words an attacker who
    targets this account would try first: they count for nothing in the strength estimate.
    Pure and deterministic; cost is a few milliseconds (zxcvbn on at most 72 characters).
    """
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    if password.isdigit():
        return ONLY_DIGITS
    if len(set(password)) == 1:
        return REPEATED
    if email and password.strip().lower() == email.strip().lower():
        return IS_EMAIL
    rest = password
    for word in _personal_words(email, names):
        rest = re.sub(re.escape(word), "", rest, flags=re.IGNORECASE)
    # user_inputs is not passed to zxcvbn: it keeps them in a module-level dictionary shared by
    # every thread. Removing the words first gives the same effect without that race.
    if len(rest.strip()) < 4 or zxcvbn(rest[:_ZXCVBN_MAX])["score"] < MIN_SCORE:
        return TOO_COMMON
    return None
