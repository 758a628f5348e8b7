"""The playground's HTTP server: static page files and the JSON API, on the standard library's
``ThreadingHTTPServer`` (one thread per connection; no dependency beyond Python and NumPy).

Endpoints (all JSON; errors are ``{"error": "..."}`` with a 4xx status, never a crash):

    GET  /api/models                      the models found: id, dataset, preset, accuracy, layers ...
    GET  /api/history?model=ID            per-epoch loss, accuracy, val_loss, val_accuracy, lr, time
    POST /api/predict?model=ID            body: PNG/JPEG bytes or {"pixels": [[...]]} ->
                                          probabilities, prediction, the 28x28 input
    POST /api/activations?model=ID        the same plus every hidden layer's activations
    GET  /api/weights?model=ID&layer=K&unit=J  (or &start=S&count=N)  weight images of hidden units
    GET  /api/live                        server-sent events of a training run (train --serve)
    GET  /api/live/events?since=SEQ       the same events as one JSON list (polling)

``model`` may be left out to use the first model listed.
"""

import errno
import http.server
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

import numpy as np

from .images import InputError, network_input
from .probe import activations_json, activations_of, weight_images
from .store import ModelStore, UnknownModel

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml"}
MAX_BODY = 4 * 2**20  # bytes of a POST body; a drawing is a few kB, a phone photo a few MB
MAX_UNITS = 256  # weight images per /api/weights request
LIVE_KEEPALIVE = 15.0  # seconds between comments on an idle event stream (notices closed pages)


class Playground(http.server.ThreadingHTTPServer):
    """The server: ``store`` (a ModelStore), ``feed`` (a LiveFeed or None), ``quiet``."""

    daemon_threads = True

    def __init__(self, address, store, feed=None, quiet=True):
        host = address[0]
        if ":" in host:  # an IPv6 address such as ::1
            self.address_family = socket.AF_INET6
        self.store, self.feed, self.quiet = store, feed, quiet
        self.inference_lock = store.lock  # one forward pass at a time, never while weights are reloaded
        super().__init__(address, Handler)

    @property
    def url(self):
        host, port = self.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def server_close(self):
        if self.feed is not None:
            self.feed.close()  # wakes the event streams so their threads end
        super().server_close()


def _rounded(array, digits):
    return np.round(np.asarray(array, np.float64), digits).tolist()


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "nnscratch-playground"
    protocol_version = "HTTP/1.1"

    # -- plumbing

    def log_message(self, format, *args):
        if not self.server.quiet:
            super().log_message(format, *args)

    def _send(self, status, body, content_type="application/json", headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body, allow_nan=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, status, message, headers=()):
        self._send(status, {"error": message, "status": status}, headers=headers)

    def send_error(self, code, message=None, explain=None):  # http.server's own errors (bad request line ...)
        self.close_connection = True
        self._error(code, message or self.responses.get(code, ("error",))[0])

    def _query(self):
        return {k: v[-1] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).items()}

    def _int(self, query, name, default=None, low=0):
        text = query.get(name)
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

    def _body(self):
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise InputError("chunked bodies are not accepted; send a Content-Length", status=411)
        if length is None:
            self.close_connection = True
            raise InputError("a POST needs a Content-Length header", status=411)
        try:
            length = int(length)
        except ValueError:
            self.close_connection = True
            raise InputError(f"bad Content-Length {length!r}") from None
        if length > MAX_BODY:
            self.close_connection = True  # the body is not read; the connection cannot be reused
            raise InputError(f"body of {length:,} bytes is too large; at most {MAX_BODY:,} bytes "
                             "(send a smaller image)", status=413)
        body = self.rfile.read(length)
        self._consumed = True
        return body

    def _dispatch(self, routes):
        path = urllib.parse.urlsplit(self.path).path
        route = routes.get(path)
        if route is None and self.command in ("GET", "HEAD") and path.startswith("/static/"):
            route = Handler._static
        if route is None:
            if self.command == "POST":  # its body is not read, so the connection cannot be reused
                self.close_connection = True
            other = self.POST if routes is self.GET else self.GET
            if path in other:
                allow = "POST" if routes is self.GET else "GET, HEAD"
                return self._error(405, f"{self.command} is not allowed on {path}; use {allow}",
                                   headers=[("Allow", allow)])
            return self._error(404, f"no such page or endpoint: {path}")
        self._consumed = False
        try:
            route(self)
        except InputError as e:
            self._close_if_unread()
            self._error(e.status, str(e))
        except UnknownModel as e:
            self._close_if_unread()
            self._error(404, e.args[0])
        except (ValueError, KeyError, IndexError) as e:
            self._close_if_unread()
            self._error(400, str(e.args[0]) if e.args else type(e).__name__)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # a bug must not take the server down: answer 500 and log it
            self.close_connection = True
            print(f"nnscratch serve: internal error on {self.command} {self.path}: {type(e).__name__}: {e}",
                  file=sys.stderr)
            self._error(500, f"internal error: {type(e).__name__}: {e}")

    def _close_if_unread(self):
        if self.command == "POST" and not self._consumed:  # an unread body would be taken for the next request
            self.close_connection = True

    def do_GET(self):
        self._dispatch(self.GET)

    def do_HEAD(self):
        self._dispatch(self.GET)

    def do_POST(self):
        self._dispatch(self.POST)

    # -- pages

    def _index(self):
        self._file("index.html")

    def _static(self):
        name = urllib.parse.urlsplit(self.path).path[len("/static/"):]
        if name not in os.listdir(STATIC):  # only the package's own files, never a path from the request
            return self._error(404, f"no such file: /static/{name}")
        self._file(name)

    def _file(self, name):
        with open(os.path.join(STATIC, name), "rb") as f:
            data = f.read()
        self._send(200, data, CONTENT_TYPES.get(os.path.splitext(name)[1], "application/octet-stream"))

    # -- API

    def _models(self):
        store = self.server.store
        models = store.list()
        for entry in models:
            if "error" not in entry and entry["image"]:
                try:
                    entry["layers"] = store.get(entry["id"])["layers"]
                except InputError as e:  # the run being trained, before its first epoch is loaded
                    entry["loading"] = str(e)
                except Exception as e:  # one model that cannot be loaded or probed must not hide the others
                    entry["error"] = f"cannot load: {type(e).__name__}: {e}"
        self._send(200, {"models": models, "live": self.server.feed is not None})

    def _history(self):
        model_id, _ = self.server.store.path(self._query().get("model"))
        self._send(200, {"model": model_id, "history": self.server.store.history(model_id)})

    def _image_model(self):
        model = self.server.store.get(self._query().get("model"))
        if not model["image"]:
            raise InputError(f"model {model['id']!r} was trained on {model['dataset']}, not on 28x28 images; "
                             "choose an MNIST or Fashion-MNIST model")
        return model

    def _forward(self):
        body = self._body()
        model = self._image_model()
        image = network_input(body, self.headers.get("Content-Type"))
        with self.server.inference_lock:
            start = time.perf_counter()
            probabilities, values = activations_of(model["network"], model["points"], image)
            seconds = time.perf_counter() - start
        k = int(np.argmax(probabilities))
        result = {"model": model["id"], "classes": model["classes"], "probabilities": _rounded(probabilities, 6),
                  "prediction": k, "label": model["classes"][k], "input": _rounded(image, 3),
                  "milliseconds": round(seconds * 1000, 2)}
        return model, result, values

    def _predict(self):
        _, result, _ = self._forward()
        self._send(200, result)

    def _activations(self):
        model, result, values = self._forward()
        self._send(200, {**result, "layers": activations_json(model["points"], values)})

    def _weights(self):
        model = self._image_model()
        query = self._query()
        layer = self._int(query, "layer")
        if layer >= len(model["points"]):
            raise InputError(f"layer {layer} does not exist; the model has {len(model['points'])} hidden layers "
                             f"(0 to {len(model['points']) - 1})")
        size = model["points"][layer]["shape"][0]
        if "unit" in query:
            units = [self._int(query, "unit")]
        else:
            start, count = self._int(query, "start", 0), self._int(query, "count", 64, low=1)
            units = list(range(start, min(start + min(count, MAX_UNITS), size)))
        if not units or units[-1] >= size:
            raise InputError(f"unit {units[-1] if units else query.get('start')} does not exist; "
                             f"{model['layers'][layer]['name']} has {size} units (0 to {size - 1})")
        with self.server.inference_lock:
            images = weight_images(model["points"], layer, units)
        self._send(200, {"model": model["id"], "layer": layer, "units": images})

    def _live_events(self):
        feed = self._feed()
        self._send(200, {"events": feed.since(self._int(self._query(), "since", 0))})

    def _feed(self):
        if self.server.feed is None:
            raise InputError("no training is streamed by this server (start one with 'nnscratch train --serve')",
                             status=404)
        return self.server.feed

    def _live_stream(self):
        """Server-sent events: every event from ``since`` (or Last-Event-ID + 1) on, as they come."""
        feed = self._feed()
        last = self.headers.get("Last-Event-ID")
        seq = int(last) + 1 if last and last.isdigit() else self._int(self._query(), "since", 0)
        self.close_connection = True  # the stream has no length: it ends with the connection
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"retry: 1000\n\n")
        self.wfile.flush()
        while not feed.closed:
            events = feed.since(seq, timeout=LIVE_KEEPALIVE)
            if not events:
                self.wfile.write(b": keep-alive\n\n")
            for event in events:
                self.wfile.write(f"id: {event['seq']}\ndata: {json.dumps(event)}\n\n".encode())
                seq = event["seq"] + 1
            self.wfile.flush()

    GET = {"/": _index, "/index.html": _index, "/api/models": _models, "/api/history": _history,
           "/api/weights": _weights, "/api/live": _live_stream, "/api/live/events": _live_events}
    POST = {"/api/predict": _predict, "/api/activations": _activations}


def make_server(paths, host="127.0.0.1", port=8000, feed=None, quiet=True):
    """A bound (not yet serving) Playground over the models under ``paths``; port 0 picks a free one."""
    store = ModelStore(paths)
    try:
        return Playground((host, port), store, feed=feed, quiet=quiet)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise OSError(f"port {port} on {host} is already in use (is another server running?); choose "
                          "another with --port, or --port 0 for any free port") from None
        if e.errno == errno.EACCES:
            raise OSError(f"no permission to listen on port {port} (ports below 1024 need root); "
                          "choose one above 1024 with --port") from None
        if isinstance(e, socket.gaierror):
            raise OSError(f"cannot listen on host {host!r} ({e.strerror}); use 127.0.0.1 or a local address "
                          "with --host") from None
        raise


def start_in_thread(server):
    """Serve in a daemon thread (train --serve, tests); returns the thread. Stop with
    ``server.shutdown(); server.server_close()``."""
    thread = threading.Thread(target=server.serve_forever, name="nnscratch-playground", daemon=True)
    thread.start()
    return thread


def default_paths():
    """What ``nnscratch serve`` without arguments shows: the run directories under ./runs."""
    if not os.path.isdir("runs"):
        raise FileNotFoundError("no run directories given and there is no ./runs folder; train one with "
                                "'nnscratch train' or name run directories: nnscratch serve runs/a runs/b")
    return ["runs"]


def _print(message):
    print(message, flush=True)  # at once, also into a pipe: whoever started the server waits for the URL


def announce(server, log=_print):
    """Print where the playground is (and a warning when it is reachable from other machines)."""
    log(f"nnscratch playground at {server.url}  (Ctrl-C to stop)")
    host = server.server_address[0]
    if host not in ("127.0.0.1", "::1", "localhost") and not host.startswith("127."):
        log(f"warning: listening on {host}, so other machines can reach it; use --host 127.0.0.1 to keep it local")


def serve(paths=None, host="127.0.0.1", port=8000, quiet=True, log=_print):
    """Run the playground until Ctrl-C (``nnscratch serve``)."""
    server = make_server(paths or default_paths(), host, port, quiet=quiet)
    announce(server, log)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log("nnscratch playground stopped")
    finally:
        server.server_close()
    return 0
