"""The model side: the OpenAI-compatible gateway (retries, timeouts, usage), the circuit breaker and
concurrency cap in front of it, Azure managed-identity tokens, and token counting with tiktoken offline.
"""
