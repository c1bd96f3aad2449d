"""Bot overhead benchmark: how much latency and memory Hideki itself adds around a slow model.

Usage:
    .venv/bin/python benchmarks/bot_overhead.py [--rate 100] [--seconds 10] [--burst 500]
        [--model-delay 1.0] [--concurrency N] [--json out.json] [--profile DIR]

What runs where (2 CPU cores in mind):
  * The bot runs in its OWN process, started through the production start-up path (`app.prepare`: JSON
    logging to stderr and data_dir/logs, offline tiktoken, `create_app`) and served by aiohttp
    `AppRunner`/`TCPSite` on 127.0.0.1, an ephemeral port, access log off, default backlog (as `web.run_app`).
    Settings are the defaults except data_dir (a temp dir), llm_base_url (the scripted model) and
    max_concurrent_jobs (`--concurrency`).
  * This process holds the load generator, the scripted Bot Connector (the activities' serviceUrl) and
    the scripted OpenAI-compatible model (answers every call after exactly `--model-delay` seconds).
    They share one event loop on purpose: a third process would compete with the bot for the same two
    cores. With 2+ CPUs the bot is pinned to one core and this process to another (`--no-pin` to turn
    off), so the generator cannot steal the bot's CPU; the bot's asyncio loop uses one core anyway.
    The report shows this process's CPU use and send lag, so a saturated generator would be visible.
  * Every timestamp (POST sent, ack received, final answer received) is taken in this process with one
    clock, so no cross-process clock skew.

Phases (each with a fresh bot process, after `--warmup` messages whose answers are awaited, so one-off
costs such as loading the tiktoken encoding are not counted; the first of them is reported as "cold"):
  (a) steady: `--rate` channel @mentions per second for `--seconds`, each a new thread in its own channel.
      ack = POST /api/messages until the HTTP response is read; e2e = POST sent until the connector
      receives the PUT that replaces the "作成中…" placeholder with the model's answer for that
      conversation; overhead = e2e - model delay. lost = no model answer within `--drain-timeout` after the
      last message was sent (a POST not acknowledged by then counts with the whole wait as its ack time).
  (b) burst: `--burst` messages sent at once: ack p99, lost, peak RSS (VmHWM of the bot process).
  (c) stream: `--stream-chats` 1:1 chats (each its own user) send a message at once; the model streams its answer
      (`"stream": true`), first token after `--model-delay` s, then `--stream-chunks` chunks `--stream-chunk-gap` s
      apart. first text = the first streaming update (a typing activity with streamType "streaming") reaching
      the connector minus the model sending that chat's first token (target p99 < 300 ms); updates = streaming
      updates per answer; lost = no final message (streamType "final", or an ordinary answer) in time.

Concurrency: the runner lets `max_concurrent_jobs` (default 256) jobs run at once. With a 1 s model,
100 msg/s needs >= rate x delay = 100 jobs in flight (Little's law) just to keep up; the default leaves
2.5x headroom and lets half of the 500-message burst reach the model at once. `--concurrency` overrides it.
The LLM gateway's own cap (`llm_max_concurrency`, default 32, sized for a real endpoint's quota) is set to
the same value: the scripted model has no quota, and this benchmark measures the bot, not a quota.

`--profile DIR` runs cProfile in the bot's event-loop thread and prints the top functions. It slows the
bot down: use it to find where time goes, not for the figures.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from aiohttp import ClientSession, web  # noqa: E402

from harness import (  # noqa: E402
    BOT_FLAG, PROGRESS_TEXT, BotProcess, ScriptedEndpoints, Track, bot_arguments, channel_activities, chat_completion,
    client_session, copy_logs, drain, git_commit, isolate_bot, markdown_table, pct, pin_cores, post, self_cpu_s, send_paced,
    serve, wait_acks, write_json,
)

ANSWER_PREFIX = "モデルの回答: "
TARGETS = {"steady_ack_p99_ms": 50.0, "burst_ack_p99_ms": 2000.0, "steady_lost": 0, "burst_lost": 0,
           "stream_first_text_p99_ms": 300.0, "stream_lost": 0}


# ======================================================================================================
# The bot process
# ======================================================================================================
def bot_main(argv: list[str]) -> int:
    p = bot_arguments()
    p.add_argument("--concurrency", type=int, required=True)
    p.add_argument("--profile", default="")
    args = p.parse_args(argv)
    isolate_bot(args.cpu)

    import app as hideki_app
    from hideki.settings import load_settings

    settings = load_settings(
        env_file=None, data_dir=Path(args.data_dir), llm_base_url=args.model_url, max_concurrent_jobs=args.concurrency,
        llm_max_concurrency=args.concurrency,
    )
    web_app = hideki_app.prepare(settings)  # logging, install_offline_encodings, create_app
    asyncio.run(serve(web_app, Path(args.stats), args.profile))
    return 0


async def start_bot(harness: Harness, workdir: Path, name: str, concurrency: int, cpu: int, profile: str) -> BotProcess:
    options = ["--concurrency", str(concurrency)] + (["--profile", profile] if profile else [])
    return await BotProcess.launch(__file__, workdir, name, harness.model_url, cpu, options)


# ======================================================================================================
# Scripted Bot Connector and model (in the benchmark process)
# ======================================================================================================
class Harness(ScriptedEndpoints):
    """The model answers every call after exactly `model_delay` s; answers are told apart by ANSWER_PREFIX."""

    def __init__(self, model_delay: float) -> None:
        super().__init__(Track())
        self.model_delay = model_delay

    def on_activity(self, method: str, cid: str, text: str, received: float) -> None:
        t = self.track
        if method == "PUT" and text.startswith(ANSWER_PREFIX):
            if cid not in t.final:
                t.final[cid] = received
                t.arrived.set()
        elif text != PROGRESS_TEXT and not text.startswith(ANSWER_PREFIX):
            t.other_final[cid] = text  # busy refusal, timeout or error apology

    async def answer(self, body: dict[str, Any]) -> web.Response:
        await asyncio.sleep(self.model_delay)
        text = ANSWER_PREFIX + (body["messages"][-1].get("content") or "")[:50]
        return chat_completion("chatcmpl-bench", body["model"], text, 100, len(text))


class StreamHarness(Harness):
    """The model streams: the first token after `model_delay` s, then `chunks` chunks `gap` s apart. Records per
    chat when the model sent its first token, when the first streaming update and the final message arrived."""

    def __init__(self, model_delay: float, chunks: int, gap: float) -> None:
        super().__init__(model_delay)
        self.chunks, self.gap = chunks, gap
        self.cid_of: dict[str, str] = {}  # the user's text -> conversation id
        self.first_token: dict[str, float] = {}
        self.first_text: dict[str, float] = {}
        self.updates: dict[str, int] = {}

    def on_body(self, method: str, cid: str, body: dict[str, Any], received: float) -> None:
        info = next((e for e in body.get("entities") or [] if e.get("type") == "streaminfo"), {})
        kind = info.get("streamType")
        t = self.track
        if kind == "streaming":
            self.first_text.setdefault(cid, received)
            self.updates[cid] = self.updates.get(cid, 0) + 1
        elif body.get("type") == "message" and (kind == "final" or (body.get("text") or "").startswith(ANSWER_PREFIX)):
            if cid not in t.final:
                t.final[cid] = received
                t.arrived.set()

    async def _model(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.model_calls += 1
        question = body["messages"][-1].get("content") or ""
        cid = self.cid_of.get(question, "")
        await asyncio.sleep(self.model_delay)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        text = ANSWER_PREFIX + question[:50]
        pieces = [text[i * len(text) // self.chunks:(i + 1) * len(text) // self.chunks] for i in range(self.chunks)]
        for n, piece in enumerate(pieces):
            if n:
                await asyncio.sleep(self.gap)
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                     "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            await response.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
            if n == 0:
                self.first_token.setdefault(cid, time.perf_counter())
        done = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 100, "completion_tokens": len(text), "total_tokens": 100 + len(text)}}
        await response.write(f"data: {json.dumps(done, ensure_ascii=False)}\n\ndata: [DONE]\n\n".encode())
        await response.write_eof()
        return response


async def run_stream_phase(args: argparse.Namespace, workdir: Path, cpu: int) -> dict[str, Any]:
    """(c): many 1:1 chats at once, each answer streamed."""
    from tests.support.activities import personal_message

    harness = StreamHarness(args.model_delay, args.stream_chunks, args.stream_chunk_gap)
    await harness.start()
    session = client_session(max(1000, 2 * args.stream_chats), 120)
    profile = str(Path(args.profile).resolve() / "stream.prof") if args.profile else ""
    bot = await start_bot(harness, workdir, "stream", args.concurrency, cpu, profile)
    out: dict[str, Any] = {}
    try:
        msgs = []
        for i in range(args.stream_chats):
            text = f"質問{i}: 住民票の写しを郵送で請求する方法を教えてください。"
            act = personal_message(harness.connector_url, text, user=f"29:bench-{i}", aad=f"aad-bench-{i}")
            harness.cid_of[text] = act["conversation"]["id"]
            msgs.append((act["conversation"]["id"], json.dumps(act, ensure_ascii=False).encode()))
        cids = [c for c, _ in msgs]
        bot.measure()  # loop lag (and the profile, with --profile) from here on
        await asyncio.sleep(0.1)  # let the signal land before the clock starts
        cpu0, wall0 = bot.cpu_s(), time.perf_counter()
        tasks = [asyncio.create_task(post(session, bot.url, cid, body, harness.track)) for cid, body in msgs]
        deadline = time.perf_counter() + args.drain_timeout + args.model_delay + args.stream_chunks * args.stream_chunk_gap
        await wait_acks(tasks, args.drain_timeout)
        await drain(harness.track, cids, deadline)
        bot_cpu, wall = bot.cpu_s() - cpu0, time.perf_counter() - wall0
        first = sorted((harness.first_text[c] - harness.first_token[c]) * 1000
                       for c in cids if c in harness.first_text and c in harness.first_token)
        updates = sorted(harness.updates.get(c, 0) for c in cids)
        out.update({
            "stream_chats": len(cids),
            "stream_first_text_p50_ms": round(pct(first, 50), 1),
            "stream_first_text_p99_ms": round(pct(first, 99), 1),
            "stream_first_text_max_ms": round(first[-1] if first else 0.0, 1),
            "stream_without_streamed_text": len(cids) - len(first),
            "stream_updates_per_answer_p50": pct(updates, 50),
            "stream_updates_per_answer_max": updates[-1] if updates else 0,
            "stream_answer_seconds": round(args.model_delay + (args.stream_chunks - 1) * args.stream_chunk_gap, 2),
            "stream_lost": sum(1 for c in cids if c not in harness.track.final),
            "stream_bot_cpu_s": round(bot_cpu, 2),
            "stream_bot_cpu_pct": round(100 * bot_cpu / wall, 1),
        })
    finally:
        stats = await bot.stop(grace_s=120 if profile else 10)  # a profile is only written on a clean stop
        await session.close()
        await harness.close()
    for key in ("loop_lag_p50_ms", "loop_lag_p99_ms", "loop_lag_max_ms"):
        if key in stats:
            out[f"stream_bot_{key}"] = round(stats[key], 1)
    if profile and Path(profile).exists():
        _print_profile("stream", profile, args.profile_top)
    return out


# ======================================================================================================
# Load generation and measurement
# ======================================================================================================
def _activities(service_url: str, n: int, tag: str) -> list[tuple[str, bytes]]:
    return channel_activities(service_url, n, tag, lambda seq: f"質問{seq}: 住民票の写しを郵送で請求する方法を教えてください。")


def _figures(prefix: str, track: Track, cids: list[str], model_delay: float) -> dict[str, Any]:
    acks = sorted(track.ack[c] * 1000 for c in cids if c in track.ack)
    over = sorted((track.final[c] - track.sent[c] - model_delay) * 1000 for c in cids if c in track.final)
    bad_status = sum(1 for c in cids if track.status.get(c) != 200)
    return {
        f"{prefix}_sent": len(cids),
        f"{prefix}_ack_p50_ms": round(pct(acks, 50), 1),
        f"{prefix}_ack_p99_ms": round(pct(acks, 99), 1),
        f"{prefix}_ack_max_ms": round(acks[-1] if acks else 0.0, 1),
        f"{prefix}_ack_non_200": bad_status,  # includes POSTs not acknowledged before the deadline (-1)
        f"{prefix}_e2e_overhead_p50_ms": round(pct(over, 50), 1),
        f"{prefix}_e2e_overhead_p99_ms": round(pct(over, 99), 1),
        f"{prefix}_e2e_overhead_max_ms": round(over[-1] if over else 0.0, 1),
        f"{prefix}_lost": sum(1 for c in cids if c not in track.final),
        f"{prefix}_refused_or_error_replies": sum(1 for c in cids if c in track.other_final and c not in track.final),
    }


async def _warm(session: ClientSession, bot: BotProcess, harness: Harness, n: int, timeout: float) -> float:
    """Send n messages one by one and wait for each answer; returns the first one's overhead (ms)."""
    first = 0.0
    for i, (cid, body) in enumerate(_activities(harness.connector_url, n, "warm")):
        await post(session, bot.url, cid, body, harness.track)
        await drain(harness.track, [cid], time.perf_counter() + timeout)
        if i == 0 and cid in harness.track.final:
            first = (harness.track.final[cid] - harness.track.sent[cid] - harness.model_delay) * 1000
    return round(first, 1)


async def run_phase(kind: str, args: argparse.Namespace, harness: Harness, session: ClientSession, workdir: Path, cpu: int) -> dict[str, Any]:
    profile = str(Path(args.profile).resolve() / f"{kind}.prof") if args.profile else ""
    bot = await start_bot(harness, workdir, kind, args.concurrency, cpu, profile)
    out: dict[str, Any] = {}
    try:
        out[f"{kind}_cold_first_e2e_overhead_ms"] = await _warm(session, bot, harness, args.warmup, args.drain_timeout)
        out[f"{kind}_idle_rss_mb"] = round(bot.status().get("VmRSS", 0) / 1024, 1)
        bot.measure()
        await asyncio.sleep(0.1)  # let the signal land before the clock starts
        bot.sample()
        if kind == "steady":
            n = int(round(args.rate * args.seconds))
            msgs = _activities(harness.connector_url, n, "steady")
        else:
            n = args.burst
            msgs = _activities(harness.connector_url, n, "burst")
        cids = [c for c, _ in msgs]
        cpu0, self0, wall0 = bot.cpu_s(), self_cpu_s(), time.perf_counter()
        lags: list[float] = []
        if kind == "steady":
            tasks, lags = await send_paced(session, bot.url, msgs, harness.track, 1 / args.rate)
        else:
            tasks = [asyncio.create_task(post(session, bot.url, cid, body, harness.track)) for cid, body in msgs]
        # one deadline for acks and answers: --drain-timeout after the last message was sent
        deadline = time.perf_counter() + args.drain_timeout
        await wait_acks(tasks, args.drain_timeout)
        for cid in cids:
            if cid not in harness.track.ack:  # never acknowledged: count the whole wait as its ack time
                harness.track.ack[cid] = deadline - harness.track.sent.get(cid, deadline)
                harness.track.status[cid] = -1
        await drain(harness.track, cids, deadline)
        wall = time.perf_counter() - wall0
        bot_cpu = bot.cpu_s() - cpu0
        gen_cpu = self_cpu_s() - self0
        answered = [harness.track.final[c] for c in cids if c in harness.track.final]
        out.update(_figures(kind, harness.track, cids, args.model_delay))
        out[f"{kind}_wall_s"] = round(wall, 2)
        out[f"{kind}_last_answer_after_s"] = round(max(answered) - wall0, 2) if answered else None
        out[f"{kind}_bot_cpu_pct"] = round(100 * bot_cpu / wall, 1)
        out[f"{kind}_generator_cpu_pct"] = round(100 * gen_cpu / wall, 1)
        out[f"{kind}_bot_peak_threads"] = bot.peak_threads
        out[f"{kind}_peak_rss_mb"] = round(bot.status().get("VmHWM", 0) / 1024, 1)
        if lags:
            lags.sort()
            out["steady_send_lag_p99_ms"] = round(pct(lags, 99) * 1000, 1)
    finally:
        stats = await bot.stop(grace_s=120 if profile else 10)  # a profile is only written on a clean stop
    for key in ("loop_lag_p50_ms", "loop_lag_p99_ms", "loop_lag_max_ms", "involuntary_ctx_switches"):
        if key in stats:
            out[f"{kind}_bot_{key}"] = round(stats[key], 1)
    if profile and Path(profile).exists():
        _print_profile(kind, profile, args.profile_top)
    return out


def _print_profile(kind: str, path: str, top: int) -> None:
    import io
    import pstats

    for order in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(path, stream=buf).strip_dirs().sort_stats(order).print_stats(top)
        print(f"\n--- cProfile of the bot's loop thread, {kind}, by {order} ({path}) ---", file=sys.stderr)
        print(buf.getvalue().split("\n\n", 1)[-1], file=sys.stderr)


# ======================================================================================================
# Report
# ======================================================================================================
def _ok(value: Any, target: float) -> str:
    if value is None:
        return "n/a"
    return "yes" if value < target or (target == 0 and value == 0) else "**NO**"


def report(r: dict[str, Any]) -> str:
    d = r["model_delay_s"]
    rows = [
        ("steady", "HTTP ack p50 / p99 (ms)", f"{r['steady_ack_p50_ms']} / {r['steady_ack_p99_ms']}", "p99 < 50", _ok(r["steady_ack_p99_ms"], 50)),
        ("steady", f"e2e - model delay {d}s, p50 / p99 (ms)", f"{r['steady_e2e_overhead_p50_ms']} / {r['steady_e2e_overhead_p99_ms']}", "", ""),
        ("steady", "replies lost", f"{r['steady_lost']} of {r['steady_sent']}", "0", _ok(r["steady_lost"], 0)),
        ("steady", "bot CPU / generator CPU (% of a core)", f"{r['steady_bot_cpu_pct']} / {r['steady_generator_cpu_pct']}", "", ""),
        ("steady", "generator send lag p99 (ms; late = generator distorted)", f"{r.get('steady_send_lag_p99_ms')}", "", ""),
        ("steady", "bot loop lag p99 / max (ms)", f"{r.get('steady_bot_loop_lag_p99_ms')} / {r.get('steady_bot_loop_lag_max_ms')}", "", ""),
        ("burst", "HTTP ack p50 / p99 (ms)", f"{r['burst_ack_p50_ms']} / {r['burst_ack_p99_ms']}", "p99 < 2000", _ok(r["burst_ack_p99_ms"], 2000)),
        ("burst", f"e2e - model delay {d}s, p50 / p99 (ms)", f"{r['burst_e2e_overhead_p50_ms']} / {r['burst_e2e_overhead_p99_ms']}", "", ""),
        ("burst", "replies lost", f"{r['burst_lost']} of {r['burst_sent']}", "0", _ok(r["burst_lost"], 0)),
        ("burst", "peak RSS of the bot (MB; idle after warm-up)", f"{r['burst_peak_rss_mb']} ({r['burst_idle_rss_mb']})", "", ""),
        ("burst", "bot loop lag p99 / max (ms)", f"{r.get('burst_bot_loop_lag_p99_ms')} / {r.get('burst_bot_loop_lag_max_ms')}", "", ""),
    ]
    rows = [row for row in rows if f"{row[0]}_lost" in r]  # phases that ran
    if "stream_lost" in r:
        rows += [
            ("stream", f"first text after the model's first token, p50 / p99 (ms; {r['stream_chats']} 1:1 chats)",
             f"{r['stream_first_text_p50_ms']} / {r['stream_first_text_p99_ms']}", "p99 < 300", _ok(r["stream_first_text_p99_ms"], 300)),
            ("stream", f"streaming updates per answer, p50 / max ({r['stream_answer_seconds']} s of tokens)",
             f"{r['stream_updates_per_answer_p50']} / {r['stream_updates_per_answer_max']}", "~1 a second", ""),
            ("stream", "replies lost", f"{r['stream_lost']} of {r['stream_chats']}", "0", _ok(r["stream_lost"], 0)),
            ("stream", "bot CPU (s; % of a core)", f"{r['stream_bot_cpu_s']} ({r['stream_bot_cpu_pct']})", "", ""),
            ("stream", "bot loop lag p99 / max (ms)", f"{r.get('stream_bot_loop_lag_p99_ms')} / {r.get('stream_bot_loop_lag_max_ms')}", "", ""),
        ]
    title = (f"Bot overhead: rate {r['rate']}/s for {r['seconds']} s, burst {r['burst']}, model delay {d} s, "
             f"max_concurrent_jobs {r['concurrency']}, pinned {r['pinned']}")
    return markdown_table(title, rows)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    from hideki.llm.tokens import install_offline_encodings

    cores = pin_cores(args.no_pin)
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "model_delay_s": args.model_delay, "rate": args.rate, "seconds": args.seconds, "burst": args.burst,
        "concurrency": args.concurrency, "pinned": cores.pinned, "profiled": bool(args.profile),
        "git_commit": git_commit(),
    }
    with tempfile.TemporaryDirectory(prefix="hideki-bench-") as tmp:
        workdir = Path(tmp)
        install_offline_encodings(workdir / "tiktoken")  # nothing here counts tokens; the bot installs its own
        harness = Harness(args.model_delay)
        await harness.start()
        session = client_session(max(2000, 2 * args.burst), 120)
        try:
            if not args.skip_steady:
                result.update(await run_phase("steady", args, harness, session, workdir, cores.bot))
            if not args.skip_burst:
                result.update(await run_phase("burst", args, harness, session, workdir, cores.bot))
            if not args.skip_stream:
                result.update(await run_stream_phase(args, workdir, cores.bot))
        finally:
            await session.close()
            await harness.close()
        if args.keep_logs:
            copy_logs(workdir, args.keep_logs)
        result["connector_calls"] = harness.connector_calls
        result["model_calls"] = harness.model_calls
    return result


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == BOT_FLAG:
        return bot_main(sys.argv[2:])
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--rate", type=float, default=100.0, help="steady messages per second")
    p.add_argument("--seconds", type=float, default=10.0, help="steady phase length")
    p.add_argument("--burst", type=int, default=500, help="messages sent at once in the burst phase")
    p.add_argument("--model-delay", type=float, default=1.0, help="seconds the scripted model takes per call")
    p.add_argument("--concurrency", type=int, default=256, help="bot max_concurrent_jobs (the settings default, 256)")
    p.add_argument("--warmup", type=int, default=3, help="messages answered before each phase, not counted")
    p.add_argument("--drain-timeout", type=float, default=30.0, help="seconds to wait for answers after sending")
    p.add_argument("--json", help="write all figures as one flat JSON object to this file")
    p.add_argument("--profile", help="directory for cProfile output of the bot process (slows the bot)")
    p.add_argument("--profile-top", type=int, default=25)
    p.add_argument("--keep-logs", help="copy the bot processes' stderr logs into this directory")
    p.add_argument("--no-pin", action="store_true", help="do not pin the bot and the generator to separate cores")
    p.add_argument("--skip-steady", action="store_true")
    p.add_argument("--skip-burst", action="store_true")
    p.add_argument("--skip-stream", action="store_true")
    p.add_argument("--stream-chats", type=int, default=200, help="1:1 chats streaming at once in the stream phase")
    p.add_argument("--stream-chunks", type=int, default=20, help="chunks of each streamed answer")
    p.add_argument("--stream-chunk-gap", type=float, default=0.1, help="seconds between a streamed answer's chunks")
    args = p.parse_args()
    started = time.perf_counter()
    result = asyncio.run(main_async(args))
    result["total_run_s"] = round(time.perf_counter() - started, 1)
    if not args.skip_steady and not args.skip_burst:
        print(report(result))
        misses = [k for k, target in TARGETS.items() if k in result and not (result[k] < target or result[k] == target == 0)]
        print("\nall targets met" if not misses else f"\ntargets missed: {', '.join(misses)}")
    else:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    if args.json:
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
