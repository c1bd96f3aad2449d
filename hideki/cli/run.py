"""`hideki run <pipeline> [FILE]`: run any pipeline, built-in or custom, on a file or standard input; print the answer.

The bot's own composition (`app.build`: settings, prompts, registry, knowledge, gateway, PII guard, audit) without
Teams; offline unless a model endpoint is configured. For trying a prompt before binding it, and for batch work.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("run", help="run a pipeline on a file or stdin and print the Markdown answer")
    p.add_argument("pipeline", help="the pipeline's id or title (yasashii, 要約, …)")
    p.add_argument("file", nargs="?", type=Path, help="a file the pipeline takes (.docx .pdf .vtt …); default: stdin")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    import app
    from channels.base import Attachment, Place, User
    from channels.dispatch import Incoming
    from hideki.settings import SettingsError, load_settings
    from prompts import PromptError

    try:
        settings = load_settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        parts = app.build(settings)
    except (SettingsError, PromptError, ValueError) as exc:  # the same set that stops `hideki serve`
        print(f"Hideki を準備できません: {exc}", file=sys.stderr)
        return 2
    try:
        pipeline = parts.registry.find(args.pipeline)
        if pipeline is None:
            names = "、".join(f"{p.name}（{p.title}）" for p in parts.registry)
            print(f"「{args.pipeline}」という機能はありません。使える機能: {names}", file=sys.stderr)
            return 2
        text, attachments = "", []
        if args.file is not None:
            attachments = [Attachment(args.file.name, "", args.file.read_bytes())]
        else:
            text = sys.stdin.read()

        async def progress(step: str) -> None:
            print(f"{settings.progress_text} {step}", file=sys.stderr)

        incoming = Incoming(text, User("cli", "hideki run"), Place("cli", "channel", channel_id="cli"), attachments, "cli")
        reply = await parts.dispatcher.answer_with(pipeline, incoming, progress)
        print(reply.full_text())
        return 0
    finally:
        await parts.close()
