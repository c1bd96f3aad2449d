"""Prometheus metrics, on one registry, served at /metrics."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry()

REQUESTS = Counter("hideki_requests_total", "Requests to /api/messages, by HTTP status", ["status"], registry=REGISTRY)
ACK_SECONDS = Histogram(
    "hideki_ack_seconds", "Time to acknowledge an activity", registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15),
)
PIPELINE_SECONDS = Histogram(
    "hideki_pipeline_seconds", "Time a pipeline took to answer", ["pipeline", "outcome"], registry=REGISTRY,
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
)
LLM_TOKENS = Counter("hideki_llm_tokens_total", "LLM tokens", ["pipeline", "direction"], registry=REGISTRY)
LLM_ERRORS = Counter("hideki_llm_errors_total", "LLM calls that failed after retries", ["kind"], registry=REGISTRY)
QUEUE_DEPTH = Gauge("hideki_jobs_pending", "Background jobs accepted and not finished", registry=REGISTRY)
JOBS_OPEN = Gauge("hideki_jobs_open", "Jobs in the shared queue not finished yet, on every replica", registry=REGISTRY)
LLM_IN_FLIGHT = Gauge("hideki_llm_in_flight", "LLM calls running or waiting for a slot", registry=REGISTRY)
BREAKER_OPEN = Gauge("hideki_llm_circuit_open", "1 while the LLM circuit breaker is open", registry=REGISTRY)
RATE_LIMITED = Counter("hideki_rate_limited_total", "Messages refused by rate limits", ["scope"], registry=REGISTRY)
FEEDBACK = Counter("hideki_feedback_total", "👍/👎 stored, by pipeline, verdict and how it was given (card, teams)",
                   ["pipeline", "verdict", "via"], registry=REGISTRY)
PII_FINDINGS = Counter("hideki_pii_findings_total", "Personal information found before an LLM call", ["category", "action"], registry=REGISTRY)


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
