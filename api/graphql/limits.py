"""What one request may ask for, known before anything executes (CONTRACT 6.3, README "Limits").

Two checks, each one walk of the operation in which every fragment is walked once and its figures
remembered, so both take time linear in the document however its fragments spread one another
(Strawberry's `QueryDepthLimiter` walks a fragment again at each spread: a 1 KB fragment bomb took
seconds):

- `shape_rule(limits)`, a validation rule (cached with the document's validation): depth, aliases,
  directives and root mutation fields, counted with every fragment spread expanded.
- `cost_of(...)`, per request (it depends on the variables): how many objects the answer may hold,
  GitHub's node count. A field returning objects counts 1 for each object, times `first`/`last`
  (the argument's default, else the default page size, for a connection) or the number of `ids`;
  a root mutation field counts `MUTATION_COST` more. Introspection fields count nothing here: their
  depth is bounded by the depth rule and who may introspect is decided elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    Visitor,
    get_named_type,
    is_composite_type,
    value_from_ast_untyped,
    visit,
)
from graphql.validation import ASTValidationRule, ValidationContext

from api.graphql.pagination import DEFAULT_PAGE_SIZE

TOO_COMPLEX = "QUERY_TOO_COMPLEX"
MUTATION_COST = 10  # a write is worth ten objects read
PAGED = ("first", "last")


@dataclass(frozen=True)
class Limits:
    """Each limit and its default; README "Limits" says why."""

    depth: int = 12
    aliases: int = 30
    directives: int = 50
    root_mutation_fields: int = 4
    cost: int = 50_000


def too_complex(message: str, nodes: Any = None) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": TOO_COMPLEX})


# --- shape: depth, aliases, directives, root mutation fields ----------------------------------------


@dataclass(frozen=True)
class Shape:
    depth: int = 0  # of the deepest field below, the selection's own fields at 1
    aliases: int = 0
    directives: int = 0
    fields: int = 0  # fields at this level (fragments expanded): a mutation's root fields


class _Shapes:
    """Shapes of selection sets; each fragment's computed once (a cycle, which another rule reports,
    counts as nothing)."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
        self._known: dict[str, Shape] = {}

    def of(self, selection_set: SelectionSetNode | None) -> Shape:
        depth = aliases = directives = fields = 0
        for selection in selection_set.selections if selection_set else ():
            directives += len(selection.directives or ())
            if isinstance(selection, FieldNode):
                fields += 1
                aliases += selection.alias is not None
                below = self.of(selection.selection_set)
                if not selection.name.value.startswith("__"):  # introspection: as QueryDepthLimiter
                    depth = max(depth, 1 + below.depth)
                aliases, directives = aliases + below.aliases, directives + below.directives
                continue
            if isinstance(selection, FragmentSpreadNode):
                inner = self._fragment(selection.name.value)
            else:
                assert isinstance(selection, InlineFragmentNode)
                inner = self.of(selection.selection_set)
            depth = max(depth, inner.depth)
            aliases, directives = aliases + inner.aliases, directives + inner.directives
            fields += inner.fields
        return Shape(depth, aliases, directives, fields)

    def _fragment(self, name: str) -> Shape:
        if name not in self._known:
            fragment = self._fragments.get(name)
            self._known[name] = Shape()  # while walking it: a cycle counts nothing
            if fragment is not None:
                inner = self.of(fragment.selection_set)
                self._known[name] = Shape(
                    inner.depth,
                    inner.aliases,
                    inner.directives + len(fragment.directives or ()),
                    inner.fields,
                )
        return self._known[name]


def shape_rule(limits: Limits) -> type[ASTValidationRule]:
    """A validation rule refusing operations deeper, or with more aliases, directives or root
    mutation fields, than `limits` allow (`extensions.code` QUERY_TOO_COMPLEX)."""

    class ShapeRule(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)

        def enter_document(self, node: DocumentNode, *_: Any) -> object:
            fragments = {d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)}
            shapes = _Shapes(fragments)
            for operation in node.definitions:
                if isinstance(operation, OperationDefinitionNode):
                    for error in _refusals(limits, operation, shapes.of(operation.selection_set)):
                        self.report_error(error)
            return self.BREAK

    return ShapeRule


def _refusals(limits: Limits, operation: OperationDefinitionNode, shape: Shape) -> list[GraphQLError]:
    name = f"Operation '{operation.name.value}'" if operation.name else "The operation"
    counted = [
        ("aliases", shape.aliases, limits.aliases),
        ("directives", shape.directives + len(operation.directives or ()), limits.directives),
    ]
    if operation.operation is OperationType.MUTATION:
        counted.append(("root mutation fields", shape.fields, limits.root_mutation_fields))
    found = []
    if shape.depth - 1 > limits.depth:  # counted as QueryDepthLimiter did: root fields at 0
        found.append(
            too_complex(f"{name} is {shape.depth - 1} deep; the limit is {limits.depth}.", operation)
        )
    for what, count, limit in counted:
        if count > limit:
            found.append(too_complex(f"{name} has {count} {what}; the limit is {limit}.", operation))
    return found


# --- cost: how many objects the answer may hold ------------------------------------------------------


class _Costs:
    """Costs of selection sets under a parent type, for one request's variables; each fragment's once."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = dict(variables)
        self._known: dict[str, int] = {}

    def of(self, selection_set: SelectionSetNode | None, parent: Any) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value)
            else:
                assert isinstance(selection, InlineFragmentNode)
                condition = selection.type_condition
                inner = self._schema.get_type(condition.name.value) if condition else parent
                total += self.of(selection.selection_set, inner)
        return total

    def _field(self, node: FieldNode, parent: Any) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0  # validation reports it
        returned = get_named_type(definition.type)
        if not is_composite_type(returned):
            return 0
        return self._multiplier(node, definition, returned.name) * (1 + self.of(node.selection_set, returned))

    def _multiplier(self, node: FieldNode, definition: Any, returned: str) -> int:
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        if "ids" in given:
            ids = value_from_ast_untyped(given["ids"], self._variables)
            return len(ids) if isinstance(ids, list) else 1
        values = [value_from_ast_untyped(given[name], self._variables) for name in PAGED if name in given]
        sizes: list[int] = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
        if sizes:  # both `first` and `last` are refused at execution; the larger counts meanwhile
            return max(0, *sizes)
        paged = [definition.args[name] for name in PAGED if name in definition.args]
        if not paged:
            return 1
        default = paged[0].default_value
        if isinstance(default, int) and not isinstance(default, bool):
            return default
        return DEFAULT_PAGE_SIZE if returned.endswith("Connection") else 1

    def _fragment(self, name: str) -> int:
        if name not in self._known:
            fragment = self._fragments.get(name)
            self._known[name] = 0  # while walking it: a cycle counts nothing
            if fragment is not None:
                parent = self._schema.get_type(fragment.type_condition.name.value)
                self._known[name] = self.of(fragment.selection_set, parent)
        return self._known[name]


def cost_of(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
) -> int:
    """The operation's cost for these variables: at least 1."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    costs = _Costs(schema, fragments, variables or {})
    root = schema.get_root_type(operation.operation)
    total = costs.of(operation.selection_set, root)
    if operation.operation is OperationType.MUTATION:
        total += MUTATION_COST * _Shapes(fragments).of(operation.selection_set).fields
    return max(1, total)


def cost_variables(document: DocumentNode) -> frozenset[str]:
    """The variables a cost can depend on: those inside an `ids`, `first` or `last` argument."""
    names: set[str] = set()

    class Finder(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            if node.name.value in ("ids", *PAGED):
                visit(node.value, Collect())

    class Collect(Visitor):
        def enter_variable(self, node: VariableNode, *_: Any) -> None:
            names.add(node.name.value)

    visit(document, Finder())
    return frozenset(names)


INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


def root_selections(document: DocumentNode, operation: OperationDefinitionNode) -> list[FieldNode]:
    """The operation's root fields (fragments expanded, each fragment once)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    seen: set[str] = set()
    found: list[FieldNode] = []
    pending = [operation.selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    pending.append(fragments[name].selection_set)
    return found


def root_fields(document: DocumentNode, operation: OperationDefinitionNode) -> set[str]:
    """The names of the operation's root fields."""
    return {field.name.value for field in root_selections(document, operation)}


def asks_introspection(document: DocumentNode, operation: OperationDefinitionNode) -> bool:
    """Whether the operation selects `__schema` or `__type`."""
    return not root_fields(document, operation).isdisjoint(INTROSPECTION_ROOTS)
