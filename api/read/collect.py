"""Which fields a selection asks of an object type: fragments expanded, aliases merged, @skip and
@include applied, as GraphQL's CollectFields does, collected once per type and kept with the plan.

    plan = Plan.of(schema, document, operation)          # cached by the document
    for field in plan.root.fields_for(query_type, variables): ...
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_composite_type,
    visit,
)
from graphql.execution.values import VariableValues, get_directive_values
from graphql.language import Visitor

from api.graphql.limits import cost_variables

TYPENAME = "__typename"


@dataclass(frozen=True)
class Field:
    """One response key of an object: the field asked, with every node that asked it."""

    key: str
    name: str
    nodes: tuple[FieldNode, ...]
    definition: GraphQLField | None  # None for __typename
    selection: Selection | None  # the merged sub-selection of a composite field


@dataclass(eq=False)
class Selection:
    """The merged selection sets of some field nodes (or of the operation)."""

    plan: Plan
    sets: tuple[SelectionSetNode, ...]
    _by_type: dict[tuple[str, tuple[Any, ...]], list[Field]] = field(default_factory=dict)

    def fields_for(self, runtime: GraphQLObjectType, variables: VariableValues) -> list[Field]:
        """The fields asked of an object of type `runtime`, in the order a response lists them."""
        key = (runtime.name, self.plan.directive_key(variables))
        found = self._by_type.get(key)
        if found is None:
            found = self._by_type[key] = self._collect(runtime, variables)
        return found

    def _collect(self, runtime: GraphQLObjectType, variables: VariableValues) -> list[Field]:
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in self.sets:
            self.plan.gather(runtime, selection_set, variables, grouped, visited)
        fields = []
        for key, nodes in grouped.items():
            name = nodes[0].name.value
            definition = None if name == TYPENAME else runtime.fields.get(name)
            sub = None
            if definition is not None and is_composite_type(get_named_type(definition.type)):
                sets = tuple(node.selection_set for node in nodes if node.selection_set is not None)
                sub = Selection(self.plan, sets)
            fields.append(Field(key, name, tuple(nodes), definition, sub))
        return fields


@dataclass(eq=False)
class Plan:
    """A validated document's operation, ready to run; built once per document and kept."""

    schema: GraphQLSchema
    document: DocumentNode
    operation: OperationDefinitionNode
    fragments: Mapping[str, FragmentDefinitionNode]
    directive_variables: tuple[str, ...]
    root: Selection = field(init=False)
    # The request's cost by the values it depends on (`cost_key`), a few at most.
    cost_variables: tuple[str, ...] = field(init=False)  # sorted: the order of `cost_key`
    costs: dict[Hashable, int] = field(init=False, default_factory=dict)
    # Builders of selections whose getters hold nothing of a run (`Run.builder`), by type,
    # selection and @skip/@include values; None where a selection has no builder.
    builders: dict[tuple[str, int, tuple[Any, ...]], Callable[[Any], dict[str, Any]] | None] = field(
        init=False, default_factory=dict
    )
    # The coerced arguments of fields that read no variable (`Run.arguments`; None for those that
    # do), by the id of the field (each `Field` lives as long as the plan, in its selection).
    constant_arguments: dict[int, Mapping[str, Any] | None] = field(init=False, default_factory=dict)
    # What else is worked out once per plan from its fields (a connection's JSON form), by key.
    kept: dict[Hashable, Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.root = Selection(self, (self.operation.selection_set,))
        self.cost_variables = tuple(sorted(cost_variables(self.document)))

    def cost_key(self, variables: VariableValues) -> Hashable | None:
        """What the cost depends on in these variables (`limits.cost_of`: page sizes and the number
        of ids); None when it cannot be told by value."""
        key = []
        for name in self.cost_variables:
            value = variables.coerced.get(name)
            if isinstance(value, list):
                value = len(value)
            if not isinstance(value, int | None):
                return None
            key.append(value)
        return tuple(key)

    @classmethod
    def of(cls, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) -> Plan:
        fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        return cls(schema, document, operation, fragments, _directive_variables(document))

    def directive_key(self, variables: VariableValues) -> tuple[Any, ...]:
        """The values that decide @skip and @include: collections differ only when these do."""
        if not self.directive_variables:
            return ()
        return tuple(repr(variables.coerced.get(name)) for name in self.directive_variables)

    def gather(
        self,
        runtime: GraphQLObjectType,
        selection_set: SelectionSetNode,
        variables: VariableValues,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection, variables):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(selection.type_condition, runtime):
                    self.gather(runtime, selection.selection_set, variables, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if name in visited or fragment is None:
                    continue
                visited.add(name)
                if self._applies(fragment.type_condition, runtime):
                    self.gather(runtime, fragment.selection_set, variables, grouped, visited)

    def _applies(self, condition: Any, runtime: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        named = self.schema.get_type(condition.name.value)
        if named is runtime:
            return True
        return bool(named is not None and is_abstract_type(named) and self.schema.is_sub_type(named, runtime))

    def _included(self, node: SelectionNode, variables: VariableValues) -> bool:
        if not node.directives:
            return True
        skip = get_directive_values(GraphQLSkipDirective, node, variables)
        if skip is not None and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, variables)
        return not (include is not None and include.get("if") is False)


def _directive_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables any directive of the document reads (they change what is collected)."""
    names: list[str] = []

    class Finder(Visitor):
        def enter_directive(self, node: Any, *args: Any) -> None:
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    names.append(argument.value.name.value)

    visit(document, Finder())
    return tuple(sorted(set(names)))
