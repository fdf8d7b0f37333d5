"""The side-by-side API benchmark (`python -m bench.api`): the dashboard, `node(id:)` and `programs`,
answered by the floor (Starlette + asyncpg, hand-written SQL), PostGraphile v4 and incentives.

    cli          the options, the printed tables and the results file
    run          the whole run: seed, verify and count, measure in interleaved rounds
    dataset      seeding the partner base in SQL, and the Global admin whose dashboard is measured
    operations   the three operations: request bodies, PostGraphile's equivalents, normalised answers
    floor        the floor server (`python -m bench.api.floor`)
    servers      starting, checking and stopping the three server processes; npm and wrk installs
    signin       the loopback Entra and the admin's token
    inprocess    incentives and the floor served in the benchmark's event loop (counting, smoke test)
    verify       same data from every server, probes, statements per request
    wire         a PostgreSQL wire proxy that counts the statements a server sends
    load         wrk with a generated Lua script: warm-up, steady-state throughput, latencies, errors
    others       the CPU other processes take during a run; waiting for a quiet machine
    report       the tables and the ratios
"""
