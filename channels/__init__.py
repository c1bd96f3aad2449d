"""Pipelines, one per file, and the registry. To add a pipeline, subclass channels.base.Pipeline and add it to PIPELINES;
to add one without code, put a definition folder under $HIDEKI_DATA_DIR/pipelines/ (channels.custom)."""
from __future__ import annotations

from dataclasses import replace

from channels.base import Pipeline, PipelineContext, Reply, Request
from channels.chat import ChatPipeline
from channels.custom import CustomPipelines
from channels.definitions import Reserved
from channels.minutes import MinutesPipeline
from channels.qa import QAPipeline
from channels.registry import Registry
from channels.servicedesk import ServiceDeskPipeline
from channels.upload import DefinitionUpload
from channels.yasashii import YasashiiPipeline
from prompts import PromptLibrary

PIPELINES: list[type[Pipeline]] = [ChatPipeline, YasashiiPipeline, QAPipeline, MinutesPipeline, ServiceDeskPipeline]
# what a custom pipeline may not be called
RESERVED = Reserved.of((cls.name, cls.title) for cls in [*PIPELINES, DefinitionUpload])


def build_registry(library: PromptLibrary, context: PipelineContext, default: str = "chat") -> Registry:
    """Instantiate every pipeline with its checked prompt set and the services in `context`, plus the custom
    pipelines defined under `context.custom_pipelines_dir` and the admin's upload of definitions (raises
    PromptError / ValueError / DefinitionError on bad files)."""
    pipelines: list[Pipeline] = [cls(replace(context, prompts=library.load(cls.name, cls.prompts))) for cls in PIPELINES]
    custom = None
    if context.custom_pipelines_dir is not None:
        pipelines.append(DefinitionUpload(context, RESERVED))
        custom = CustomPipelines(context.custom_pipelines_dir, RESERVED, context)
        custom.load()
    return Registry(pipelines, default=default, custom=custom)


__all__ = ["PIPELINES", "RESERVED", "Pipeline", "PipelineContext", "Registry", "Reply", "Request", "build_registry"]
