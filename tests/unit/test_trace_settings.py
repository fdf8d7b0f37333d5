"""Which traces the standard OTEL_* settings ask for (api.tracing): none unless an exporter or an OTLP
endpoint is named, and a clear refusal of what the service cannot do. (Nothing here installs the SDK:
a tracer provider is the process's once set.)"""

from __future__ import annotations

import pytest

from api.settings import Settings
from api.tracing import TracingMisconfigured, configure_tracing, exporters_asked, tracing_on

ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}


def test_with_no_otel_setting_nothing_is_installed() -> None:
    assert exporters_asked({}) == []
    assert configure_tracing({"OTEL_SERVICE_NAME": "incentives"}) is None
    assert not tracing_on()


def test_an_otlp_endpoint_alone_asks_for_otlp() -> None:
    assert exporters_asked(ENDPOINT) == ["otlp"]
    traces_only = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}
    assert exporters_asked(traces_only) == ["otlp"]
    assert exporters_asked({"OTEL_TRACES_EXPORTER": "otlp,console"}) == ["otlp", "console"]


@pytest.mark.parametrize(
    "settings", [{"OTEL_TRACES_EXPORTER": "none", **ENDPOINT}, {"OTEL_SDK_DISABLED": "true", **ENDPOINT}]
)
def test_none_or_a_disabled_sdk_turns_traces_off_whatever_else_is_set(settings: dict[str, str]) -> None:
    assert exporters_asked(settings) == []


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc", "GRPC"])
def test_otlp_goes_over_http_protobuf_or_grpc(protocol: str) -> None:
    assert exporters_asked({**ENDPOINT, "OTEL_EXPORTER_OTLP_PROTOCOL": protocol}) == ["otlp"]


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER='zipkin'"),
        ({**ENDPOINT, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL='http/json'"),
    ],
)
def test_what_the_service_cannot_export_is_refused_by_name(settings: dict[str, str], named: str) -> None:
    with pytest.raises(TracingMisconfigured, match=named):
        exporters_asked(settings)


@pytest.mark.parametrize(
    ("settings", "comments"), [({}, False), ({"INCENTIVES_TRACE_SQL_COMMENTS": "true"}, True)]
)
def test_sql_comments_are_off_unless_asked_for(settings: dict[str, str], comments: bool) -> None:
    """Each commented statement is new text to PostgreSQL: parsed and planned again (the docs' figures)."""
    assert Settings.model_validate(settings).trace_sql_comments is comments
