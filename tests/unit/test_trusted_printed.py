"""`printed`: a document as graphql-js 16's `print` gives it (what Apollo Client hashes and
ariadne-codegen sends), which graphql-core 3.3's `print_ast` differs from on lists and input objects."""

from __future__ import annotations

from graphql import parse, print_ast

from api.trusted.manifest import document_id, printed, printed_id

SENT = "mutation M($a: ID!, $b: [ID!]) { m(input: {a: $a, b: $b, c: [1, 2], d: {e: ENUM}}) { id } }"


def test_input_objects_and_lists_print_on_one_line_without_inner_spaces() -> None:
    assert printed(SENT) == (
        "mutation M($a: ID!, $b: [ID!]) {\n"
        "  m(input: {a: $a, b: $b, c: [1, 2], d: {e: ENUM}}) {\n    id\n  }\n}"
    )
    assert print_ast(parse(SENT)) != printed(SENT)  # graphql-core's own: `{ a: $a, ... }`, wrapped


def test_a_long_argument_list_wraps_as_graphql_js_does() -> None:
    long = (
        'query Q { a(first: 1, after: "cursor-of-some-length", filter: {name: "a long enough name"}) { id } }'
    )

    assert printed(long) == (
        'query Q {\n  a(\n    first: 1\n    after: "cursor-of-some-length"\n'
        '    filter: {name: "a long enough name"}\n  ) {\n    id\n  }\n}'
    )


def test_a_printed_text_is_its_own_printed_form() -> None:
    text = printed(SENT)

    assert printed(text) == text
    assert printed_id(SENT) == printed_id(text) == document_id(text)
