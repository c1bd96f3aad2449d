"""パイプライン定義: an admin sends a `pipeline.toml` in a 1:1 chat, sees a preview, and presses 反映 or 取り消し.

The file is checked exactly as a definition on disk is (channels.definitions); the preview shows the title,
description, prompts and what changes. 反映 stores it as a new version in the database (channels.stored: history,
rollback, every replica writes it into its folder within seconds) and writes it to
`$HIDEKI_DATA_DIR/pipelines/<id>/pipeline.toml` at once, after copying the previous files to
`pipelines/.history/<id>/<time>-<who>/`. Non-admins get a polite refusal.
"""
from __future__ import annotations

import json
from pathlib import Path, PurePath

from channels.base import Action, Button, Pipeline, PipelineContext, Reply, Request
from channels.definitions import Definition, DefinitionError, Reserved
from channels.stored import check_new, describe_change, existing, write_folder

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
        self._store = context.definitions
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
        assert self._directory is not None  # _check refused otherwise
        who = action.user.aad_object_id
        version = None
        if self._store is not None:
            version = self._store.apply(definition.id, upload["toml"], who, self._change(definition, done=True))
        kept = write_folder(self._directory, definition.id, upload["toml"], who, version)
        stored = f"版 {version} として保存しました（hideki pipelines history {definition.id}）。" if version else ""
        history = f"前の版は {kept} に残しました。" if kept else ""
        return Reply(f"**{definition.title}**（{definition.id}）を反映しました。数秒で使えるようになります。{stored}{history}\n\n"
                     f"チャネルで `@Hideki 設定 {definition.title}` と送ると、そのチャネルの機能になります。", remember=False)

    # --- checking and storing --------------------------------------------------------------------
    def _check(self, name: str, data: bytes) -> Definition:
        if self._directory is None:
            raise DefinitionError("パイプライン定義のフォルダが設定されていません。")
        stem = PurePath(name).stem
        return check_new(None if stem == "pipeline" else stem, data, Path(name), self._directory, self._reserved)

    def _change(self, definition: Definition, done: bool = False) -> str:
        assert self._directory is not None
        return describe_change(existing(self._directory, definition.id, self._reserved), definition, done)

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
