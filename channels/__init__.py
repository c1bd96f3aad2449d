"""Pipelines, one per file, and the registry. To add a pipeline, subclass channels.base.Pipeline and add it to PIPELINES."""
from __future__ import annotations

from dataclasses import replace

from channels.base import Pipeline, PipelineContext, Reply, Request
from channels.chat import ChatPipeline
from channels.minutes import MinutesPipeline
from channels.qa import QAPipeline
from channels.registry import Registry
from channels.servicedesk import ServiceDeskPipeline
from channels.yasashii import YasashiiPipeline
from prompts import PromptLibrary

PIPELINES: list[type[Pipeline]] = [ChatPipeline, YasashiiPipeline, QAPipeline, MinutesPipeline, ServiceDeskPipeline]


def build_registry(library: PromptLibrary, shared: PipelineContext, default: str = "chat") -> Registry:
    """Instantiate every pipeline with its checked prompt set and the shared services in `shared`
    (raises PromptError / ValueError on bad files)."""
    pipelines = [cls(replace(shared, prompts=library.load(cls.name, cls.prompts))) for cls in PIPELINES]
    return Registry(pipelines, default=default)


__all__ = ["PIPELINES", "Pipeline", "PipelineContext", "Registry", "Reply", "Request", "build_registry"]
