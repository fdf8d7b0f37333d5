"""The planned read path: a query answered per request, not per field.

Strawberry parses and validates every document; for a query this package can answer (`plan`), it
executes instead of graphql-core: breadth first, one batch of SQL per field of the selection (not
per row), over plain rows, and the answer assembled as plain dicts. What each field reads, and who
may read it, is its declaration (`api.graphql.declared`), from which Strawberry's resolvers are
made too. Anything it cannot answer (mutations, subscriptions, introspection, an error on a
non-null field) goes to graphql-core.

    collect     the fields a selection asks of each type (fragments, aliases, @skip/@include)
    engine      one run of a plan: objects in flight, errors at their paths, nulls that bubble
    derived     the read model: each declared field's handler (and getter), by kind of source
    builders    one function per selection for the levels read off the row alone
    json_pages  pages of a connection as JSON the database builds
    extension   the Strawberry extension that runs a planned read instead of graphql-core
    lane        the planned read's own path from a request's body to its answer
"""
