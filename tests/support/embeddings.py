"""A scripted OpenAI-compatible /v1/embeddings server on loopback (a thread), for the endpoint's failure paths."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np


@dataclass
class Reply:
    """One scripted answer: an error status (with Retry-After), or vectors of `dim` (NaN with `nan`)."""

    status: int = 200
    dim: int | None = None  # None: the server's own dimension
    nan: bool = False
    retry_after: str | None = None


@dataclass
class ScriptedEmbeddings:
    dim: int = 16
    script: list[Reply] = field(default_factory=list)  # consumed in order; then good vectors
    requests: list[dict] = field(default_factory=list)
    headers: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                owner.requests.append(body)
                owner.headers.append(dict(self.headers))
                step = owner.script.pop(0) if owner.script else Reply()
                if step.status != 200:
                    self.send_response(step.status)
                    if step.retry_after is not None:
                        self.send_header("Retry-After", step.retry_after)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                data = []
                for i, text in enumerate(texts):
                    rng = np.random.default_rng(abs(hash(text)) % 2**32)
                    v = rng.normal(size=step.dim or owner.dim)
                    if step.nan:
                        v[0] = float("nan")
                    data.append({"object": "embedding", "index": i, "embedding": [float(x) for x in v]})
                raw = json.dumps({"object": "list", "data": data, "model": body.get("model", "")}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
