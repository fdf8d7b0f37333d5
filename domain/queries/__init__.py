"""The read side: plain SQLAlchemy queries the API batches through its DataLoaders.

Every function takes an `AsyncSession`, runs a fixed number of statements whatever the number
of keys, and returns model objects or small dataclasses. Nothing here writes or authorizes;
callers pass in the `Coverage` that limits what a caller may see.

    entities     batch loads by primary key, and what hangs directly off one row
    pages        keyset pages (one parent, or N parents in one statement) and counts
    enrollments  enrollments and invitations filtered by a caller's coverage
    people       users, assignments' scopes, incentive admins, admin contacts
"""
