"""Load benchmark: 500 conversations against a slow, flaky model, then the model endpoint down.

Usage:
    .venv/bin/python benchmarks/load.py [--conversations 500] [--ramp-s 2] [--min-delay 2] [--max-delay 10]
        [--p429 0.10] [--ptimeout 0.05] [--hang-s 30] [--retry-after 2] [--llm-timeout 12]
        [--down-messages 200] [--skip-down] [--json out.json] [--keep-logs DIR]

What runs where (as in benchmarks/bot_overhead.py; both build on benchmarks/harness.py):
  * The bot runs in its OWN process, started through the production start-up path (`app.prepare`) and served
    by aiohttp on 127.0.0.1 (an ephemeral port). With 2+ CPUs it is pinned to one core and this process
    (load generator + scripted Bot Connector + scripted OpenAI-compatible model) to the other.
  * All traffic is loopback. Every timestamp is taken in this process with one clock.
  * Every conversation is a new thread in its own channel, written by its own user (distinct aadObjectId, so the
    per-user rate limit does not apply, as with many staff). The channels are named 「お知らせ作成」 and the
    bot's settings file binds that channel name to the やさしい日本語 pipeline (how a city binds a channel):
    the pipeline calls the model, and when the model fails its offline engine (rule-based simplifier + readings)
    does real work and the reply says so (「… ローカル処理で作成しました。」).

Bot settings: the defaults (max_concurrent_jobs 256, max_pending_jobs 1000, llm_max_concurrency 32,
llm_max_queue 500, llm_max_retries 3, llm_backoff_s 1, breaker 5 failures / 30 s, rate limits 30/user/min and
12 000/min) except:
  * data_dir: a temp dir; llm_base_url: the scripted model (phase a) or a dead endpoint (phase b);
  * llm_timeout_s = 12 (`--llm-timeout`) instead of 120. The default suits long generations (minutes, 1500
    output tokens); for a model whose normal latency is 2–10 s a city would set a timeout a little above that,
    and the injected hangs (30 s) must outlast it to be timeouts at all. Nothing else is tuned for the benchmark.

Phases (each with a fresh bot process; one warm-up message answered first and not counted):
  (a) load: `--conversations` @mentions spread evenly over `--ramp-s`. The scripted model answers after a
      uniform `--min-delay`..`--max-delay` s; a share `--p429` of calls get HTTP 429 with `Retry-After:
      --retry-after` at once, a share `--ptimeout` hang `--hang-s` (longer than the bot's llm_timeout_s).
      A conversation is answered when the connector receives its final text: the PUT that replaces the
      「作成中…」 placeholder (model answer, or offline fallback with its note) or a busy / rate-limit refusal.
      Outcome classes: model answer / offline fallback (by the reason in its note) / busy message / error.
      lost = no final text within `--drain-timeout` s after the last message was sent (target 0).
      ack = POST until the HTTP response; e2e = POST until the final text. Peak RSS = VmHWM of the bot process.
  (b) model endpoint down, two variants run at the same time (`--serial-down`: one after the other), each with its
      own bot process (the second on the generator's core when pinned; both mostly wait on the dead endpoint),
      `--down-messages` @mentions each over the same ramp:
      refused — llm_base_url is a loopback port with a bound socket that does not listen (connection refused);
      hanging — a loopback server that accepts connections, reads, and never answers.
      Target: every message answered by the offline engine within 15 s. Waits at most `--down-drain` s after the
      last message; unanswered messages count as slower than that. Whether the circuit breaker opened comes from
      /metrics (`hideki_llm_circuit_open`, polled every 0.25 s) and from answers saying 「応答しない状態が続いています」.

Reading the figures: lost replies, outcome classes, e2e times and the endpoint-down times are set by the bot's
limits and timeouts (seconds), not by CPU. Ack, placeholder, loop-lag and GC-pause figures (milliseconds) depend on
what else runs on the machine: the report shows the load average and the bot's involuntary context switches.
The whole default run takes about 4 minutes (phase a ~2.2 min: 500 conversations through 32 model slots).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from aiohttp import ClientSession, ClientTimeout, web  # noqa: E402

from harness import (  # noqa: E402
    BOT_FLAG, PROGRESS_TEXT, BotProcess, ScriptedEndpoints, Track, bot_arguments, channel_activities, chat_completion,
    client_session, copy_logs, drain, git_commit, isolate_bot, markdown_table, pct, pin_cores, post, self_cpu_s, send_paced,
    serve, wait_acks, write_json,
)
CHANNEL_NAME = "お知らせ作成"
NOTICE = (
    "令和7年4月1日から、住民票の写しの交付手数料が1通300円から350円に改定されます。"
    "詳細につきましては、市民課窓口までお問い合わせください。"
)
PLAIN = "あしたは 雨です。かさを もって きて ください。"  # already plain: no model call (warm-up in phase b)
MODEL_REWRITE = (  # keeps every fact of NOTICE, so the pipeline makes exactly one model call per message
    "2025年4月1日から、住民票の写しを もらうときの お金が 1通300円から350円に なります。"
    "くわしくは、市民課の 窓口に 聞いて ください。"
)
FALLBACK_MARK = "ローカル処理で作成しました"
REASONS = {  # hideki.llm.gateway._USER_MESSAGES, as they appear in the fallback note
    "timeout": "応答が時間内に返りませんでした",
    "rate_limit": "生成AIモデルが混み合っています",
    "connection": "接続できませんでした",
    "server": "エラーが発生しました",
    "busy": "依頼が混み合っています",
    "circuit_open": "応答しない状態が続いています",
}
BUSY_MARKS = ("ただいま混み合っています", "少し休ませてください", "Hideki 全体が混み合っています")
ERROR_MARKS = ("申し訳ありません",)  # pipeline error, job timeout, interrupted by a restart
DOWN_TARGET_S = 15.0


# ======================================================================================================
# The bot process
# ======================================================================================================
def bot_main(argv: list[str]) -> int:
    p = bot_arguments()
    p.add_argument("--llm-timeout", type=float, required=True)
    args = p.parse_args(argv)
    isolate_bot(args.cpu)

    import app as hideki_app
    from hideki.settings import load_settings

    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "hideki.toml").write_text(f'[bindings]\n"{CHANNEL_NAME}" = "yasashii"\n', encoding="utf-8")
    settings = load_settings(env_file=None, data_dir=data_dir, llm_base_url=args.model_url, llm_timeout_s=args.llm_timeout)
    web_app = hideki_app.prepare(settings)
    _watch_gc(Path(args.stats).with_suffix(".gc.json"))
    asyncio.run(serve(web_app, Path(args.stats), ""))
    return 0


def _watch_gc(path: Path) -> None:
    """Record the bot's garbage-collector pauses (they stop the event loop) and write them every 0.5 s."""
    import gc
    import threading

    stats = {"max_pause_ms": 0.0, "total_s": 0.0, "gen2_runs": 0, "gen2_max_pause_ms": 0.0}
    started: list[float] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            pause = time.perf_counter() - started[0]
            stats["total_s"] += pause
            stats["max_pause_ms"] = max(stats["max_pause_ms"], pause * 1000)
            if info.get("generation") == 2:
                stats["gen2_runs"] += 1
                stats["gen2_max_pause_ms"] = max(stats["gen2_max_pause_ms"], pause * 1000)

    def keep_writing() -> None:  # a daemon thread: ends with the process
        marker = path.with_suffix(".reset")
        while True:
            if marker.exists():  # the parent's "warm-up is over": count from here on
                stats.update(max_pause_ms=0.0, total_s=0.0, gen2_runs=0, gen2_max_pause_ms=0.0)
                marker.unlink()
            tmp = path.with_suffix(".gctmp")
            tmp.write_text(json.dumps(stats))
            tmp.replace(path)
            time.sleep(0.2)

    gc.callbacks.append(callback)
    threading.Thread(target=keep_writing, daemon=True).start()


async def start_bot(model_url: str, workdir: Path, name: str, cpu: int, llm_timeout: float) -> BotProcess:
    return await BotProcess.launch(__file__, workdir, name, model_url, cpu, ["--llm-timeout", str(llm_timeout)])


# ======================================================================================================
# Scripted Bot Connector and model (in this process)
# ======================================================================================================
def classify(text: str) -> str:
    if FALLBACK_MARK in text:
        return "fallback:" + next((k for k, mark in REASONS.items() if mark in text), "other")
    if any(mark in text for mark in BUSY_MARKS):
        return "busy"
    if any(mark in text for mark in ERROR_MARKS):
        return "error"
    return "model"


@dataclass
class LoadTrack(Track):
    placeholder: dict[str, float] = field(default_factory=dict)  # conversation id -> 「作成中…」 received
    outcome: dict[str, str] = field(default_factory=dict)  # conversation id -> classify(final text)


class Harness(ScriptedEndpoints):
    """The scripted Bot Connector and the scripted model (latency, 429s, hangs), on loopback."""

    track: LoadTrack

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(LoadTrack(), shutdown_timeout=2)
        self.args = args
        self.rng = random.Random(args.seed)
        self.fast = False  # warm-up: the model answers at once, nothing injected
        self.closing = asyncio.Event()
        self.injected_429 = self.injected_hangs = self.model_answers = 0

    async def close(self) -> None:
        self.closing.set()
        await super().close()

    def on_activity(self, method: str, cid: str, text: str, received: float) -> None:
        t = self.track
        if text.startswith(PROGRESS_TEXT):
            t.placeholder.setdefault(cid, received)
        elif cid not in t.final:
            t.final[cid] = received
            t.outcome[cid] = classify(text)
            t.arrived.set()

    async def answer(self, body: dict[str, Any]) -> web.Response:
        a = self.args
        if not self.fast:
            roll = self.rng.random()
            if roll < a.p429:
                self.injected_429 += 1
                return web.json_response(
                    {"error": {"message": "Rate limit exceeded (scripted)", "type": "rate_limit_error", "code": "429"}},
                    status=429, headers={"Retry-After": f"{a.retry_after:g}"},
                )
            if roll < a.p429 + a.ptimeout:
                self.injected_hangs += 1
                try:  # longer than the bot's timeout; ends early only when the harness closes
                    await asyncio.wait_for(self.closing.wait(), timeout=a.hang_s)
                except asyncio.TimeoutError:
                    pass
                return web.Response(status=504)
            await asyncio.sleep(self.rng.uniform(a.min_delay, a.max_delay))
        self.model_answers += 1
        return chat_completion("chatcmpl-load", body["model"], MODEL_REWRITE, 400, 80)


class HangingServer:
    """Accepts TCP connections, reads whatever comes, never answers (until closed)."""

    def __init__(self) -> None:
        self.connections = 0
        self._stop = asyncio.Event()
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=4096)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/v1"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        while not self._stop.is_set():
            try:
                if not await asyncio.wait_for(reader.read(65536), timeout=1.0):
                    break  # the client gave up and closed
            except asyncio.TimeoutError:
                continue
            except (ConnectionError, OSError):
                break
        writer.close()

    async def close(self) -> None:
        self._stop.set()
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def refusing_endpoint() -> tuple[socket.socket, str]:
    """A loopback port bound but not listening: connects are refused (RST), and no one else can take the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


# ======================================================================================================
# Load generation and measurement
# ======================================================================================================
def _activities(service_url: str, n: int, tag: str, text: str = NOTICE) -> list[tuple[str, bytes]]:
    return channel_activities(service_url, n, tag, lambda _seq: text, channel_name=CHANNEL_NAME)


async def _send_ramp(session: ClientSession, bot: BotProcess, msgs: list[tuple[str, bytes]], track: Track, ramp_s: float) -> list[asyncio.Task]:
    tasks, _ = await send_paced(session, bot.url, msgs, track, ramp_s / (len(msgs) - 1) if len(msgs) > 1 else 0.0)
    return tasks


async def _warm(session: ClientSession, bot: BotProcess, harness: Harness, text: str) -> None:
    for cid, body in _activities(harness.connector_url, 1, "warm", text):
        await post(session, bot.url, cid, body, harness.track)
        await drain(harness.track, [cid], time.perf_counter() + 60)


async def _metrics(session: ClientSession, bot: BotProcess) -> dict[str, float]:
    """The bot's /metrics as {'name{labels}': value}."""
    url = bot.url.rsplit("/api/", 1)[0] + "/metrics"
    async with session.get(url, timeout=ClientTimeout(total=5)) as response:
        text = await response.text()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            try:
                out[key] = float(value)
            except ValueError:
                pass
    return out


def _llm_errors(metrics: dict[str, float]) -> dict[str, int]:
    out = {}
    for key, value in metrics.items():
        if m := re.fullmatch(r'hideki_llm_errors_total\{kind="(\w+)"\}', key):
            out[m.group(1)] = int(value)
    return out


def _ms(values: list[float], q: float) -> float:
    return round(pct(sorted(values), q) * 1000, 1)


def _outcome_counts(prefix: str, track: LoadTrack, cids: list[str]) -> dict[str, int]:
    out = {f"{prefix}_model_answers": 0, f"{prefix}_offline_fallbacks": 0, f"{prefix}_busy_messages": 0, f"{prefix}_errors": 0}
    for reason in REASONS:
        out[f"{prefix}_fallback_{reason}"] = 0
    out[f"{prefix}_fallback_other"] = 0
    for cid in cids:
        kind = track.outcome.get(cid)
        if kind is None:
            continue
        if kind.startswith("fallback:"):
            out[f"{prefix}_offline_fallbacks"] += 1
            out[f"{prefix}_fallback_{kind.split(':', 1)[1]}"] += 1
        elif kind == "busy":
            out[f"{prefix}_busy_messages"] += 1
        elif kind == "error":
            out[f"{prefix}_errors"] += 1
        else:
            out[f"{prefix}_model_answers"] += 1
    return out


async def phase_load(args: argparse.Namespace, harness: Harness, session: ClientSession, workdir: Path, cpu: int) -> dict[str, Any]:
    bot = await start_bot(harness.model_url, workdir, "load", cpu, args.llm_timeout)
    out: dict[str, Any] = {}
    try:
        harness.fast = True
        await _warm(session, bot, harness, NOTICE)
        harness.fast = False
        calls0 = harness.model_calls
        out["a_idle_rss_mb"] = round(bot.status().get("VmRSS", 0) / 1024, 1)
        gc_file = bot.stats.with_suffix(".gc.json")
        gc_file.with_suffix(".reset").touch()
        bot.measure()
        await asyncio.sleep(0.5)  # the signal lands and the GC counters are reset
        bot.sample()
        msgs = _activities(harness.connector_url, args.conversations, "load")
        cids = [c for c, _ in msgs]
        cpu0, wall0 = bot.cpu_s(), time.perf_counter()
        self0 = self_cpu_s()
        tasks = await _send_ramp(session, bot, msgs, harness.track, args.ramp_s)
        deadline = time.perf_counter() + args.drain_timeout
        await wait_acks(tasks, args.drain_timeout)
        acked_after, acked_cpu = time.perf_counter() - wall0, bot.cpu_s() - cpu0
        await drain(harness.track, cids, deadline)
        wall = time.perf_counter() - wall0
        self1 = self_cpu_s()
        t = harness.track
        acks = [t.ack[c] for c in cids if c in t.ack]
        e2e = [t.final[c] - t.sent[c] for c in cids if c in t.final]
        e2e_model = [t.final[c] - t.sent[c] for c in cids if t.outcome.get(c) == "model"]
        ph = [t.placeholder[c] - t.sent[c] for c in cids if c in t.placeholder]
        metrics = await _metrics(session, bot)
        out.update({
            "a_conversations": len(cids),
            "a_lost": sum(1 for c in cids if c not in t.final),
            "a_lost_without_placeholder": sum(1 for c in cids if c not in t.final and c not in t.placeholder),
            **_outcome_counts("a", t, cids),
            "a_ack_non_200": sum(1 for c in cids if t.status.get(c) != 200),
            "a_ack_p50_ms": _ms(acks, 50), "a_ack_p99_ms": _ms(acks, 99), "a_ack_max_ms": _ms(acks, 100),
            "a_placeholder_p50_ms": _ms(ph, 50), "a_placeholder_p99_ms": _ms(ph, 99),
            "a_e2e_p50_s": round(pct(sorted(e2e), 50), 2), "a_e2e_p99_s": round(pct(sorted(e2e), 99), 2),
            "a_e2e_max_s": round(max(e2e), 2) if e2e else None,
            "a_e2e_model_p50_s": round(pct(sorted(e2e_model), 50), 2), "a_e2e_model_p99_s": round(pct(sorted(e2e_model), 99), 2),
            "a_wall_s": round(wall, 1),
            "a_peak_rss_mb": round(bot.status().get("VmHWM", 0) / 1024, 1),
            "a_bot_peak_threads": bot.peak_threads,
            "a_bot_cpu_pct": round(100 * (bot.cpu_s() - cpu0) / wall, 1),
            "a_last_ack_after_s": round(acked_after, 2),  # from the first POST
            "a_bot_cpu_until_last_ack_pct": round(100 * acked_cpu / acked_after, 1),
            "a_generator_cpu_pct": round(100 * (self1 - self0) / wall, 1),
            "a_model_calls": harness.model_calls - calls0,
            "a_model_answers_sent": harness.model_answers - 1,  # minus the warm-up
            "a_injected_429": harness.injected_429,
            "a_injected_hangs": harness.injected_hangs,
            "a_circuit_open_at_end": int(metrics.get("hideki_llm_circuit_open", 0)),
        })
        for kind, n in _llm_errors(metrics).items():
            out[f"a_bot_llm_errors_{kind}"] = n
        try:
            gc_stats = json.loads(gc_file.read_text())
            out["a_bot_gc_max_pause_ms"] = round(gc_stats["max_pause_ms"], 1)
            out["a_bot_gc_gen2_runs"] = gc_stats["gen2_runs"]
            out["a_bot_gc_total_s"] = round(gc_stats["total_s"], 2)
        except (OSError, ValueError, KeyError):
            pass
    finally:
        stats = await bot.stop(grace_s=5)
    for key in ("loop_lag_p99_ms", "loop_lag_max_ms", "involuntary_ctx_switches"):
        if key in stats:
            out[f"a_bot_{key}"] = round(stats[key], 1)
    return out


async def phase_down(variant: str, args: argparse.Namespace, harness: Harness, session: ClientSession, workdir: Path, cpu: int) -> dict[str, Any]:
    prefix = f"down_{variant}"
    hanging: HangingServer | None = None
    refuser: socket.socket | None = None
    if variant == "refused":
        refuser, url = refusing_endpoint()
    else:
        hanging = HangingServer()
        url = await hanging.start()
    bot = await start_bot(url, workdir, variant, cpu, args.llm_timeout)
    out: dict[str, Any] = {}
    breaker_open_at: list[float] = []
    poll_stop = asyncio.Event()

    async def poll(t0: float) -> None:  # bounded by poll_stop, set right after the drain
        while not poll_stop.is_set():
            try:
                if (await _metrics(session, bot)).get("hideki_llm_circuit_open", 0) >= 1 and not breaker_open_at:
                    breaker_open_at.append(time.perf_counter() - t0)
            except Exception:  # noqa: BLE001 - a slow /metrics is a finding of its own, not a crash
                pass
            try:
                await asyncio.wait_for(poll_stop.wait(), timeout=0.25)
            except asyncio.TimeoutError:
                pass

    try:
        await _warm(session, bot, harness, PLAIN)  # no model call: the breaker stays untouched
        bot.sample()
        msgs = _activities(harness.connector_url, args.down_messages, variant)
        cids = [c for c, _ in msgs]
        wall0 = time.perf_counter()
        poller = asyncio.create_task(poll(wall0))
        tasks = await _send_ramp(session, bot, msgs, harness.track, args.ramp_s)
        deadline = time.perf_counter() + args.down_drain
        await wait_acks(tasks, args.down_drain)
        await drain(harness.track, cids, deadline)
        poll_stop.set()
        await poller
        t = harness.track
        times = [t.final[c] - t.sent[c] for c in cids if c in t.final]
        all_times = sorted(times + [float("inf")] * (len(cids) - len(times)))
        offline_in_time = sum(1 for c in cids if c in t.final and t.final[c] - t.sent[c] <= DOWN_TARGET_S
                              and t.outcome[c].startswith("fallback:"))
        metrics = await _metrics(session, bot)

        def answer_pct(q: float) -> float | str:
            v = pct(all_times, q)
            return round(v, 2) if v != float("inf") else f">{args.down_drain:g}"

        out.update({
            f"{prefix}_messages": len(cids),
            f"{prefix}_offline_within_15s": offline_in_time,
            f"{prefix}_offline_within_15s_pct": round(100 * offline_in_time / len(cids), 1),
            f"{prefix}_answered": len(times),
            f"{prefix}_unanswered_after_drain": len(cids) - len(times),
            **_outcome_counts(prefix, t, cids),
            f"{prefix}_answer_p50_s": answer_pct(50), f"{prefix}_answer_p99_s": answer_pct(99),
            f"{prefix}_answer_min_s": round(min(times), 2) if times else None,
            f"{prefix}_answer_max_s": round(max(times), 2) if times else None,
            f"{prefix}_ack_p99_ms": _ms([t.ack[c] for c in cids if c in t.ack], 99),
            f"{prefix}_breaker_opened": bool(breaker_open_at) or any(t.outcome.get(c) == "fallback:circuit_open" for c in cids),
            f"{prefix}_breaker_open_after_s": round(breaker_open_at[0], 2) if breaker_open_at else None,
            f"{prefix}_answers_saying_circuit_open": sum(1 for c in cids if t.outcome.get(c) == "fallback:circuit_open"),
            f"{prefix}_peak_rss_mb": round(bot.status().get("VmHWM", 0) / 1024, 1),
        })
        if hanging is not None:
            out[f"{prefix}_connections_accepted"] = hanging.connections
        for kind, n in _llm_errors(metrics).items():
            out[f"{prefix}_bot_llm_errors_{kind}"] = n
    finally:
        poll_stop.set()
        await bot.stop(grace_s=3)  # unfinished jobs would only be interrupted; the figures are taken
        if hanging is not None:
            await hanging.close()
        if refuser is not None:
            refuser.close()
    return out


# ======================================================================================================
# Report
# ======================================================================================================
def _yes(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def report(r: dict[str, Any]) -> str:
    title = (
        f"Load: {r['conversations']} conversations over {r['ramp_s']} s, model {r['min_delay']}–{r['max_delay']} s, "
        f"429 {r['p429']:.0%} (Retry-After {r['retry_after']:g} s), hangs {r['ptimeout']:.0%} ({r['hang_s']:g} s), "
        f"bot llm_timeout_s {r['llm_timeout']:g}, other settings default; pinned {r['pinned']}; commit {r['git_commit']}; "
        f"load average (1 min) before {r['loadavg_1m_before']}, after {r.get('loadavg_1m_after')} on {os.cpu_count()} CPUs"
    )
    rows: list[tuple[str, str, Any, str, str]] = []
    if "a_conversations" in r:
        fb = ", ".join(f"{k} {r['a_fallback_' + k]}" for k in (*REASONS, "other") if r.get(f"a_fallback_{k}"))
        rows += [
            ("a", "replies lost (no final text within drain)", f"{r['a_lost']} of {r['a_conversations']}", "0", _yes(r["a_lost"] == 0)),
            ("a", "model answers / offline fallbacks / busy messages / errors",
             f"{r['a_model_answers']} / {r['a_offline_fallbacks']} / {r['a_busy_messages']} / {r['a_errors']}", "", ""),
            ("a", "offline fallbacks by reason", fb or "none", "", ""),
            ("a", "HTTP ack p50 / p99 / max (ms)", f"{r['a_ack_p50_ms']} / {r['a_ack_p99_ms']} / {r['a_ack_max_ms']}", "", ""),
            ("a", "「作成中…」 placeholder p50 / p99 (ms)", f"{r['a_placeholder_p50_ms']} / {r['a_placeholder_p99_ms']}", "", ""),
            ("a", "end-to-end p50 / p99 / max (s), all answers", f"{r['a_e2e_p50_s']} / {r['a_e2e_p99_s']} / {r['a_e2e_max_s']}", "", ""),
            ("a", "end-to-end p50 / p99 (s), model answers", f"{r['a_e2e_model_p50_s']} / {r['a_e2e_model_p99_s']}", "", ""),
            ("a", "peak RSS of the bot (MB; idle after warm-up)", f"{r['a_peak_rss_mb']} ({r['a_idle_rss_mb']})", "", ""),
            ("a", "model calls made / 429s injected / hangs injected", f"{r['a_model_calls']} / {r['a_injected_429']} / {r['a_injected_hangs']}", "", ""),
            ("a", "bot: LLM calls failed after retries (by kind)",
             ", ".join(f"{k[len('a_bot_llm_errors_'):]} {v}" for k, v in r.items() if k.startswith("a_bot_llm_errors_")) or "none", "", ""),
            ("a", "bot CPU (% of a core): whole phase / until the last ack", f"{r['a_bot_cpu_pct']} / {r['a_bot_cpu_until_last_ack_pct']} "
             f"(last ack {r['a_last_ack_after_s']} s after the first POST)", "", ""),
            ("a", "bot loop lag p99 / max (ms); involuntary context switches (another process had the core)",
             f"{r.get('a_bot_loop_lag_p99_ms')} / {r.get('a_bot_loop_lag_max_ms')}; {r.get('a_bot_involuntary_ctx_switches')}", "", ""),
            ("a", "bot GC: longest pause (ms) / full (gen 2) collections / total (s)",
             f"{r.get('a_bot_gc_max_pause_ms')} / {r.get('a_bot_gc_gen2_runs')} / {r.get('a_bot_gc_total_s')}", "", ""),
            ("a", "phase wall time (s)", r["a_wall_s"], "", ""),
        ]
    for variant in ("refused", "hanging"):
        p = f"down_{variant}"
        if f"{p}_messages" not in r:
            continue
        name = f"b {variant}"
        fb = ", ".join(f"{k} {r[f'{p}_fallback_{k}']}" for k in (*REASONS, "other") if r.get(f"{p}_fallback_{k}"))
        opened = r[f"{p}_breaker_opened"]
        rows += [
            (name, "offline answers within 15 s", f"{r[f'{p}_offline_within_15s']} of {r[f'{p}_messages']} ({r[f'{p}_offline_within_15s_pct']} %)",
             "100 %", _yes(r[f"{p}_offline_within_15s"] == r[f"{p}_messages"])),
            (name, f"answer time p50 / p99 / max (s; unanswered after {r['down_drain']:g} s count as slower)",
             f"{r[f'{p}_answer_p50_s']} / {r[f'{p}_answer_p99_s']} / {r[f'{p}_answer_max_s']}", "p99 ≤ 15", ""),
            (name, "answered / unanswered when the wait ended", f"{r[f'{p}_answered']} / {r[f'{p}_unanswered_after_drain']}", "", ""),
            (name, "offline fallbacks by reason (busy msgs, errors)",
             f"{fb or 'none'} ({r[f'{p}_busy_messages']}, {r[f'{p}_errors']})", "", ""),
            (name, "circuit breaker opened (after s) / answers saying 「応答しない状態が続いています」",
             f"{'yes' if opened else 'no'} ({r[f'{p}_breaker_open_after_s']}) / {r[f'{p}_answers_saying_circuit_open']}", "", ""),
        ]
        if f"{p}_connections_accepted" in r:
            rows.append((name, "connections the hanging server accepted", r[f"{p}_connections_accepted"], "", ""))
    return markdown_table(title, rows)


def misses(r: dict[str, Any]) -> list[str]:
    out = []
    if r.get("a_lost", 0) > 0:
        out.append("a_lost")
    for variant in ("refused", "hanging"):
        p = f"down_{variant}"
        if f"{p}_messages" in r and r[f"{p}_offline_within_15s"] < r[f"{p}_messages"]:
            out.append(f"{p}_offline_within_15s")
    return out


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    from hideki.llm.tokens import install_offline_encodings

    cores = pin_cores(args.no_pin)
    result: dict[str, Any] = {
        k: getattr(args, k) for k in ("conversations", "ramp_s", "min_delay", "max_delay", "p429", "ptimeout", "hang_s",
                                      "retry_after", "llm_timeout", "drain_timeout", "down_messages", "down_drain", "seed")
    }
    result.update(pinned=cores.pinned, git_commit=git_commit(), loadavg_1m_before=round(os.getloadavg()[0], 2))
    with tempfile.TemporaryDirectory(prefix="hideki-load-") as tmp:
        workdir = Path(tmp)
        install_offline_encodings(workdir / "tiktoken")
        harness = Harness(args)
        await harness.start()
        session = client_session(max(2000, 2 * args.conversations), 60)
        try:
            if not args.skip_load:
                result.update(await phase_load(args, harness, session, workdir, cores.bot))
            if not args.skip_down:
                if args.serial_down:
                    for variant in ("refused", "hanging"):
                        result.update(await phase_down(variant, args, harness, session, workdir, cores.bot))
                else:  # at the same time, each bot on its own core when pinned: both mostly wait on the endpoint
                    for part in await asyncio.gather(
                        phase_down("refused", args, harness, session, workdir, cores.bot),
                        phase_down("hanging", args, harness, session, workdir, cores.generator),
                    ):
                        result.update(part)
        finally:
            await session.close()
            await harness.close()
            if args.keep_logs:
                copy_logs(workdir, args.keep_logs)
    return result


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == BOT_FLAG:
        return bot_main(sys.argv[2:])
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--conversations", type=int, default=500, help="concurrent conversations in phase (a)")
    p.add_argument("--ramp-s", type=float, default=2.0, help="seconds over which the messages of a phase are sent")
    p.add_argument("--min-delay", type=float, default=2.0, help="scripted model latency, lower bound (s)")
    p.add_argument("--max-delay", type=float, default=10.0, help="scripted model latency, upper bound (s)")
    p.add_argument("--p429", type=float, default=0.10, help="share of model calls answered 429 with Retry-After")
    p.add_argument("--ptimeout", type=float, default=0.05, help="share of model calls that hang --hang-s")
    p.add_argument("--hang-s", type=float, default=30.0, help="how long an injected hang lasts (> --llm-timeout)")
    p.add_argument("--retry-after", type=float, default=2.0, help="Retry-After seconds on injected 429s")
    p.add_argument("--llm-timeout", type=float, default=12.0, help="the bot's llm_timeout_s")
    p.add_argument("--drain-timeout", type=float, default=240.0, help="phase (a): seconds to wait for answers after sending")
    p.add_argument("--down-messages", type=int, default=200, help="messages per endpoint-down variant")
    p.add_argument("--down-drain", type=float, default=60.0, help="phase (b): seconds to wait for answers after sending")
    p.add_argument("--serial-down", action="store_true", help="run the two endpoint-down variants one after the other")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--skip-load", action="store_true", help="skip phase (a)")
    p.add_argument("--skip-down", action="store_true", help="skip phase (b)")
    p.add_argument("--no-pin", action="store_true", help="do not pin the bot and the generator to separate cores")
    p.add_argument("--json", help="write all figures as one flat JSON object to this file")
    p.add_argument("--keep-logs", help="copy the bot processes' stderr logs into this directory")
    args = p.parse_args()
    if args.hang_s <= args.llm_timeout:
        p.error("--hang-s must be longer than --llm-timeout, or the hangs are not timeouts")
    started = time.perf_counter()
    result = asyncio.run(main_async(args))
    result["total_run_s"] = round(time.perf_counter() - started, 1)
    result["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
    print(report(result))
    missed = misses(result)
    print(f"\ntotal run {result['total_run_s']} s; " + ("all targets met" if not missed else f"targets missed: {', '.join(missed)}"))
    if args.json:
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
