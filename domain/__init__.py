"""The business of partner incentives: entities, rules, use cases and storage.

Nothing here knows about GraphQL, HTTP or tokens; callers are described by `domain.access.Actor`.
"""
