"""The FAQ knowledge base for the service desk (import, index, retrieval). Filled in by the service-desk issue."""
