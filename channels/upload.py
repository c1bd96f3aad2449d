"""パイプライン定義: an admin sends a `pipeline.toml` in a 1:1 chat, sees a preview, and presses 反映 or 取り消し.

The file is checked exactly as a definition on disk is (channels.definitions); the preview shows the title,
description, prompts and what changes. 反映 writes it to `$HIDEKI_DATA_DIR/pipelines/<id>/pipeline.toml` (the
running bot picks it up within seconds, like any edited definition) after copying the previous version to
`pipelines/.history/<id>/<time>/`. Non-admins get a polite refusal.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path, PurePath

from channels.base import Action, Button, Pipeline, PipelineContext, Reply, Request
from channels.definitions import (
    FILE_NAMES, Definition, DefinitionError, Reserved, check_titles, folders, load_folder, parse_definition,
)

HISTORY = ".history"
PROMPT_SHOWN = 600  # characters of each prompt in the preview
ADMINS_ONLY = ("パイプライン定義の反映は、管理者だけができます。新しい機能を使いたいときは、"
               "pipeline.toml を管理者に渡して依頼してください。")


class DefinitionUpload(Pipeline):
    name = "pipelines"
    title = "パイプライン定義"
    description = "管理者が1対1チャットで pipeline.toml を送ると、内容を確かめたうえで新しい機能として反映します。"
    file_types = (".toml",)
    bindable = False  # reached only by sending a .toml in a 1:1 chat

    def __init__(self, context: PipelineContext, reserved: Reserved = Reserved()) -> None:
        self._results = context.results
        self._admins = set(context.admins)
        self._directory = context.custom_pipelines_dir
        self._reserved = reserved

    def _is_admin(self, aad_object_id: str) -> bool:
        return bool(aad_object_id) and aad_object_id in self._admins

    async def run(self, request: Request) -> Reply:
        if not request.attachments:
            return Reply(self.usage_text(), remember=False)
        if not self._is_admin(request.user.aad_object_id):
            return Reply(ADMINS_ONLY, remember=False)
        attachment = request.attachments[0]
        try:
            definition = self._check(attachment.name, attachment.data)
        except DefinitionError as exc:
            return Reply(f"この定義は反映できません。直してから、もう一度送ってください。\n\n{exc}", remember=False)
        pending = self._results.save(self.name, "definition", json.dumps(
            {"id": definition.id, "name": attachment.name, "toml": attachment.data.decode("utf-8-sig")}, ensure_ascii=False))
        return Reply(
            self._preview(definition),
            buttons=[Button("反映", self.action_name("apply"), {"pending": pending}),
                     Button("取り消し", self.action_name("cancel"), {"pending": pending})],
            caption=f"反映すると: {self._change(definition)}",
            confirm=True,
            remember=False,
        )

    async def act(self, action: Action) -> Reply:
        if not self._is_admin(action.user.aad_object_id):
            return Reply(ADMINS_ONLY, remember=False)
        saved = self._results.get(str(action.data.get("pending", "")), self.name)
        if saved is None:
            return Reply("この定義は保存期間を過ぎたか、もう処理済みです。もう一度送ってください。", remember=False)
        if action.name == "cancel":
            return Reply("取り消しました。定義は変わっていません。", remember=False)
        if action.name != "apply":
            return Reply("この操作には対応していません。", remember=False)
        upload = json.loads(saved[1])
        try:  # checked again: another definition may have taken the title meanwhile
            definition = self._check(upload["name"], upload["toml"].encode("utf-8"))
        except DefinitionError as exc:
            return Reply(f"反映できませんでした。\n\n{exc}", remember=False)
        kept = self._store(definition.id, upload["toml"], action.user.aad_object_id)
        history = f"前の版は {kept} に残しました。" if kept else ""
        return Reply(f"**{definition.title}**（{definition.id}）を反映しました。数秒で使えるようになります。{history}\n\n"
                     f"チャネルで `@Hideki 設定 {definition.title}` と送ると、そのチャネルの機能になります。", remember=False)

    # --- checking and storing --------------------------------------------------------------------
    def _check(self, name: str, data: bytes) -> Definition:
        if self._directory is None:
            raise DefinitionError("パイプライン定義のフォルダが設定されていません。")
        stem = PurePath(name).stem
        definition = parse_definition(None if stem == "pipeline" else stem, data, {}, Path(name), self._reserved)
        others = []
        for folder in folders(self._directory):
            if folder.name != definition.id:
                try:
                    others.append(load_folder(folder, self._reserved))
                except DefinitionError:
                    continue  # a broken neighbour is its own problem (and not in use)
        check_titles([*others, definition])
        return definition

    def _existing(self, pipeline_id: str) -> Definition | None:
        folder = self._directory / pipeline_id if self._directory is not None else None
        if folder is None or not (folder / "pipeline.toml").exists():
            return None
        try:
            return load_folder(folder, self._reserved)
        except DefinitionError:
            return None

    def _change(self, definition: Definition) -> str:
        old = self._existing(definition.id)
        if old is None:
            return f"新しい機能「{definition.title}」（{definition.id}）を追加します"
        before, after = old.spec.model_dump(exclude={"system", "user"}), definition.spec.model_dump(exclude={"system", "user"})
        changed = [key for key in after if before[key] != after[key]]
        if old.system_text != definition.system_text:
            changed.append("システムプロンプト")
        if old.user_text != definition.user_text:
            changed.append("ユーザープロンプト")
        what = "、".join(changed) if changed else "変更なし"
        return f"「{old.title}」（{definition.id}）を置き換えます（変わる項目: {what}）"

    def _preview(self, definition: Definition) -> str:
        spec = definition.spec

        def shown(text: str) -> str:
            text = text.strip() or "（なし）"
            return text if len(text) <= PROMPT_SHOWN else text[:PROMPT_SHOWN] + "…"

        settings = [f"モデル: {spec.model or '既定'}", f"温度: {spec.temperature if spec.temperature is not None else '既定'}",
                    f"個人情報: {spec.pii or '既定'}", f"入力の上限: {spec.max_input_chars:,}文字",
                    f"ファイル: {' '.join(spec.file_types) or 'なし'}", f"出力: {spec.output}",
                    f"確認の処理: {'、'.join(spec.steps) or 'なし'}", f"生成AIなしのとき: {spec.offline or '（生成AIが必要と答える）'}",
                    f"例: {len(spec.examples)}件"]
        return "\n\n".join([
            f"**パイプライン定義の確認**: {self._change(definition)}",
            f"**名前**: {definition.title}（{definition.id}）\n\n**説明**: {spec.description}",
            " ・ ".join(settings),
            f"**システムプロンプト**\n```\n{shown(definition.system_text)}\n```",
            f"**ユーザープロンプト**\n```\n{shown(definition.user_text)}\n```",
        ])

    def _store(self, pipeline_id: str, toml: str, author: str) -> str:
        """Write the definition (the previous files to the history first); the history folder, or "" if new."""
        assert self._directory is not None
        folder = self._directory / pipeline_id
        kept = ""
        if folder.exists():
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
            history = self._directory / HISTORY / pipeline_id / f"{stamp}-{author[:40] or 'admin'}"
            history.mkdir(parents=True)
            for name in FILE_NAMES:
                if (folder / name).is_file():
                    shutil.copy2(folder / name, history / name)
            kept = str(history.relative_to(self._directory))
        folder.mkdir(parents=True, exist_ok=True)
        for name in FILE_NAMES[1:]:  # the uploaded file is the whole definition: its prompts are inline
            (folder / name).unlink(missing_ok=True)
        temporary = folder / ".pipeline.toml.new"
        temporary.write_text(toml, encoding="utf-8")
        os.replace(temporary, folder / "pipeline.toml")
        return kept
