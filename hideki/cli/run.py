"""`hideki run <pipeline> [FILE] [-o OUT]`: run any pipeline, built-in or custom, on a file or standard input; print
the answer, and with `-o` write the file of OUT's type the answer carries (`Reply.files`: the Word version of a
やさしい日本語 rewrite, minutes as Word, Q&A as Excel), the answer's text on stdout and its notes on stderr.

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
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="write the answer's file of this type (.docx, .xlsx); the measures and notes go to stderr")
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
        if args.output is not None:
            return _write_output(reply, args.output, args.file)
        print(reply.full_text())
        if buttons := _buttons(reply):
            print(buttons, file=sys.stderr)
        if reply.files:
            names = "、".join(f.name for f in reply.files)
            print(f"ℹ️ ファイルも作りました（{names}）。-o 出力先 で書き出せます。", file=sys.stderr)
        return 0
    finally:
        await parts.close()


def _buttons(reply) -> str:
    """The buttons Teams would show under the answer (e.g. the service desk's 「次のどれについてですか？」 choices),
    as lines for a reader of the terminal; "" when there are none. Standard output keeps only the Markdown answer."""
    lines = [f"（Teams でのボタン）{reply.caption}".rstrip()] if reply.buttons else []
    lines += [f"- {button.title}" for button in reply.buttons]
    if reply.related:
        lines += ["（関連する質問）", *(f"- {button.title}" for button in reply.related)]
    return "\n".join(lines)


def _write_output(reply, output: Path, source: Path | None) -> int:
    """Write the reply's file whose suffix is OUT's; the text to stdout, its notes to stderr. 2 when there is none."""
    from hideki.documents.files import write_atomically

    wanted = output.suffix.lower()
    file = next((f for f in reply.files if f.suffix == wanted), None)
    if file is None:
        print(reply.full_text(), file=sys.stderr)
        made = "、".join(f.suffix for f in reply.files) or "なし"
        print(f"この結果には {wanted or '拡張子なし'} のファイルがありません（作れる形式: {made}）。", file=sys.stderr)
        return 2
    if not output.parent.is_dir():
        print(f"出力先のフォルダがありません: {output.parent}", file=sys.stderr)
        return 2
    if source is not None and source.resolve() == output.resolve():
        print("入力と同じファイルには書き込みません。別の出力先を指定してください。", file=sys.stderr)
        return 2
    write_atomically(output, lambda f: f.write(file.data))
    print(reply.text)
    for line in reply.warnings:
        print(line, file=sys.stderr)
    print(f"書き出しました: {output}", file=sys.stderr)
    return 0
