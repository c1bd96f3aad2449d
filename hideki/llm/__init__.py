"""The model side: the OpenAI-compatible gateway (retries, timeouts, usage), the circuit breaker and
concurrency cap in front of it, Azure managed-identity tokens, token counting with tiktoken offline, and
reading a model's structured (JSON) answer.
"""
