"""Settings, prompt templates and start-up checks."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app import build
from hideki.settings import SettingsError, load_settings
from prompts import PromptError, PromptLibrary, check_template

ROOT = Path(__file__).resolve().parents[1]


def test_settings_from_environment_and_toml_file(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "hideki.toml").write_text(
        'default_pipeline = "servicedesk"\nadmins = ["aad-file"]\n'
        '[bindings]\n"19:a@thread.tacv2" = "yasashii"\n"議事録" = "minutes"\n'
        '[pipelines.minutes]\nmodel = "gpt-4.1"\ntemperature = 0.1\nmax_tokens = 4000\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("HIDEKI_DATA_DIR", str(data))
    monkeypatch.setenv("HIDEKI_ADMINS", "aad-env-1, aad-env-2")
    monkeypatch.setenv("PORT", "4010")
    monkeypatch.setenv("HIDEKI_LLM_BASE_URL", "http://127.0.0.1:11434/v1")
    settings = load_settings(env_file=None)
    assert settings.port == 4010
    assert settings.admins == ["aad-env-1", "aad-env-2", "aad-file"]
    assert settings.default_pipeline == "servicedesk"
    assert settings.bindings["議事録"] == "minutes"
    assert settings.llm_mode == "openai"
    minutes = settings.params_for("minutes")
    assert (minutes.model, minutes.temperature, minutes.max_tokens) == ("gpt-4.1", 0.1, 4000)
    assert settings.params_for("chat").model == "gpt-4o-mini"


def test_no_endpoint_means_offline_and_azure_is_detected(tmp_path, monkeypatch):
    assert load_settings(env_file=None, data_dir=tmp_path).llm_mode == "none"
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://city.openai.azure.com")
    assert load_settings(env_file=None, data_dir=tmp_path).llm_mode == "azure"


def test_dotenv_file_is_read(tmp_path):
    env = tmp_path / ".env"
    env.write_text(f"HIDEKI_DATA_DIR={tmp_path}\nMicrosoftAppId=app-123\nMicrosoftAppPassword=secret\n", encoding="utf-8")
    settings = load_settings(env_file=env)
    assert settings.app_id == "app-123" and settings.auth_enabled


def test_a_broken_toml_file_names_the_file_and_line(tmp_path):
    (tmp_path / "hideki.toml").write_text('[bindings]\n"19:a" = yasashii\n', encoding="utf-8")
    with pytest.raises(SettingsError) as error:
        load_settings(env_file=None, data_dir=tmp_path)
    assert "hideki.toml" in str(error.value) and "line 2" in str(error.value)


def test_unknown_keys_and_unknown_pipelines_are_refused(tmp_path):
    (tmp_path / "hideki.toml").write_text('bindngs = {}\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="bindngs"):
        load_settings(env_file=None, data_dir=tmp_path)
    (tmp_path / "hideki.toml").write_text('[bindings]\n"19:a" = "translate"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="translate"):
        build(load_settings(env_file=None, data_dir=tmp_path))


def test_prompt_templates_are_checked(tmp_path):
    path = tmp_path / "system.md"
    path.write_text("今日は ${today} です。", encoding="utf-8")
    assert check_template(path, {"today"}).substitute(today="11月23日") == "今日は 11月23日 です。"
    with pytest.raises(PromptError, match=r"system\.md.*\$\{text\} がありません"):
        check_template(path, {"today", "text"})
    with pytest.raises(PromptError, match=r"使えない変数 \$\{today\}"):
        check_template(path, set())
    path.write_text("1行目\n料金は $ 100\n", encoding="utf-8")
    with pytest.raises(PromptError, match="2 行目"):
        check_template(path, set())


def test_an_admin_override_with_a_missing_variable_stops_start_up(tmp_path):
    settings = load_settings(env_file=None, data_dir=tmp_path)
    override = settings.prompts_override_dir / "chat" / "system.md"
    override.parent.mkdir(parents=True)
    override.write_text("日付の変数を消してしまった", encoding="utf-8")
    with pytest.raises(PromptError) as error:
        build(settings)
    assert str(override) in str(error.value)
    override.write_text("あなたは Hideki です。今日は ${today}。", encoding="utf-8")
    assert PromptLibrary(settings.prompts_override_dir).path_of("chat", "system") == override
    build(settings)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HIDEKI_", "OPENAI_", "AZURE_OPENAI_", "MicrosoftApp", "PORT"))}
    env.update(extra)
    return env


def test_python_app_py_starts_offline_in_local_mode_and_answers_health(tmp_path):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=_clean_env(PORT=str(port), HIDEKI_DATA_DIR=str(tmp_path / "data"), HIDEKI_FAQ_SEED=""),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.2)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert stderr.count("local mode") == 1  # warned once
    assert (tmp_path / "data" / "hideki.db").exists() and (tmp_path / "data" / "logs" / "hideki.log").exists()


def test_bad_setup_stops_start_up_with_a_message_naming_the_file(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "hideki.toml").write_text("[bindings\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=_clean_env(HIDEKI_DATA_DIR=str(data)),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "Hideki を起動できません" in result.stderr and "hideki.toml" in result.stderr
    assert "Traceback" not in result.stderr


def test_single_tenant_credentials_without_a_tenant_stop_start_up(tmp_path):
    from hideki.settings import SettingsError

    settings = load_settings(env_file=None, data_dir=tmp_path, app_id="00000000-0000-0000-0000-000000000001", app_password="x")
    with pytest.raises(SettingsError, match="MicrosoftAppTenantId"):
        build(settings)


def _prompt_set(tmp_path, clock):
    shipped = tmp_path / "shipped"
    (shipped / "chat").mkdir(parents=True)
    (shipped / "chat" / "system.md").write_text("標準: ${today}", encoding="utf-8")
    prompts = PromptLibrary(override_dir=tmp_path / "override", shipped_dir=shipped).load("chat", {"system": ["today"]})
    prompts.clock = clock
    return prompts, tmp_path / "override" / "chat" / "system.md"


def test_prompt_edits_apply_without_a_restart_and_broken_edits_keep_the_old_template(tmp_path, caplog):
    now = [1000.0]
    prompts, override = _prompt_set(tmp_path, lambda: now[0])
    assert prompts.render("system", today="1日") == "標準: 1日"
    override.parent.mkdir(parents=True)
    override.write_text("上書き: ${today}", encoding="utf-8")
    now[0] += 1  # within the re-check interval: not looked at yet
    assert prompts.render("system", today="1日") == "標準: 1日"
    now[0] += 5
    assert prompts.render("system", today="1日") == "上書き: 1日"
    assert prompts.paths["system"] == override

    override.write_text("変数を消した上書き", encoding="utf-8")
    now[0] += 5
    with caplog.at_level("ERROR", logger="prompts"):
        assert prompts.render("system", today="2日") == "上書き: 2日"  # the broken edit is not used
        now[0] += 5
        prompts.render("system", today="2日")
    assert [r.getMessage() for r in caplog.records].count(caplog.records[0].getMessage()) == 1  # logged once
    assert str(override) in caplog.records[0].getMessage() and "${today}" in caplog.records[0].getMessage()

    override.unlink()  # removing the override brings the shipped file back
    now[0] += 5
    assert prompts.render("system", today="3日") == "標準: 3日"


def test_prompts_check_command_names_the_broken_file(tmp_path, monkeypatch, capsys):
    from hideki.cli.main import main

    monkeypatch.setenv("HIDEKI_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    assert main(["prompts", "check"]) == 0
    assert "OK  yasashii" in capsys.readouterr().out
    override = tmp_path / "prompts" / "qa" / "user.md"
    override.parent.mkdir(parents=True)
    override.write_text("${text} だけ", encoding="utf-8")
    assert main(["prompts", "check"]) == 1
    err = capsys.readouterr().err
    assert "NG  qa" in err and str(override) in err and "${n}" in err
    assert main(["prompts", "list"]) == 0
    assert f"qa/user\t上書き\t{override}" in capsys.readouterr().out
