"""The FAQ knowledge base of the サービスデスク pipeline: entries, importers, the hybrid retrieval index, versions.

`store` keeps versions (on disk, or in the database with `database`), `importers` read FAQ files, `index`
searches, and `startup` opens the knowledge base from settings. Imports only `hideki/`, never `channels/` or `bot/`.
"""
