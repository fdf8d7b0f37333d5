"""Checking and normalising input: every problem of one input is reported at once.

check = Checks()
country = check.country(raw_country, "country")
name = check.name(raw_name, "name", max_length=200)
check.done()          # raises Invalid.many(...) when anything was wrong
"""

from __future__ import annotations

import re

import pycountry

from domain.errors import FieldProblem, Invalid

PROGRAM_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
TAX_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]{1,63}$")
BANK_ACCOUNT = re.compile(r"^[A-Za-z0-9]{4,34}$")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


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
        if not stripped:
            self.fail(field, f"{field} must not be blank")
        elif len(stripped) > max_length:
            self.fail(field, f"{field} must be at most {max_length} characters")
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
