"""The playground's web application (Starlette): the page, the JSON API and the live feed.

Endpoints (JSON; an error is ``{"error": "...", "status": N}`` with a 4xx status for a request
the server refuses and 500 for its own fault; ``/openapi.json`` describes them, see ``openapi``):

    GET  /api/models                      the models found: id, dataset, preset, accuracy, layers ...
                                          (one that cannot be loaded is listed with its "error")
    GET  /api/history?model=ID            per-epoch loss, accuracy, val_loss, val_accuracy, lr, time
    POST /api/predict?model=ID            body: PNG/JPEG bytes or {"pixels": [[...]]} ->
                                          probabilities, prediction, the 28x28 input
    POST /api/activations?model=ID        the same plus every hidden layer's activations
    GET  /api/weights?model=ID&layer=K&unit=J  (or &start=S&count=N)  weight images of hidden units
    GET  /api/live                        server-sent events of a training run (train --serve)
    GET  /api/live/events?since=SEQ       the same events as one JSON list (polling)

``model`` may be left out to use the first model listed. Everything that uses NumPy or reads
checkpoints (decoding, preprocessing, forward passes, JSON encoding) runs on a pool of
``Limits.workers`` threads, never on the event loop, so one slow forward pass never stalls the
other connections. Request bodies are refused from their ``Content-Length`` when too large and
must arrive within ``Limits.read_timeout``.
"""

import asyncio
import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .hosts import HostGuard
from .images import InputError, image_from_bytes, image_from_rows, network_input
from .openapi import MAX_UNITS, Pixels, document
from .probe import activations_json, activations_of, weight_images
from .store import UnknownModel

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml"}
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
LIVE_KEEPALIVE = 15.0  # seconds between comments on an idle event stream (notices closed pages)
log = logging.getLogger("uvicorn.error")


class ServerFault(Exception):
    """The server's own failure (a bug, a broken model): 500 with a short public message."""


class ClientGone(Exception):
    """The client hung up before its request body arrived."""


def fields_message(errors):
    """One line naming each invalid field of pydantic's ``errors``, e.g. JSON field 'pixels.0.1':
    Input should be a valid number (got 'dark')."""
    parts = []
    for e in errors:
        name = ".".join(str(p) for p in e["loc"])
        got = "" if e["type"] == "missing" or isinstance(e.get("input"), (dict, list)) else f" (got {e['input']!r})"
        parts.append(f"JSON field {name!r}: {e['msg']}{got}" if name else f"JSON body: {e['msg']}")
    return "; ".join(parts)


def query_int(request, name, default=None, low=0):
    """The integer query parameter ``name`` (``default`` when absent; required when that is None)."""
    text = request.query_params.get(name)
    if text is None:
        if default is None:
            raise InputError(f"missing query parameter {name!r}")
        return default
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"query parameter {name!r} must be an integer, got {text!r}") from None
    if value < low:
        raise InputError(f"query parameter {name!r} must be at least {low}, got {value}")
    return value


def error(status, message, request=None, headers=None):
    """The JSON error answer; a POST's connection is closed (its body may be unread)."""
    headers = {**HEADERS, **(headers or {})}
    if request is not None and request.method == "POST":
        headers["Connection"] = "close"
    return Response(json.dumps({"error": message, "status": status}), status, headers=headers,
                    media_type="application/json")


async def read_body(request, limits):
    """A POST's body, refused from its headers when it has no Content-Length (411) or a larger one
    than ``limits.max_body`` (413), and when it does not all arrive within ``limits.read_timeout`` (408)."""
    if "transfer-encoding" in request.headers:
        raise InputError("chunked bodies are not accepted; send a Content-Length", status=411)
    length = request.headers.get("content-length")
    if length is None:
        raise InputError("a POST needs a Content-Length header", status=411)
    if int(length) > limits.max_body:  # the HTTP parser has already refused a malformed or negative one
        raise InputError(f"body of {int(length):,} bytes is too large; at most {limits.max_body:,} bytes "
                         "(send a smaller image)", status=413)
    try:
        return await asyncio.wait_for(request.body(), limits.read_timeout)
    except asyncio.TimeoutError:
        raise InputError(f"the body did not arrive within {limits.read_timeout:g} s", status=408) from None
    except ClientDisconnect:
        raise ClientGone() from None


def decoded_input(body, content_type, max_pixels):
    """The grayscale image of a request body: JSON pixels (checked against ``Pixels``) or an encoded image."""
    if not body:
        raise InputError("empty body: POST an image (PNG/JPEG) or JSON {\"pixels\": [[...]]}")
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        return image_from_bytes(body, max_pixels)
    try:
        rows = Pixels.model_validate_json(body).pixels
    except ValidationError as e:
        raise InputError(fields_message(e.errors())) from None
    return image_from_rows(rows, max_pixels)


def _rounded(array, digits):
    return np.round(np.asarray(array, np.float64), digits).tolist()


class Waker:
    """An asyncio.Event that is set, and replaced by a fresh one, each time the live feed changes."""

    def __init__(self, feed):
        self.event = asyncio.Event()
        loop = asyncio.get_running_loop()

        def tell():  # in the training thread
            try:
                loop.call_soon_threadsafe(self._wake)
            except RuntimeError:  # the server's loop has ended
                pass

        feed.listen(tell)

    def _wake(self):
        self.event.set()
        self.event = asyncio.Event()


def create_app(store, feed, limits, host_check):
    """The playground's Starlette application over ``store`` (a ModelStore) and ``feed`` (a LiveFeed
    or None), within ``limits``, answering only to host names that ``host_check`` accepts.
    ``app.state.pool`` is its worker pool (shut down by the server)."""
    pool = ThreadPoolExecutor(limits.workers, thread_name_prefix="nnscratch-work")
    files = {}
    for name in os.listdir(STATIC):
        with open(os.path.join(STATIC, name), "rb") as f:
            files[name] = f.read()
    described = json.dumps(document()).encode()

    # -- plumbing

    async def work(function, *args):
        """``function(*args)`` on the worker pool; JSON-encoded bytes of what it returns."""
        def run():
            return json.dumps(function(*args), allow_nan=False).encode()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, run)
        except (InputError, UnknownModel, ServerFault):
            raise
        except Exception as e:
            raise ServerFault(f"internal error ({type(e).__name__}); the server's log has the details") from e

    async def answer(function, *args):
        return json_response(await work(function, *args))

    def json_response(data):
        return Response(data, media_type="application/json", headers=HEADERS)

    async def refused(request, e):
        return error(e.status, str(e), request)

    async def unknown_model(request, e):
        return error(404, e.args[0], request)

    async def no_route(request, e):
        path = request.url.path
        if e.status_code == 405:
            allow = (e.headers or {}).get("Allow", "")
            return error(405, f"{request.method} is not allowed on {path}; use {allow}", request, {"Allow": allow})
        if e.status_code == 404:
            return error(404, f"no such page or endpoint: {path}", request)
        return error(e.status_code, str(e.detail), request)

    async def fault(request, e):
        cause = e.__cause__
        detail = f"{type(cause).__name__}: {cause}" if cause is not None else str(e)
        log.error("nnscratch serve: %s %s failed: %s", request.method, request.url.path, detail)
        return error(500, str(e), request)

    async def gone(request, e):
        client = f"{request.client.host}:{request.client.port}" if request.client else "a client"
        log.warning("nnscratch serve: %s hung up before sending the body of %s %s", client, request.method,
                    request.url.path)
        return Response(status_code=400)  # nobody reads it: the connection is gone

    # -- pages

    def page(name):
        return Response(files[name], media_type=CONTENT_TYPES.get(os.path.splitext(name)[1],
                                                                  "application/octet-stream"), headers=HEADERS)

    async def index(request):
        return page("index.html")

    async def static(request):
        name = request.path_params["name"]
        if name not in files:  # only the package's own files, never a path from the request
            return error(404, f"no such file: /static/{name}", request)
        return page(name)

    async def openapi(request):
        return json_response(described)

    # -- API

    def list_models():
        models = store.list()
        for entry in models:
            if "error" not in entry and entry["image"]:
                try:
                    entry["layers"] = store.get(entry["id"])["layers"]
                except InputError as e:  # the run being trained, before its first epoch is loaded
                    entry["loading"] = str(e)
                except Exception as e:  # one model that cannot be loaded or probed must not hide the others
                    entry["error"] = store.public_error(e)
        return {"models": models, "live": feed is not None}

    async def models(request):
        return await answer(list_models)

    def run_history(model_id):
        model_id, _ = store.path(model_id)
        return {"model": model_id, "history": store.history(model_id)}

    async def history(request):
        return await answer(run_history, request.query_params.get("model"))

    def image_model(model_id):
        try:
            model = store.get(model_id)
        except (InputError, UnknownModel):
            raise
        except Exception as e:  # a checkpoint that cannot be loaded is the server's problem, not the client's
            raise ServerFault(f"model {model_id or 'the first'!r}: {store.public_error(e)}") from e
        if not model["image"]:
            raise InputError(f"model {model['id']!r} was trained on {model['dataset']}, not on 28x28 images; "
                             "choose an MNIST or Fashion-MNIST model")
        return model

    def forward(model_id, body, content_type, with_layers):
        model = image_model(model_id)
        image = network_input(decoded_input(body, content_type, limits.max_pixels))
        with store.lock:  # one forward pass at a time, never while weights are reloaded
            start = time.perf_counter()
            probabilities, values = activations_of(model["network"], model["points"], image)
            seconds = time.perf_counter() - start
        if not np.isfinite(probabilities).all():
            raise ServerFault(f"model {model['id']!r} gives outputs that are not numbers (NaN or infinite): its "
                              "weights are broken; retrain it or serve another checkpoint")
        k = int(np.argmax(probabilities))
        result = {"model": model["id"], "classes": model["classes"], "probabilities": _rounded(probabilities, 6),
                  "prediction": k, "label": model["classes"][k], "input": _rounded(image, 3),
                  "milliseconds": round(seconds * 1000, 2)}
        if with_layers:
            result["layers"] = activations_json(model["points"], values)
        return result

    async def predict(request):
        body = await read_body(request, limits)
        return await answer(forward, request.query_params.get("model"), body, request.headers.get("content-type"),
                            request.url.path == "/api/activations")

    def unit_weights(model_id, layer, unit, start, count):
        model = image_model(model_id)
        points = model["points"]
        if layer >= len(points):
            raise InputError(f"layer {layer} does not exist; the model has {len(points)} hidden layers "
                             f"(0 to {len(points) - 1})")
        size = points[layer]["shape"][0]
        units = [unit] if unit is not None else list(range(start, min(start + min(count, MAX_UNITS), size)))
        if not units or units[-1] >= size:
            raise InputError(f"unit {units[-1] if units else start} does not exist; "
                             f"{model['layers'][layer]['name']} has {size} units (0 to {size - 1})")
        with store.lock:
            return {"model": model["id"], "layer": layer, "units": weight_images(points, layer, units)}

    async def weights(request):
        unit = query_int(request, "unit") if "unit" in request.query_params else None
        return await answer(unit_weights, request.query_params.get("model"), query_int(request, "layer"), unit,
                            query_int(request, "start", 0), query_int(request, "count", 64, low=1))

    # -- training live

    def live_feed():
        if feed is None:
            raise InputError("no training is streamed by this server (start one with 'nnscratch train --serve')",
                             status=404)
        return feed

    async def live_events(request):
        return json_response(json.dumps({"events": live_feed().since(query_int(request, "since", 0))}).encode())

    waker = []  # made on the first stream, in the server's event loop

    async def events(seq):
        if not waker:
            waker.append(Waker(feed))
        yield b"retry: 1000\n\n"
        while True:
            changed = waker[0].event  # taken before reading, so no event published meanwhile is missed
            for event in feed.since(seq):
                yield f"id: {event['seq']}\ndata: {json.dumps(event)}\n\n".encode()
                seq = event["seq"] + 1
            if feed.closed:
                return
            try:
                await asyncio.wait_for(changed.wait(), LIVE_KEEPALIVE)
            except asyncio.TimeoutError:
                yield b": keep-alive\n\n"

    async def live(request):
        live_feed()
        last = request.headers.get("last-event-id", "")
        seq = int(last) + 1 if last.isdigit() else query_int(request, "since", 0)
        return StreamingResponse(events(seq), headers={**HEADERS, "Content-Type": "text/event-stream",
                                                       "Connection": "close"})

    routes = [Route("/", index), Route("/index.html", index), Route("/static/{name}", static),
              Route("/openapi.json", openapi), Route("/api/models", models), Route("/api/history", history),
              Route("/api/predict", predict, methods=["POST"]), Route("/api/activations", predict, methods=["POST"]),
              Route("/api/weights", weights), Route("/api/live", live), Route("/api/live/events", live_events)]
    handlers = {InputError: refused, UnknownModel: unknown_model, HTTPException: no_route, ServerFault: fault,
                ClientGone: gone}
    app = Starlette(routes=routes, exception_handlers=handlers, middleware=[Middleware(HostGuard, check=host_check)])
    app.state.pool = pool
    return app
