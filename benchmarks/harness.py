"""Shared pieces of the bot benchmarks (bot_overhead.py, load.py).

The bot runs in its own process (`BotProcess`, whose side is `isolate_bot` + `serve`); this process holds the
load generator (`channel_activities`, `post`, `send_paced`, `drain`, with a `Track`) and the scripted Bot
Connector and model (`ScriptedEndpoints`). Every timestamp is taken here with one clock (time.perf_counter).
Not a benchmark itself: run bot_overhead.py or load.py.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

ROOT = Path(__file__).resolve().parents[1]
BOT_FLAG = "--_bot"  # first argument of a benchmark script run as the bot process
AMBIENT = ("HIDEKI_", "OPENAI_", "AZURE_OPENAI_", "MicrosoftApp", "MICROSOFT_APP", "PORT")
PROGRESS_TEXT = "作成中…"  # Settings.progress_text default


# ======================================================================================================
# Inside the bot process
# ======================================================================================================
def bot_arguments() -> argparse.ArgumentParser:
    """The options every bot process takes (`BotProcess.launch` passes them); add a benchmark's own."""
    p = argparse.ArgumentParser()
    p.add_argument("--model-url", required=True)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--cpu", type=int, default=-1)
    p.add_argument("--stats", required=True)
    return p


def isolate_bot(cpu: int) -> None:
    """Pin this process to `cpu` (-1: no pinning) and drop ambient settings (Hideki, OpenAI, Bot, PORT)."""
    if cpu >= 0:
        os.sched_setaffinity(0, {cpu})
    for name in list(os.environ):
        if name.startswith(AMBIENT):
            del os.environ[name]


async def serve(web_app: web.Application, stats_path: Path, profile_path: str) -> None:
    """Serve the bot on an ephemeral loopback port, print `READY <port>`, run until SIGTERM.

    Loop lag, max RSS, CPU time and context switches go to `stats_path` every 0.5 s and at the end; SIGUSR1
    (warm-up over) restarts the loop-lag count and starts cProfile when `profile_path` is set.
    """
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
            "loop_lag_p50_ms": pct(done, 50) * 1000,
            "loop_lag_p99_ms": pct(done, 99) * 1000,
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
    """A running bot process: its /api/messages URL, its stats file and stderr log, /proc figures."""

    def __init__(self, proc: asyncio.subprocess.Process, url: str, stats: Path, log: Path) -> None:
        self.proc = proc
        self.url = url
        self.stats = stats
        self.log = log
        self.peak_threads = 0
        self._sampler: asyncio.Task | None = None

    @classmethod
    async def launch(cls, script: str, workdir: Path, name: str, model_url: str, cpu: int, options: list[str]) -> "BotProcess":
        """Run `script --_bot` (data, stats and log named after `name` in `workdir`) and wait for READY (120 s)."""
        data_dir, stats, log = workdir / f"data-{name}", workdir / f"stats-{name}.json", workdir / f"bot-{name}.stderr"
        cmd = [sys.executable, str(Path(script).resolve()), BOT_FLAG, "--model-url", model_url, "--data-dir", str(data_dir),
               "--cpu", str(cpu), "--stats", str(stats), *options]
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
        return cls(proc, f"http://127.0.0.1:{int(line.split()[1])}/api/messages", stats, log)

    def sample(self) -> None:
        """Start recording the peak thread count (every 0.1 s until `stop`)."""
        self._sampler = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            self.peak_threads = max(self.peak_threads, _proc_status(self.proc.pid).get("Threads", 0))
            await asyncio.sleep(0.1)

    def measure(self) -> None:
        """Tell the bot the warm-up is over (SIGUSR1)."""
        self.proc.send_signal(signal.SIGUSR1)

    def status(self) -> dict[str, int]:
        """VmRSS, VmHWM (kB) and Threads from /proc."""
        return _proc_status(self.proc.pid)

    def cpu_s(self) -> float:
        """User + system CPU seconds so far."""
        return _proc_cpu_s(self.proc.pid)

    async def stop(self, grace_s: float = 10) -> dict[str, float]:
        """SIGTERM, kill after `grace_s`; returns the bot's last stats ({} if none)."""
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
# Scripted Bot Connector and model (in the benchmark process)
# ======================================================================================================
@dataclass
class Track:
    """What happened to each conversation, by conversation id (times from time.perf_counter)."""

    sent: dict[str, float] = field(default_factory=dict)  # POST sent
    ack: dict[str, float] = field(default_factory=dict)  # ack seconds
    status: dict[str, int] = field(default_factory=dict)  # HTTP status of the POST (-1: failed or not acked)
    final: dict[str, float] = field(default_factory=dict)  # final text received
    other_final: dict[str, str] = field(default_factory=dict)  # non-answer texts (busy, errors, failed POSTs)
    expected: set[str] = field(default_factory=set)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set on each final text


class ScriptedEndpoints:
    """The scripted Bot Connector and OpenAI-compatible model on loopback; subclasses say what a call does."""

    def __init__(self, track: Track, shutdown_timeout: float = 60.0) -> None:
        self.track = track
        self.connector_calls = 0
        self.model_calls = 0
        self._ids = 0
        self._shutdown_timeout = shutdown_timeout
        self._runners: list[web.AppRunner] = []

    async def start(self) -> None:
        """Serve both; sets `connector_url` (the activities' serviceUrl) and `model_url`."""
        connector = web.Application(client_max_size=10 * 1024 * 1024)
        connector.router.add_post("/v3/conversations/{cid}/activities", self._connector)
        connector.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._connector)
        connector.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._connector)
        model = web.Application(client_max_size=20 * 1024 * 1024)
        model.router.add_post("/v1/chat/completions", self._model)
        ports = []
        for app in (connector, model):
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=self._shutdown_timeout)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0, backlog=4096).start()
            self._runners.append(runner)
            ports.append(runner.addresses[0][1])
        self.connector_url = f"http://127.0.0.1:{ports[0]}/"
        self.model_url = f"http://127.0.0.1:{ports[1]}/v1"

    async def close(self) -> None:
        for runner in self._runners:
            await runner.cleanup()

    def on_activity(self, method: str, cid: str, text: str, received: float) -> None:
        """A message the bot sent or updated (POST or PUT) in an expected conversation."""
        raise NotImplementedError

    def on_body(self, method: str, cid: str, body: dict[str, Any], received: float) -> None:
        """Any activity the bot sent in an expected conversation (typing and streaming updates too)."""
        if body.get("type") == "message":
            self.on_activity(method, cid, body.get("text") or "", received)

    async def answer(self, body: dict[str, Any]) -> web.Response:
        """The model's reply to a chat-completions request."""
        raise NotImplementedError

    async def _connector(self, request: web.Request) -> web.Response:
        now = time.perf_counter()
        try:
            body = await request.json()
        except ConnectionResetError:  # the bot process was stopped mid-request
            return web.Response(status=499)
        self.connector_calls += 1
        cid = request.match_info["cid"]
        if cid in self.track.expected:
            self.on_body(request.method, cid, body, now)
        self._ids += 1
        return web.json_response({"id": request.match_info.get("aid") or f"bot-{self._ids}"})

    async def _model(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ConnectionResetError:
            return web.Response(status=499)
        self.model_calls += 1
        return await self.answer(body)


def chat_completion(completion_id: str, model: str, text: str, prompt_tokens: int, completion_tokens: int) -> web.Response:
    """An OpenAI chat-completions answer with `text`."""
    return web.json_response(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }
    )


# ======================================================================================================
# Load generation
# ======================================================================================================
_seq = 0


def channel_activities(
    service_url: str, n: int, tag: str, text: Callable[[int], str], channel_name: str | None = None
) -> list[tuple[str, bytes]]:
    """n channel @mentions, each a new thread in its own channel by its own user (as many staff would send them,
    so per-user rate limits do not apply), `text(seq)` each: (conversation id, JSON body)."""
    from tests.support.activities import channel_message

    global _seq
    out = []
    for _ in range(n):
        _seq += 1
        act = channel_message(service_url, text(_seq), channel_id=f"19:{tag}-{_seq}@thread.tacv2", channel_name=channel_name,
                              aad=f"aad-staff-{tag}-{_seq}")
        out.append((act["conversation"]["id"], json.dumps(act, ensure_ascii=False).encode()))
    return out


async def post(session: ClientSession, url: str, cid: str, body: bytes, track: Track) -> None:
    """POST one activity; record when it was sent, its ack time and HTTP status (-1: failed)."""
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


async def send_paced(
    session: ClientSession, url: str, msgs: list[tuple[str, bytes]], track: Track, spacing_s: float
) -> tuple[list[asyncio.Task], list[float]]:
    """Start one `post` every `spacing_s` (the first after 50 ms): the tasks and how late each started (s)."""
    tasks: list[asyncio.Task] = []
    lags: list[float] = []
    start = time.perf_counter() + 0.05
    for i, (cid, body) in enumerate(msgs):
        target = start + i * spacing_s
        if (delay := target - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        lags.append(time.perf_counter() - target)
        tasks.append(asyncio.create_task(post(session, url, cid, body, track)))
    return tasks, lags


async def wait_acks(tasks: list[asyncio.Task], timeout: float) -> None:
    """Wait up to `timeout` s for the POSTs; cancel those still open."""
    _, unacked = await asyncio.wait(tasks, timeout=timeout)
    for task in unacked:
        task.cancel()


async def drain(track: Track, cids: list[str], deadline: float) -> None:
    """Wait until every conversation in `cids` has its final text, or until `deadline` (perf_counter)."""
    while any(c not in track.final for c in cids):
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return
        track.arrived.clear()
        try:
            await asyncio.wait_for(track.arrived.wait(), timeout=min(remaining, 0.5))
        except asyncio.TimeoutError:
            pass


def client_session(limit: int, total_timeout_s: float) -> ClientSession:
    """The generator's HTTP client: `limit` connections in all and per host."""
    return ClientSession(connector=TCPConnector(limit=limit, limit_per_host=limit), timeout=ClientTimeout(total=total_timeout_s))


# ======================================================================================================
# Set-up, figures and output
# ======================================================================================================
@dataclass
class Cores:
    pinned: bool
    bot: int  # -1: not pinned
    generator: int


def pin_cores(no_pin: bool) -> Cores:
    """With 2+ CPUs (and not `no_pin`): the bot gets the first, this process is pinned to the second."""
    pinned = not no_pin and len(os.sched_getaffinity(0)) >= 2
    cpus = sorted(os.sched_getaffinity(0))
    bot_cpu, gen_cpu = (cpus[0], cpus[1]) if pinned else (-1, -1)
    if pinned:
        os.sched_setaffinity(0, {gen_cpu})
    return Cores(pinned, bot_cpu, gen_cpu)


def self_cpu_s() -> float:
    """User + system CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted `values` (0 when empty)."""
    if not values:
        return 0.0
    rank = max(1, -(-len(values) * q // 100))
    return values[int(min(rank, len(values))) - 1]


def git_commit() -> str:
    """Short HEAD, '+dirty' with uncommitted changes to tracked files; '' without git."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return ""


def markdown_table(title: str, rows: list[tuple[str, str, Any, str, str]]) -> str:
    """`title`, a blank line, and the rows as a | phase | figure | value | target | met | table."""
    lines = [title, "", "| phase | figure | value | target | met |", "|---|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {t} | {m} |" for a, b, c, t, m in rows]
    return "\n".join(lines)


def copy_logs(workdir: Path, target_dir: str) -> None:
    """Copy the bot processes' stderr logs (bot-*.stderr) into `target_dir`."""
    for log in workdir.glob("bot-*.stderr"):
        target = Path(target_dir) / log.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(log.read_bytes())


def write_json(path: str, result: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
