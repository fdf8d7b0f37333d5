"""`incentives documents check`: each trusted document as the server would take it, before it runs.

A document passes when it parses within the token limit (`api.graphql.schema.MAX_TOKENS`), passes
graphql-core's validation with our shape rule (`api.graphql.limits.shape_rule`), and each of its
operations' static cost (`cost_of` with no variables: page sizes as written, else their defaults)
is within the cost limit. Problems name the operation (a fragment's, the operations spreading it).

    checked = check_document(schema, text, Limits(cost=settings.max_query_cost))
    checked.problems      # [] when it passes
    checked.costs         # {"Dashboard": 301, ...}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
)

from api.graphql.limits import Limits, cost_of, shape_rule
from api.graphql.schema import MAX_TOKENS
from api.trusted.extract import spread_fragments


@dataclass
class Checked:
    """One document's operations (`kind Name` -> static cost) and what is wrong with it."""

    costs: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def check_document(schema: GraphQLSchema, text: str, limits: Limits) -> Checked:
    checked = Checked()
    try:
        document = parse(text, max_tokens=MAX_TOKENS)
    except GraphQLError as error:
        checked.problems.append(f"the document: {error.message}")
        return checked
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    rules = [*specified_rules, shape_rule(limits)]
    for invalid in validate(schema, document, rules):
        checked.problems.append(f"{_where(document, invalid)}: {invalid.message}")
    if checked.problems:
        return checked
    for operation in operations:
        cost = cost_of(schema, document, operation, None)
        name = _named(operation)
        checked.costs[name] = cost
        if cost > limits.cost:
            checked.problems.append(f"{name}: it would cost {cost:,} points; the limit is {limits.cost:,}")
    return checked


def _named(operation: OperationDefinitionNode) -> str:
    return f"{operation.operation.value} {operation.name.value if operation.name else '(anonymous)'}"


def _where(document: DocumentNode, error: GraphQLError) -> str:
    """The operations an error is in: the one holding its first location, or those spreading the
    fragment holding it; `the document` when it is in none (or is about the whole)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    start = _start(error)
    for definition in document.definitions:
        loc = definition.loc
        if start is None or loc is None or not loc.start <= start < loc.end:
            continue
        if isinstance(definition, OperationDefinitionNode):
            return _named(definition)
        if isinstance(definition, FragmentDefinitionNode):
            return _fragment_users(document, definition.name.value, fragments)
    return "the document"


def _fragment_users(
    document: DocumentNode, name: str, fragments: Mapping[str, FragmentDefinitionNode]
) -> str:
    users = [
        _named(d)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode) and name in spread_fragments(d, fragments)
    ]
    return f"fragment {name} (in {', '.join(users) or 'no operation'})"


def _start(error: GraphQLError) -> int | None:
    for node in error.nodes or ():
        if node.loc is not None:
            return node.loc.start
    return next(iter(error.positions or ()), None)
