"""`hideki prompts check|list`: check edited prompt templates before (or while) the bot uses them."""
from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser("prompts", help="check or list the prompt templates (shipped and overrides)")
    sub = p.add_subparsers(dest="prompts_command", required=True)
    sub.add_parser("check", help="check every template; exit 1 naming the file and line of each problem").set_defaults(func=check)
    sub.add_parser("list", help="show which file each pipeline's template comes from").set_defaults(func=list_files)


def _library():
    from hideki.settings import load_settings
    from prompts import PromptLibrary

    return PromptLibrary(override_dir=load_settings().prompts_override_dir)


def check(args: argparse.Namespace) -> int:
    from channels import PIPELINES
    from prompts import PromptError

    library, problems = _library(), 0
    for cls in PIPELINES:
        try:
            library.load(cls.name, cls.prompts)
        except PromptError as exc:
            problems += 1
            print(f"NG  {cls.name}: {exc}", file=sys.stderr)
        else:
            print(f"OK  {cls.name}")
    return 1 if problems else 0


def list_files(args: argparse.Namespace) -> int:
    from channels import PIPELINES

    library = _library()
    for cls in PIPELINES:
        for name, variables in cls.prompts.items():
            path = library.path_of(cls.name, name)
            kind = "上書き" if library.override_dir and library.override_dir in path.parents else "標準"
            names = " ".join("${" + v + "}" for v in sorted(variables)) or "-"
            print(f"{cls.name}/{name}\t{kind}\t{path}\t{names}")
    return 0
