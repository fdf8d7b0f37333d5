"""GraphQL over HTTP (the GraphQL Foundation's spec): which media type an answer takes, and its status.

    negotiate("application/graphql-response+json, application/json;q=0.9")  # GRAPHQL_RESPONSE
    negotiate(None) == negotiate("*/*") == JSON                               # the legacy type
    negotiate("text/xml") is None                                             # 406

With `application/graphql-response+json` a request error (the document does not parse or validate,
the variables do not coerce: nothing was executed) is a 400 without a `data` entry; with
`application/json` it stays a 200, as the spec asks for the legacy type.
"""

from __future__ import annotations

from functools import lru_cache

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
_WILDCARDS = ("*/*", "application/*")


@lru_cache(maxsize=256)  # clients send the same few Accept headers on every request
def negotiate(accept: str | None) -> str | None:
    """The answer's media type for an `Accept` header; None when the client accepts neither.

    `application/graphql-response+json` when accepted at least as much as `application/json`;
    `application/json` when Accept is absent or names it or a wildcard.
    """
    if accept is None or not accept.strip():
        return JSON
    quality = {GRAPHQL_RESPONSE: 0.0, JSON: 0.0}
    for media_range in accept.split(","):
        media, *parameters = (part.strip() for part in media_range.split(";"))
        media = media.lower()
        matched = (
            GRAPHQL_RESPONSE if media == GRAPHQL_RESPONSE else JSON if media in (JSON, *_WILDCARDS) else None
        )
        if matched is not None:
            quality[matched] = max(quality[matched], _quality(parameters))
    if quality[GRAPHQL_RESPONSE] > 0 and quality[GRAPHQL_RESPONSE] >= quality[JSON]:
        return GRAPHQL_RESPONSE
    return JSON if quality[JSON] > 0 else None


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0
