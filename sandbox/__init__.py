"""The sandbox: a loopback Entra ID and Microsoft Graph, and the demo with its sample data.

It signs tokens for anyone who asks, so nothing of the product imports it: `incentives demo`
imports `sandbox.demo` when it runs (the one exception, named in the import contracts), and the
tests use it as their identity provider and directory. Everything in it listens on loopback only.

    tokens       LoopbackKey and LoopbackIssuer: signing keys, discovery documents, minted tokens
    oauth        the token and device-code endpoints (MSAL's side of sign-in)
    clients      app registrations and how a confidential client proves itself
    graph        a small Microsoft Graph: the directory's users and sendMail
    entra        LoopbackEntra: all of the above under one base URL
    routing      sends requests for Microsoft's public hosts to the loopback instead
    server       running a LoopbackEntra with uvicorn (a thread, or the running event loop)
    sample_data  the demo's organizations, people, programs and enrollments
    demo         `incentives demo`
"""
