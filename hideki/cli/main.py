"""The `hideki` command: a thin face over the functions the bot uses."""
from __future__ import annotations

import argparse
import importlib
import sys


def _serve(args: argparse.Namespace) -> int:
    import app  # the composition root; imported here so other commands stay light

    return app.main()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hideki", description="Hideki — 自治体職員向け Teams AI アシスタント")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the bot (same as python app.py)")
    serve.set_defaults(func=_serve)
    for module in _COMMAND_MODULES:
        importlib.import_module(module).register(commands)
    return parser


# Each module adds its own subcommand with `register(subparsers)`.
_COMMAND_MODULES = ["hideki.cli.furigana", "hideki.cli.faq", "hideki.cli.usage", "hideki.cli.pii", "hideki.cli.teams", "hideki.cli.prompts",
                    "hideki.cli.pipelines", "hideki.cli.run"]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
