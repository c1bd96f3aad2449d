"""Everything Hideki keeps: the database (SQLite or PostgreSQL), the small stores over it, the durable job
queue, conversation locks and rate limits (in-process or Redis), and the append-only audit log.
"""
