"""The `hideki` command: a thin face over the functions the bot uses.

The one place under `hideki/` allowed to import upward (`app`, `bot`, `channels`, `knowledge`): a command
such as `hideki faq import` or `hideki serve` drives the same parts the bot is built from. Each module adds one
subcommand with `register(subparsers)`; `main.py` lists them.
"""
