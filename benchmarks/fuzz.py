"""Fuzz /api/messages with the cases of tests/test_fuzz.py, 10,000 per bot by default, and print the figures.

    .venv/bin/python benchmarks/fuzz.py [--examples 10000] [--only local|secured]

The test suite runs fewer cases (FUZZ_EXAMPLES, default 1,000 per bot) to stay near a minute on a CI runner;
this runs the full count with the same derandomized hypothesis settings, so a failure here reproduces there
with FUZZ_EXAMPLES set to the same number. Exits 1 on the first violated property (hypothesis prints it).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--only", choices=["local", "secured"])
    args = parser.parse_args()
    os.environ["FUZZ_EXAMPLES"] = str(args.examples)  # read when tests.test_fuzz is imported
    for name in list(os.environ):
        if name.startswith(("HIDEKI_", "OPENAI_", "AZURE_OPENAI_", "MicrosoftApp", "MICROSOFT_APP")):
            del os.environ[name]

    import logging

    logging.disable(logging.CRITICAL)  # turn errors of fuzzed activities are expected and logged by the bot
    from hideki.llm.tokens import install_offline_encodings
    from tests.support import activities as A
    from tests.test_auth import start_identity_provider
    from tests.test_fuzz import run_local_fuzz, run_secured_fuzz, start_threaded_bot

    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        install_offline_encodings(tmp_dir / "tiktoken")
        if args.only in (None, "local"):
            bot, stop = start_threaded_bot(tmp_dir / "local")
            started = time.perf_counter()
            try:
                run_local_fuzz(bot)
            except Exception as error:  # hypothesis has printed the falsifying example
                print(f"local mode: FAILED: {error!r}"[:2000])
                failed = True
            seconds = time.perf_counter() - started
            bot.drain()
            health = bot.request("GET", "/healthz")[0]
            ok = bot.post(json.dumps(A.personal_message(bot.connector.url, "ヘルプ")).encode(), {"Content-Type": "application/json"})
            _print("local mode", bot, seconds, health, f"valid message afterwards {ok}")
            failed |= health != 200 or ok != 200
            stop()
        if args.only in (None, "secured"):
            (tmp_dir / "tls").mkdir()
            idp, stop_idp = start_identity_provider(tmp_dir / "tls")
            os.environ["REQUESTS_CA_BUNDLE"] = str(idp.ca_file)
            from tests.test_auth import APP_ID, APP_PASSWORD, TENANT

            bot, stop = start_threaded_bot(
                tmp_dir / "secured", app_id=APP_ID, app_password=APP_PASSWORD, app_tenant_id=TENANT,
                bf_openid_metadata_url=idp.metadata_url, bf_token_issuer=idp.issuer, bf_login_url=idp.base,
            )
            started = time.perf_counter()
            try:
                run_secured_fuzz(bot, idp)
            except Exception as error:
                print(f"with credentials: FAILED: {error!r}"[:2000])
                failed = True
            seconds = time.perf_counter() - started
            bot.drain()
            time.sleep(0.2)
            health = bot.request("GET", "/healthz")[0]
            sent_before = len(bot.connector.sent)
            _print("with credentials", bot, seconds, health, f"replies to refused requests {sent_before}")
            token = idp.channel_token(bot.connector.url)
            ok = bot.post(json.dumps(A.personal_message(bot.connector.url, "ヘルプ")).encode(),
                          {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
            print(f"with credentials: a genuine request afterwards: {ok}")
            failed |= health != 200 or ok != 200 or sent_before != 0
            stop()
            stop_idp()
    print("FAILED" if failed else "OK")
    return 1 if failed else 0


def _print(name: str, bot, seconds: float, health: int, extra: str) -> None:
    cases = sum(bot.statuses.values())
    print(f"{name}: {cases} cases in {seconds:.1f} s ({cases / seconds:.0f}/s); statuses {dict(sorted(bot.statuses.items()))}; "
          f"reconnects {bot.reconnects}; /healthz {health}; {extra}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
