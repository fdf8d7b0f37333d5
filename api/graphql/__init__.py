"""The GraphQL API: types, queries, mutations, loaders; resolvers translate, the domain decides."""
