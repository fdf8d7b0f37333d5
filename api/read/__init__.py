"""The planned read path: a query answered per request, not per field.

Strawberry parses and validates every document; for a query this package can answer (`plan`), it
executes instead of graphql-core: breadth first, one batch of SQL per field of the selection (not
per row), over plain rows, with the caller's visibility and field permissions checked the way the
resolvers check them, and the answer assembled as plain dicts. Anything it cannot answer (mutations,
subscriptions, the directory, the mail queue, introspection) goes to graphql-core as before.

    collect     the fields a selection asks of each type (fragments, aliases, @skip/@include)
    engine      one run of a plan: objects in flight, errors at their paths, nulls that bubble
    model       the read model: for each type and field, where its value comes from
    extension   the Strawberry extension that runs a planned read instead of graphql-core
"""
