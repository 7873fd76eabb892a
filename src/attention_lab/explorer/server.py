"""The explorer's web server: Python's standard ``http.server``, bound to 127.0.0.1 only.

Routes (all answers are JSON except the page and its static files)::

    GET  /                    the page
    GET  /static/<file>       app.js, style.css, heatmap_keys.js (from attention_lab.viz), and
                              plotly.min.js from the installed plotly
    GET  /api/models          the models on offer
    POST /api/attention       {"model", "text", "stack", "layer", "head", "grid"} -> one head's
                              weights, every head's summary, and (with "grid") thumbnails
    POST /api/query-key       {"model", "text", "stack", "layer", "head", "query"} -> the query
                              vector, each key vector, their products, dots, scaled, softmaxed
    POST /api/next-token      {"model", "text", "temperature", "top_k", "count"} -> a language
                              model's most likely next tokens and their probabilities

Everything a page needs is served from here, so it works with no network at all. Errors are
answers (400 bad input, 404, 413 body too large, 503 model unavailable), never a dead server.
"""

from __future__ import annotations

import json
import math
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from attention_lab.explorer.neuron import query_key_view
from attention_lab.explorer.sources import (
    Analysis,
    AttentionSource,
    GPTSource,
    MiniLMSource,
    SourceUnavailableError,
    Stack,
    TranslationSource,
)
from attention_lab.explorer.summaries import downsample
from attention_lab.nn.gpt import next_token_probabilities

HOST = "127.0.0.1"
MAX_BODY_BYTES = 64 * 1024  # a long paragraph is ~5 kB; anything past this is not a sentence
THUMBNAIL_SIZE = 24  # grid tiles are block-averaged to at most 24 x 24
DIGITS = 4  # weights are sent rounded: 1e-4 is finer than any colour scale shows

_STATIC = {  # file name -> content type; nothing else is served
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class BadRequestError(ValueError):
    """An error in the request, reported as HTTP 400 with its message."""


class ExplorerApp:
    """The explorer's logic, independent of HTTP: validate a request, answer with plain data."""

    def __init__(self, sources: list[AttentionSource]):
        if not sources:
            raise ValueError("sources: expected at least one model to explore, got none")
        self.sources = {source.id: source for source in sources}

    def models(self) -> dict[str, Any]:
        return {"models": [source.describe() for source in self.sources.values()]}

    def _analyze(self, request: Any) -> tuple[str, Analysis]:
        if not isinstance(request, dict):
            raise BadRequestError(f"body: expected a JSON object, got {type(request).__name__}")
        model_id = request.get("model", next(iter(self.sources)))
        if model_id not in self.sources:
            raise BadRequestError(
                f"model: expected one of {sorted(self.sources)}, got {model_id!r}"
            )
        text = request.get("text")
        if not isinstance(text, str):
            raise BadRequestError(f"text: expected a string, got {type(text).__name__}")
        if not text.strip():
            raise BadRequestError(
                "text: expected a sentence, got an empty text; type something first"
            )
        return model_id, self.sources[model_id].analyze(text)

    def _head(self, request: dict[str, Any], analysis: Analysis) -> tuple[Stack, int, int]:
        stack = _pick_stack(analysis, request.get("stack"))
        L, H = stack.weights.shape[:2]
        layer = _index(request.get("layer", 0), "layer", L)
        head = _index(request.get("head", 0), "head", H)
        return stack, layer, head

    def attention(self, request: Any) -> dict[str, Any]:
        model_id, analysis = self._analyze(request)
        stack, layer, head = self._head(request, analysis)
        L, H = stack.weights.shape[:2]
        answer = {
            "model": model_id,
            "stacks": [
                {
                    "id": s.id,
                    "label": s.label,
                    "num_layers": s.weights.shape[0],
                    "num_heads": s.weights.shape[1],
                }
                for s in analysis.stacks
            ],
            "stack": stack.id,
            "layer": layer,
            "head": head,
            "query_tokens": stack.query_tokens,
            "key_tokens": stack.key_tokens,
            "matrix": _rounded(stack.weights[layer, head]),
            "summaries": [[s.to_dict() for s in row] for row in stack.summaries],
            "truncated": analysis.truncated,
            "num_tokens": analysis.num_tokens,
            "max_tokens": analysis.max_tokens,
            "output_text": analysis.output_text,
            "notes": analysis.notes,
        }
        if request.get("grid", False):
            answer["thumbnails"] = [
                [_rounded(downsample(stack.weights[i, j], THUMBNAIL_SIZE), 3) for j in range(H)]
                for i in range(L)
            ]
        return answer

    def query_key(self, request: Any) -> dict[str, Any]:
        """The query/key view of one head for one query position ("query")."""
        model_id, analysis = self._analyze(request)
        stack, layer, head = self._head(request, analysis)
        if stack.queries is None or stack.keys is None:
            raise BadRequestError(f"model: {model_id!r} keeps no query and key vectors")
        T_q, T_k = stack.weights.shape[2:]
        i = _index(request.get("query", 0), "query", T_q)
        allowed = torch.arange(T_k) <= i if stack.causal else None
        view = query_key_view(stack.queries[layer, head, i], stack.keys[layer, head], allowed)
        return {
            "model": model_id,
            "stack": stack.id,
            "layer": layer,
            "head": head,
            "query": i,
            "query_token": stack.query_tokens[i],
            "key_tokens": stack.key_tokens,
            "model_weights": stack.weights[layer, head, i].tolist(),  # what the model computed
            **view,
        }

    def next_token(self, request: Any) -> dict[str, Any]:
        """A language model's next-token probabilities after the text, with temperature, top-k."""
        model_id, analysis = self._analyze(request)
        if analysis.next_token_logits is None or analysis.vocabulary is None:
            raise BadRequestError(
                f"model: expected a language model (one that predicts the next token), got "
                f"{model_id!r}"
            )
        logits = analysis.next_token_logits  # (V,)
        temperature = request.get("temperature", 1.0)
        top_k = request.get("top_k")
        try:
            probs = next_token_probabilities(logits, temperature, top_k)  # (V,)
        except (TypeError, ValueError) as error:
            raise BadRequestError(str(error)) from None
        plain = next_token_probabilities(logits)  # temperature 1, no top-k: the model as it is
        count = _index(request.get("count", 20), "count", len(logits) + 1)
        order = torch.argsort(probs, descending=True, stable=True)[:count].tolist()
        entropy = -(probs * torch.log2(probs.clamp_min(1e-30))).sum()
        return {
            "model": model_id,
            "context": analysis.stacks[0].query_tokens,
            "temperature": temperature,
            "top_k": top_k,
            "kept": int((probs > 0).sum()),
            "vocab_size": len(logits),
            "entropy_bits": float(entropy),
            "top": [
                {
                    "token": analysis.vocabulary[j],
                    "id": j,
                    "logit": float(logits[j]),
                    "probability": float(probs[j]),
                    "model_probability": float(plain[j]),
                }
                for j in order
            ],
        }


def _pick_stack(analysis: Analysis, stack_id: Any) -> Stack:
    if stack_id is None:
        return analysis.stacks[0]
    try:
        return analysis.stack(stack_id)
    except KeyError as error:
        raise BadRequestError(error.args[0]) from None


def _index(value: Any, name: str, size: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequestError(f"{name}: expected an integer in 0..{size - 1}, got {value!r}")
    if not 0 <= value < size:
        raise BadRequestError(
            f"{name}: expected an integer in 0..{size - 1} (the model has {size}), got {value}"
        )
    return value


def _rounded(matrix: Any, digits: int = DIGITS) -> list[list[float]]:
    return [[round(float(x), digits) for x in row] for row in matrix.tolist()]


_ROUTES = {  # POST path -> the ExplorerApp method that answers it
    "/api/attention": ExplorerApp.attention,
    "/api/query-key": ExplorerApp.query_key,
    "/api/next-token": ExplorerApp.next_token,
}


class _Handler(BaseHTTPRequestHandler):
    server: ExplorerServer
    server_version = "attention-lab-explorer"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if not self._host_ok():
            return
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            self._send_static("index.html")
        elif path.startswith("/static/"):
            self._send_static(path.removeprefix("/static/"))
        elif path == "/api/models":
            self._send_json(HTTPStatus.OK, self.server.app.models())
        else:
            self._send_error(HTTPStatus.NOT_FOUND, f"path: no page at {path!r}")

    def do_POST(self) -> None:
        if not self._host_ok():
            return
        answer = _ROUTES.get(self.path)
        if answer is None:
            self._send_error(HTTPStatus.NOT_FOUND, f"path: no API at {self.path!r}")
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._send_error(HTTPStatus.LENGTH_REQUIRED, "body: expected a Content-Length header")
            return
        if length > MAX_BODY_BYTES:
            # read (and drop) a moderately large body so the client sees our answer rather than
            # a reset connection; a huge one is not read at all
            if length <= 64 * MAX_BODY_BYTES:
                _discard(self.rfile, length)
            self.close_connection = True
            self._send_error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"body: expected at most {MAX_BODY_BYTES} bytes, got {length}; "
                "the explorer is for sentences, not documents",
            )
            return
        try:
            request = json.loads(self.rfile.read(length) or b"null")
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            self._send_error(
                HTTPStatus.BAD_REQUEST, f"body: expected JSON, got invalid JSON ({error})"
            )
            return
        try:
            self._send_json(HTTPStatus.OK, answer(self.server.app, request))
        except BadRequestError as error:
            self._send_error(HTTPStatus.BAD_REQUEST, str(error))
        except SourceUnavailableError as error:
            self._send_error(HTTPStatus.SERVICE_UNAVAILABLE, str(error))
        except ValueError as error:  # from the tokenizer or the model: still the input's fault
            self._send_error(HTTPStatus.BAD_REQUEST, str(error))
        except Exception as error:  # keep serving; say what went wrong
            self.log_error("error answering %s: %r", self.path, error)
            self._send_error(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {error!r}")

    def do_PUT(self) -> None:
        self._not_allowed()

    def do_DELETE(self) -> None:
        self._not_allowed()

    def do_PATCH(self) -> None:
        self._not_allowed()

    def _not_allowed(self) -> None:
        self._send_error(
            HTTPStatus.METHOD_NOT_ALLOWED, f"method: expected GET or POST, got {self.command}"
        )

    def _host_ok(self) -> bool:
        # a page on another site cannot reach us through DNS rebinding: the Host must be ours
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        if host in (HOST, "localhost"):
            return True
        self._send_error(HTTPStatus.FORBIDDEN, f"Host: expected {HOST} or localhost, got {host!r}")
        return False

    def _send_static(self, name: str) -> None:
        if name == "plotly.min.js":
            body = _plotly_js()
            content_type = "text/javascript; charset=utf-8"
        elif name == "heatmap_keys.js":  # keyboard access to heatmaps, shared with the course
            body = resources.files("attention_lab.viz").joinpath(name).read_bytes()
            content_type = "text/javascript; charset=utf-8"
        elif name in _STATIC:
            body = resources.files("attention_lab.explorer").joinpath("static", name).read_bytes()
            content_type = _STATIC[name]
        else:
            self._send_error(HTTPStatus.NOT_FOUND, f"path: no file {name!r}")
            return
        self._send(HTTPStatus.OK, body, content_type)

    def _send_json(self, status: HTTPStatus, data: Any) -> None:
        body = json.dumps(data, allow_nan=False, default=_json_default).encode()
        self._send(status, body, "application/json")

    def _send_error(self, status: HTTPStatus, message: str) -> None:
        self._send_json(status, {"error": message, "status": int(status)})

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Security-Policy", _CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the page went away; nothing to tell it
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


def _discard(stream: Any, length: int) -> None:
    while length > 0:
        chunk = stream.read(min(length, 65536))
        if not chunk:
            return
        length -= len(chunk)


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


_PLOTLY_LOCK = threading.Lock()
_PLOTLY_JS: bytes | None = None


def _plotly_js() -> bytes:
    """plotly.js as shipped inside the installed ``plotly`` Python package (no CDN)."""
    global _PLOTLY_JS
    with _PLOTLY_LOCK:
        if _PLOTLY_JS is None:
            import plotly

            path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
            _PLOTLY_JS = path.read_bytes()
        return _PLOTLY_JS


class ExplorerServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 (port 0 picks a free port)."""

    daemon_threads = True

    def __init__(self, app: ExplorerApp, port: int = 8000, verbose: bool = False):
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port: expected an integer in 0..65535, got {port!r}")
        self.app = app
        self.verbose = verbose
        super().__init__((HOST, port), _Handler)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/"


def make_server(
    checkpoint: str | Path | None = None,
    port: int = 8000,
    verbose: bool = False,
    gpt: str | Path | None = None,
) -> ExplorerServer:
    """The explorer for MiniLM, plus the Lab 3.3 translation model if ``checkpoint`` is given and
    the character-level GPT if ``gpt`` is (a file from ``attention-lab run gpt --checkpoint``)."""
    sources: list[AttentionSource] = [MiniLMSource()]
    if checkpoint is not None:
        sources.append(TranslationSource(checkpoint))
    if gpt is not None:
        sources.append(GPTSource(gpt))
    return ExplorerServer(ExplorerApp(sources), port=port, verbose=verbose)
