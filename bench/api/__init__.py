"""The side-by-side API benchmark (`python -m bench.api`): the dashboard, `node(id:)` and `programs`,
answered by the floor (Starlette + asyncpg, hand-written SQL), PostGraphile v4 and incentives.

    dataset      seeding the partner base in SQL, and the one organization the dashboard shows
    operations   the three operations: request bodies, PostGraphile's equivalents, normalised answers
    floor        the floor server (`python -m bench.api.floor`)
    wire         a PostgreSQL wire proxy that counts the statements a server sends
    servers      starting, checking and stopping the three server processes
    load         wrk with a generated Lua script: warm-up, steady-state throughput, latencies, errors
    run          the whole run, the printed table and the results file
"""
