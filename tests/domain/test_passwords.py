"""The password rule (table-driven): length 10-128, not only digits, not one repeated character,
not the e-mail, and not guessable once the person's own words are taken out."""
from __future__ import annotations

import pytest

from app.domain.passwords import (
    IS_EMAIL,
    ONLY_DIGITS,
    REPEATED,
    TOO_COMMON,
    TOO_LONG,
    TOO_SHORT,
    password_problem,
)

EMAIL = "ada@swimschool.example"
NAMES = ("Ada Lovelace", "Swim School Pro")


@pytest.mark.parametrize(
    "password, problem",
    [
        ("short1", TOO_SHORT),
        ("nine char", TOO_SHORT),
        ("a" * 129, TOO_LONG),
        ("12345678901", ONLY_DIGITS),
        ("aaaaaaaaaa", REPEATED),
        ("          ", REPEATED),
        ("ada@swimschool.example", IS_EMAIL),
        ("ADA@SwimSchool.example ", IS_EMAIL),
        ("password123", TOO_COMMON),
        ("qwertyuiop", TOO_COMMON),
        ("1q2w3e4r5t", TOO_COMMON),
        ("iloveyou12", TOO_COMMON),
        ("Password1!", TOO_COMMON),
        ("trustno1trustno1", TOO_COMMON),
        ("abcdefghij", TOO_COMMON),
        ("sunshine99", TOO_COMMON),
        ("SwimSchoolPro2024", TOO_COMMON),  # the business name is the first thing tried
        ("ada lovelace 1815", TOO_COMMON),
        ("swimschool!!", TOO_COMMON),  # the e-mail's domain
        ("correct horse battery", None),
        ("analytical engine", None),
        ("Tr0ub4dor&3x", None),
        ("swim school pro lessons are great fun", None),  # own words plus enough of something else
        ("x7#Lq!9vRz" * 12 + "abcdefgh", None),  # 128 characters: judged on its first 72
    ],
)
def test_password_problem(password, problem):
    assert password_problem(password, email=EMAIL, names=NAMES) == problem


def test_without_personal_details_only_the_general_rules_apply():
    assert password_problem("SwimSchoolPro2024") is None
    assert password_problem("password123") == TOO_COMMON
