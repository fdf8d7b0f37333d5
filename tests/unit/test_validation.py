from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.errors import Invalid
from domain.validation import Checks


def test_valid_input_is_normalised() -> None:
    check = Checks()
    assert check.country(" fr ") == "FR"
    assert check.currency("eur") == "EUR"
    assert check.name("  Contoso  ", "name", max_length=10) == "Contoso"
    assert check.bank_account("DE89 3704 0044 0532 0130 00") == "DE89370400440532013000"
    assert check.guid("2F1B0C7E-8A55-4E0B-9F7E-3F1D2C9B5A11", "userObjectId") == (
        "2f1b0c7e-8a55-4e0b-9f7e-3f1d2c9b5a11"
    )
    assert check.program_code("CSP-2027_A") == "CSP-2027_A"
    assert check.partner_id("12345", "globalPartnerId") == "12345"
    assert check.tax_id("FR 123.456/7-8") == "FR 123.456/7-8"
    check.done()


BAD_VALUES: list[tuple[Callable[[Checks], object], str]] = [
    (lambda c: c.country("ZZ"), "country"),
    (lambda c: c.country("FRA"), "country"),
    (lambda c: c.currency("EURO"), "currency"),
    (lambda c: c.currency("ZZZ"), "currency"),
    (lambda c: c.name("   ", "name", max_length=5), "name"),
    (lambda c: c.name("abcdef", "name", max_length=5), "name"),
    (lambda c: c.bank_account("12 3"), "bankAccountNumber"),
    (lambda c: c.bank_account("1234-5678"), "bankAccountNumber"),
    (lambda c: c.bank_account("1" * 35), "bankAccountNumber"),
    (lambda c: c.guid("not-a-guid", "userObjectId"), "userObjectId"),
    (lambda c: c.program_code("csp"), "code"),
    (lambda c: c.program_code("-CSP"), "code"),
    (lambda c: c.program_code("A"), "code"),
    (lambda c: c.program_code("A" * 33), "code"),
    (lambda c: c.partner_id("1234", "globalPartnerId"), "globalPartnerId"),
    (lambda c: c.partner_id("12345a", "globalPartnerId"), "globalPartnerId"),
    (lambda c: c.partner_id("1" * 17, "globalPartnerId"), "globalPartnerId"),
    (lambda c: c.tax_id(""), "taxId"),
    (lambda c: c.tax_id("FR;DROP"), "taxId"),
]


@pytest.mark.parametrize(("run", "field"), BAD_VALUES)
def test_each_bad_value_is_reported_on_its_field(run: Callable[[Checks], object], field: str) -> None:
    check = Checks()
    run(check)
    with pytest.raises(Invalid) as raised:
        check.done()
    assert [p.field for p in raised.value.problems] == [(field,)]


def test_every_problem_of_one_input_is_reported_together() -> None:
    check = Checks()
    check.name("", "legalName", max_length=200)
    check.country("XX")
    check.currency("ABC")
    with pytest.raises(Invalid) as raised:
        check.done()
    assert [p.field for p in raised.value.problems] == [("legalName",), ("country",), ("currency",)]
    assert raised.value.code == "INVALID"


def test_a_bank_account_number_of_4_to_34_characters_is_accepted() -> None:
    check = Checks()
    check.bank_account("1234")
    check.bank_account("A" * 34)
    check.done()
