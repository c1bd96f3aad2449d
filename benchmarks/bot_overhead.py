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

Concurrency: the runner lets `max_concurrent_jobs` (default 256) jobs run at once. With a 1 s model,
100 msg/s needs >= rate x delay = 100 jobs in flight (Little's law) just to keep up; the default leaves
2.5x headroom and lets half of the 500-message burst reach the model at once. `--concurrency` overrides it.

`--profile DIR` runs cProfile in the bot's event-loop thread and prints the top functions. It slows the
bot down: use it to find where time goes, not for the figures.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import sys
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web  # noqa: E402

BOT_FLAG = "--_bot"
AMBIENT = ("HIDEKI_", "OPENAI_", "AZURE_OPENAI_", "MicrosoftApp", "MICROSOFT_APP", "PORT")
PROGRESS_TEXT = "作成中…"  # Settings.progress_text default
ANSWER_PREFIX = "モデルの回答: "
TARGETS = {"steady_ack_p99_ms": 50.0, "burst_ack_p99_ms": 2000.0, "steady_lost": 0, "burst_lost": 0}


# ======================================================================================================
# The bot process
# ======================================================================================================
def bot_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model-url", required=True)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--concurrency", type=int, required=True)
    p.add_argument("--cpu", type=int, default=-1)
    p.add_argument("--stats", required=True)
    p.add_argument("--profile", default="")
    args = p.parse_args(argv)
    if args.cpu >= 0:
        os.sched_setaffinity(0, {args.cpu})
    for name in list(os.environ):
        if name.startswith(AMBIENT):
            del os.environ[name]

    import app as hideki_app
    from hideki.settings import load_settings

    settings = load_settings(
        env_file=None, data_dir=Path(args.data_dir), llm_base_url=args.model_url, max_concurrent_jobs=args.concurrency
    )
    web_app = hideki_app.prepare(settings)  # logging, install_offline_encodings, create_app
    asyncio.run(_serve(web_app, Path(args.stats), args.profile))
    return 0


async def _serve(web_app: web.Application, stats_path: Path, profile_path: str) -> None:
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    lags: list[float] = []

    async def watch_loop() -> None:  # how late the loop wakes a 10 ms sleeper = how long others hogged it
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - t - 0.01)

    def write_stats() -> None:
        done = sorted(lags)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        stats = {
            "loop_lag_p50_ms": _pct(done, 50) * 1000,
            "loop_lag_p99_ms": _pct(done, 99) * 1000,
            "loop_lag_max_ms": (done[-1] if done else 0.0) * 1000,
            "maxrss_mb": usage.ru_maxrss / 1024,
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "involuntary_ctx_switches": usage.ru_nivcsw,
        }
        tmp = stats_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stats))
        tmp.replace(stats_path)

    def keep_writing() -> None:  # from a thread: a loop blocked for seconds must still leave figures behind
        while not stop.is_set():
            write_stats()
            time.sleep(0.5)

    watcher = asyncio.create_task(watch_loop())
    threading.Thread(target=keep_writing, daemon=True).start()
    profiler = None
    if profile_path:
        import cProfile

        profiler = cProfile.Profile()

    def measure() -> None:  # SIGUSR1: warm-up is over; count loop lag (and profile) from here on
        lags.clear()
        if profiler is not None:
            profiler.enable()

    loop.add_signal_handler(signal.SIGUSR1, measure)
    print(f"READY {port}", flush=True)
    await stop.wait()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile_path)
    watcher.cancel()
    write_stats()
    await runner.cleanup()  # may wait shutdown_grace_s for unfinished jobs; the parent stops waiting first


# ======================================================================================================
# Scripted Bot Connector and model (in the benchmark process)
# ======================================================================================================
@dataclass
class Track:
    sent: dict[str, float] = field(default_factory=dict)  # conversation id -> POST sent
    ack: dict[str, float] = field(default_factory=dict)  # conversation id -> ack seconds
    status: dict[str, int] = field(default_factory=dict)
    final: dict[str, float] = field(default_factory=dict)  # conversation id -> model answer received
    other_final: dict[str, str] = field(default_factory=dict)  # non-answer texts (busy, errors)
    expected: set[str] = field(default_factory=set)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


class Harness:
    def __init__(self, model_delay: float) -> None:
        self.model_delay = model_delay
        self.track = Track()
        self._ids = 0
        self.connector_calls = 0
        self.model_calls = 0
        self._runners: list[web.AppRunner] = []

    async def start(self) -> None:
        connector = web.Application(client_max_size=10 * 1024 * 1024)
        connector.router.add_post("/v3/conversations/{cid}/activities", self._connector)
        connector.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._connector)
        connector.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._connector)
        model = web.Application(client_max_size=20 * 1024 * 1024)
        model.router.add_post("/v1/chat/completions", self._model)
        ports = []
        for app in (connector, model):
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0, backlog=4096).start()
            self._runners.append(runner)
            ports.append(runner.addresses[0][1])
        self.connector_url = f"http://127.0.0.1:{ports[0]}/"
        self.model_url = f"http://127.0.0.1:{ports[1]}/v1"

    async def close(self) -> None:
        for runner in self._runners:
            await runner.cleanup()

    async def _connector(self, request: web.Request) -> web.Response:
        now = time.perf_counter()
        try:
            body = await request.json()
        except ConnectionResetError:  # the bot process was stopped mid-request
            return web.Response(status=499)
        self.connector_calls += 1
        cid = request.match_info["cid"]
        text = body.get("text") or ""
        t = self.track
        if body.get("type") == "message" and cid in t.expected:
            if request.method == "PUT" and text.startswith(ANSWER_PREFIX):
                if cid not in t.final:
                    t.final[cid] = now
                    t.arrived.set()
            elif text != PROGRESS_TEXT and not text.startswith(ANSWER_PREFIX):
                t.other_final[cid] = text  # busy refusal, timeout or error apology
        self._ids += 1
        return web.json_response({"id": request.match_info.get("aid") or f"bot-{self._ids}"})

    async def _model(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ConnectionResetError:
            return web.Response(status=499)
        self.model_calls += 1
        await asyncio.sleep(self.model_delay)
        text = ANSWER_PREFIX + (body["messages"][-1].get("content") or "")[:50]
        return web.json_response(
            {
                "id": "chatcmpl-bench",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 100, "completion_tokens": len(text), "total_tokens": 100 + len(text)},
            }
        )


# ======================================================================================================
# The bot process from outside
# ======================================================================================================
def _proc_status(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def _proc_cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class BotProcess:
    def __init__(self, proc: asyncio.subprocess.Process, url: str, stats: Path, log: Path) -> None:
        self.proc = proc
        self.url = url
        self.stats = stats
        self.log = log
        self.peak_threads = 0
        self._sampler: asyncio.Task | None = None

    @classmethod
    async def start(
        cls, harness: Harness, workdir: Path, name: str, concurrency: int, cpu: int, profile: str
    ) -> "BotProcess":
        data_dir = workdir / f"data-{name}"
        stats = workdir / f"stats-{name}.json"
        log = workdir / f"bot-{name}.stderr"
        cmd = [sys.executable, str(Path(__file__).resolve()), BOT_FLAG, "--model-url", harness.model_url,
               "--data-dir", str(data_dir), "--concurrency", str(concurrency), "--cpu", str(cpu), "--stats", str(stats)]
        if profile:
            cmd += ["--profile", profile]
        with open(log, "wb") as err:
            proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE, stderr=err, cwd=str(ROOT))
        assert proc.stdout is not None
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=120)
        except asyncio.TimeoutError:
            line = b""
        if not line.startswith(b"READY "):
            proc.kill()
            await proc.wait()
            raise SystemExit(f"the bot did not start; see {log}:\n{log.read_text(errors='replace')[-3000:]}")
        port = int(line.split()[1])
        return cls(proc, f"http://127.0.0.1:{port}/api/messages", stats, log)

    def sample(self) -> None:
        self._sampler = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            self.peak_threads = max(self.peak_threads, _proc_status(self.proc.pid).get("Threads", 0))
            await asyncio.sleep(0.1)

    def measure(self) -> None:
        self.proc.send_signal(signal.SIGUSR1)

    def status(self) -> dict[str, int]:
        return _proc_status(self.proc.pid)

    def cpu_s(self) -> float:
        return _proc_cpu_s(self.proc.pid)

    async def stop(self, grace_s: float = 10) -> dict[str, float]:
        if self._sampler is not None:
            self._sampler.cancel()
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:  # the stats are written before the shutdown grace period; don't sit through it
                await asyncio.wait_for(self.proc.wait(), timeout=grace_s)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        try:
            return json.loads(self.stats.read_text())
        except (OSError, ValueError):
            return {}


# ======================================================================================================
# Load generation and measurement
# ======================================================================================================
def _pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted `values` (0 when empty)."""
    if not values:
        return 0.0
    rank = max(1, -(-len(values) * q // 100))
    return values[int(min(rank, len(values))) - 1]


_seq = 0


def _activities(service_url: str, n: int, tag: str) -> list[tuple[str, bytes]]:
    """n channel @mentions, each a new thread in its own channel by its own user (as many staff would send them,
    so per-user rate limits do not apply): (conversation id, JSON body)."""
    from tests.support.activities import channel_message

    global _seq
    out = []
    for _ in range(n):
        _seq += 1
        act = channel_message(
            service_url, f"質問{_seq}: 住民票の写しを郵送で請求する方法を教えてください。", channel_id=f"19:{tag}-{_seq}@thread.tacv2",
            aad=f"aad-staff-{_seq}",
        )
        out.append((act["conversation"]["id"], json.dumps(act, ensure_ascii=False).encode()))
    return out


async def _post(session: ClientSession, url: str, cid: str, body: bytes, track: Track) -> None:
    track.expected.add(cid)
    t0 = time.perf_counter()
    track.sent[cid] = t0
    try:
        async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
            await response.read()
            track.status[cid] = response.status
    except Exception as exc:  # noqa: BLE001 - a failed POST is a lost message, not a crash
        track.status[cid] = -1
        track.other_final[cid] = f"POST failed: {exc!r}"
    track.ack[cid] = time.perf_counter() - t0


async def _drain(track: Track, cids: list[str], timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while any(c not in track.final for c in cids):
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return
        track.arrived.clear()
        try:
            await asyncio.wait_for(track.arrived.wait(), timeout=min(remaining, 0.5))
        except asyncio.TimeoutError:
            pass


def _figures(prefix: str, track: Track, cids: list[str], model_delay: float) -> dict[str, Any]:
    acks = sorted(track.ack[c] * 1000 for c in cids if c in track.ack)
    over = sorted((track.final[c] - track.sent[c] - model_delay) * 1000 for c in cids if c in track.final)
    bad_status = sum(1 for c in cids if track.status.get(c) != 200)
    return {
        f"{prefix}_sent": len(cids),
        f"{prefix}_ack_p50_ms": round(_pct(acks, 50), 1),
        f"{prefix}_ack_p99_ms": round(_pct(acks, 99), 1),
        f"{prefix}_ack_max_ms": round(acks[-1] if acks else 0.0, 1),
        f"{prefix}_ack_non_200": bad_status,  # includes POSTs not acknowledged before the deadline (-1)
        f"{prefix}_e2e_overhead_p50_ms": round(_pct(over, 50), 1),
        f"{prefix}_e2e_overhead_p99_ms": round(_pct(over, 99), 1),
        f"{prefix}_e2e_overhead_max_ms": round(over[-1] if over else 0.0, 1),
        f"{prefix}_lost": sum(1 for c in cids if c not in track.final),
        f"{prefix}_refused_or_error_replies": sum(1 for c in cids if c in track.other_final and c not in track.final),
    }


async def _warm(session: ClientSession, bot: BotProcess, harness: Harness, n: int, timeout: float) -> float:
    """Send n messages one by one and wait for each answer; returns the first one's overhead (ms)."""
    first = 0.0
    for i, (cid, body) in enumerate(_activities(harness.connector_url, n, "warm")):
        await _post(session, bot.url, cid, body, harness.track)
        await _drain(harness.track, [cid], timeout)
        if i == 0 and cid in harness.track.final:
            first = (harness.track.final[cid] - harness.track.sent[cid] - harness.model_delay) * 1000
    return round(first, 1)


async def run_phase(kind: str, args: argparse.Namespace, harness: Harness, session: ClientSession, workdir: Path, cpu: int) -> dict[str, Any]:
    profile = str(Path(args.profile).resolve() / f"{kind}.prof") if args.profile else ""
    bot = await BotProcess.start(harness, workdir, kind, args.concurrency, cpu, profile)
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
        cpu0, self0, wall0 = bot.cpu_s(), resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        tasks: list[asyncio.Task] = []
        lags: list[float] = []
        if kind == "steady":
            start = time.perf_counter() + 0.05
            for i, (cid, body) in enumerate(msgs):
                target = start + i / args.rate
                if (delay := target - time.perf_counter()) > 0:
                    await asyncio.sleep(delay)
                lags.append(time.perf_counter() - target)
                tasks.append(asyncio.create_task(_post(session, bot.url, cid, body, harness.track)))
        else:
            tasks = [asyncio.create_task(_post(session, bot.url, cid, body, harness.track)) for cid, body in msgs]
        # one deadline for acks and answers: --drain-timeout after the last message was sent
        deadline = time.perf_counter() + args.drain_timeout
        _, unacked = await asyncio.wait(tasks, timeout=args.drain_timeout)
        for task in unacked:
            task.cancel()
        for cid in cids:
            if cid not in harness.track.ack:  # never acknowledged: count the whole wait as its ack time
                harness.track.ack[cid] = deadline - harness.track.sent.get(cid, deadline)
                harness.track.status[cid] = -1
        await _drain(harness.track, cids, max(0.0, deadline - time.perf_counter()))
        wall = time.perf_counter() - wall0
        self1 = resource.getrusage(resource.RUSAGE_SELF)
        bot_cpu = bot.cpu_s() - cpu0
        gen_cpu = (self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime)
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
            out["steady_send_lag_p99_ms"] = round(_pct(lags, 99) * 1000, 1)
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
    lines = [
        f"Bot overhead: rate {r['rate']}/s for {r['seconds']} s, burst {r['burst']}, model delay {d} s, "
        f"max_concurrent_jobs {r['concurrency']}, pinned {r['pinned']}",
        "",
        "| phase | figure | value | target | met |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {t} | {m} |" for a, b, c, t, m in rows]
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    from hideki.tokens import install_offline_encodings

    pinned = not args.no_pin and len(os.sched_getaffinity(0)) >= 2
    cpus = sorted(os.sched_getaffinity(0))
    bot_cpu, gen_cpu = (cpus[0], cpus[1]) if pinned else (-1, -1)
    if pinned:
        os.sched_setaffinity(0, {gen_cpu})
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "model_delay_s": args.model_delay, "rate": args.rate, "seconds": args.seconds, "burst": args.burst,
        "concurrency": args.concurrency, "pinned": pinned, "profiled": bool(args.profile),
        "git_commit": _git_commit(),
    }
    with tempfile.TemporaryDirectory(prefix="hideki-bench-") as tmp:
        workdir = Path(tmp)
        install_offline_encodings(workdir / "tiktoken")  # nothing here counts tokens; the bot installs its own
        harness = Harness(args.model_delay)
        await harness.start()
        limit = max(2000, 2 * args.burst)
        session = ClientSession(connector=TCPConnector(limit=limit, limit_per_host=limit), timeout=ClientTimeout(total=120))
        try:
            if not args.skip_steady:
                result.update(await run_phase("steady", args, harness, session, workdir, bot_cpu))
            if not args.skip_burst:
                result.update(await run_phase("burst", args, harness, session, workdir, bot_cpu))
        finally:
            await session.close()
            await harness.close()
        if args.keep_logs:
            for log in workdir.glob("bot-*.stderr"):
                target = Path(args.keep_logs) / log.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(log.read_bytes())
        result["connector_calls"] = harness.connector_calls
        result["model_calls"] = harness.model_calls
    return result


def _git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return ""


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
    args = p.parse_args()
    started = time.perf_counter()
    result = asyncio.run(main_async(args))
    result["total_run_s"] = round(time.perf_counter() - started, 1)
    if not args.skip_steady and not args.skip_burst:
        print(report(result))
        misses = [k for k, target in TARGETS.items() if not (result[k] < target or result[k] == target == 0)]
        print("\nall targets met" if not misses else f"\ntargets missed: {', '.join(misses)}")
    else:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
