"""Checking and normalising input: every problem of one input is reported at once.

check = Checks()
country = check.country(raw_country, "country")
name = check.name(raw_name, "name", max_length=200)
check.done()          # raises Invalid.many(...) when anything was wrong
"""

from __future__ import annotations

import re
import unicodedata

import pycountry

from domain.errors import FieldProblem, Invalid

PROGRAM_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
TAX_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]{1,63}$")
BANK_ACCOUNT = re.compile(r"^[A-Za-z0-9]{4,34}$")
# An address as mail servers take it (RFC 5321's length, one @, no spaces or controls), not all RFC 5322.
EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
MAX_EMAIL_LENGTH = 254
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


# Characters no name or free text may hold: they hide or reorder what people read (bidi overrides,
# isolates and marks, zero-width spaces), or no database or mail header takes them (NUL, other
# control characters, lone surrogates). The zero-width joiner and non-joiner stay allowed: Persian,
# Indic scripts and emoji need them.
_INVISIBLE = frozenset(
    "\u061c\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
)
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})


def refused_character(value: str) -> str | None:
    """The first character `value` may not hold, as U+XXXX; None when it holds none."""
    for character in value:
        if character in _INVISIBLE or unicodedata.category(character) in _REFUSED_CATEGORIES:
            return f"U+{ord(character):04X}"
    return None


def is_email(value: str) -> bool:
    return (
        len(value) <= MAX_EMAIL_LENGTH
        and EMAIL.fullmatch(value) is not None
        and refused_character(value) is None
    )


def usable_email(value: str | None) -> str | None:
    """An address from a token or the directory, if mail could be sent to it; else None."""
    if value is None:
        return None
    stripped = value.strip()
    return stripped if is_email(stripped) else None


def is_country(code: str) -> bool:
    return len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None


def is_currency(code: str) -> bool:
    return len(code) == 3 and pycountry.currencies.get(alpha_3=code) is not None


def is_guid(value: str) -> bool:
    return GUID.fullmatch(value) is not None


def bank_account_digits(number: str) -> str:
    """The account number without the spaces people type into it."""
    return re.sub(r"\s+", "", number)


class Checks:
    """Collects problems of one input; each check returns the normalised value."""

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def fail(self, field: str | None, message: str) -> None:
        self.problems.append(FieldProblem((field,) if field is not None else None, message))

    def done(self) -> None:
        if self.problems:
            raise Invalid.many(self.problems)

    def name(self, value: str, field: str, *, max_length: int) -> str:
        stripped = value.strip()
        refused = refused_character(stripped)
        if not stripped:
            self.fail(field, f"{field} must not be blank")
        elif len(stripped) > max_length:
            self.fail(field, f"{field} must be at most {max_length} characters")
        elif refused is not None:
            self.fail(field, f"{field} must not contain {refused} (control, invisible or bidi characters)")
        return stripped

    def optional_name(self, value: str | None, field: str, *, max_length: int) -> str | None:
        return None if value is None else self.name(value, field, max_length=max_length)

    def email(self, value: str | None, field: str = "email") -> str | None:
        """An optional email address, checked when given (not when mail is sent to it)."""
        if value is None:
            return None
        stripped = value.strip()
        if not is_email(stripped):
            self.fail(field, f"{field} is not an email address")
        return stripped

    def country(self, value: str, field: str = "country") -> str:
        code = value.strip().upper()
        if not is_country(code):
            self.fail(field, f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return code

    def currency(self, value: str, field: str = "currency") -> str:
        code = value.strip().upper()
        if not is_currency(code):
            self.fail(field, f"{value!r} is not an ISO 4217 currency code")
        return code

    def partner_id(self, value: str, field: str, *, min_length: int = 5, max_length: int = 16) -> str:
        digits = value.strip()
        if not (digits.isascii() and digits.isdigit() and min_length <= len(digits) <= max_length):
            self.fail(field, f"a PartnerID is {min_length} to {max_length} digits")
        return digits

    def program_code(self, value: str, field: str = "code") -> str:
        code = value.strip()
        if PROGRAM_CODE.fullmatch(code) is None:
            self.fail(
                field, "a program code is 2-32 of A-Z, 0-9, '_' and '-', starting with a letter or digit"
            )
        return code

    def tax_id(self, value: str, field: str = "taxId") -> str:
        tax_id = value.strip()
        if TAX_ID.fullmatch(tax_id) is None:
            self.fail(field, "a tax ID is 2-64 letters, digits, spaces, '.', '/' or '-'")
        return tax_id

    def bank_account(self, value: str, field: str = "bankAccountNumber") -> str:
        number = bank_account_digits(value)
        if BANK_ACCOUNT.fullmatch(number) is None:
            self.fail(field, "a bank account number is 4 to 34 letters and digits")
        return number.upper()

    def guid(self, value: str, field: str) -> str:
        guid = value.strip()
        if not is_guid(guid):
            self.fail(field, f"{field} must be a GUID")
        return guid.lower()
