"""`errors.show`, what a client sees of an answer's errors on both of a request's paths: expected
errors as they are, the client's bad variables tagged, the database's absence told as UNAVAILABLE,
suggestions cut off unless enabled, everything else masked where it was and logged with the
request id."""

from __future__ import annotations

import logging

import pytest
from graphql import GraphQLError, Source

from api.graphql import errors
from api.graphql.errors import ExpectedError


def _located(message: str, original: Exception | None = None) -> GraphQLError:
    source = Source("{ programs { edges { node { criteria } } } }")
    return GraphQLError(
        message,
        source=source,
        positions=[28],
        path=["programs", "edges", 0, "node", "criteria"],
        original_error=original,
    )


def test_an_unexpected_error_is_masked_where_it_was_and_its_original_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failure = RuntimeError('SELECT secret FROM "program_criteria"')
    shown = [_located(str(failure), failure)]

    with caplog.at_level(logging.WARNING, logger="incentives.graphql"):
        unavailable = errors.show(shown, request_id="r-1", suggestions=False)

    assert unavailable is False
    assert shown[0].formatted == {
        "message": "Unexpected error.",
        "locations": [{"line": 1, "column": 29}],
        "path": ["programs", "edges", 0, "node", "criteria"],
    }
    assert [(r.levelname, r.getMessage(), getattr(r, "request_id", None)) for r in caplog.records] == [
        ("ERROR", "unexpected error at programs.edges.0.node.criteria", "r-1")
    ]
    assert caplog.records[0].exc_info is not None
    assert caplog.records[0].exc_info[1] is failure


def test_expected_errors_bad_variables_and_graphql_errors_are_shown_as_they_are(
    caplog: pytest.LogCaptureFixture,
) -> None:
    forbidden = ExpectedError("Forbidden. Requires: operator.", extensions={"code": "FORBIDDEN"})
    expected = _located(forbidden.message, forbidden)
    bad = GraphQLError("Variable '$n' got invalid value 'x'; Int cannot represent it.")
    validation = GraphQLError("Cannot query field 'viewr' on type 'Query'. Did you mean 'viewer'?")
    shown = [expected, bad, validation]

    with caplog.at_level(logging.WARNING, logger="incentives.graphql"):
        unavailable = errors.show(shown, request_id="r-2", suggestions=False)

    assert unavailable is False
    assert shown == [expected, bad, validation]
    assert expected.message == "Forbidden. Requires: operator."
    assert bad.extensions == {"code": "BAD_USER_INPUT"}
    assert validation.message == "Cannot query field 'viewr' on type 'Query'."
    assert caplog.records == []


def test_suggestions_stay_when_enabled() -> None:
    validation = GraphQLError("Cannot query field 'viewr' on type 'Query'. Did you mean 'viewer'?")

    errors.show([validation], request_id=None, suggestions=True)

    assert validation.message.endswith("Did you mean 'viewer'?")


def test_the_database_away_is_unavailable_and_logged_once_before_what_was_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lost = _located("connection reset by peer", ConnectionResetError("connection reset by peer"))
    broken = _located("boom", RuntimeError("boom"))
    shown = [lost, broken, _located("reset", ConnectionResetError("reset"))]

    assert not errors.all_expected(shown)
    with caplog.at_level(logging.WARNING, logger="incentives.graphql"):
        unavailable = errors.show(shown, request_id="r-3", suggestions=False)

    assert unavailable is True
    assert shown[0] is lost
    assert lost.formatted["message"] == errors.UNAVAILABLE_MESSAGE
    assert lost.formatted["extensions"] == {"code": "UNAVAILABLE"}
    assert shown[1].message == "Unexpected error."
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "the database is unavailable"),
        ("ERROR", "unexpected error at programs.edges.0.node.criteria"),
    ]
    assert not errors.all_expected([_located("boom", RuntimeError("boom"))])
    assert errors.all_expected(
        [_located("Forbidden.", ExpectedError("Forbidden.")), GraphQLError("Invalid.")]
    )
