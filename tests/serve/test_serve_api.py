"""The playground's HTTP API (``nnscratch serve``), with the server on 127.0.0.1 on a free port.

The models are built from known configs with seeded random weights (no training, no dataset), so
every number the API returns is checked against a brute-force NumPy forward pass, and the
preprocessing against ``nnscratch predict``'s own path (``read_image`` + ``to_mnist``).
"""

import http.client
import io
import json
import os
import re
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

import nnscratch as ns
for package in ("starlette", "pydantic", "uvicorn"):  # the server: pip install "nnscratch[serve]"
    pytest.importorskip(package, reason="the playground's server needs nnscratch[serve]")

from nnscratch.cli import main
from nnscratch.data.preprocess import read_image, to_mnist
from nnscratch.models import build_model
from nnscratch.serve import LiveFeed, make_server, start_in_thread
from nnscratch.serve.limits import Limits
from nnscratch.train.callbacks import MetricsPublisher
from nnscratch.train.history import History

MAX_BODY = Limits().max_body
MLP = {"arch": "mlp", "sizes": [784, 16, 16, 10], "input_mean": 0.13, "input_std": 0.31}
CNN = {"arch": "simple_cnn", "filters": 4, "hidden": 8}
TOY = {"arch": "mlp", "sizes": [2, 8, 2]}


def make_run(folder, net, dataset="mnist", seed=0, val_accuracy=(0.8, 0.85), summary=None):
    """A run directory like ``nnscratch train`` writes (model.npz, config.json, history.json and
    optionally summary.txt) around a network with seeded random weights; returns the network."""
    ns.manual_seed(seed)
    network = build_model(net)
    classes = [str(i) for i in range(10)] if dataset == "mnist" else ["0", "1"]
    config = {"settings": {"dataset": dataset, "model": "test"}, "net": net, "classes": classes}
    history = History()
    for epoch, acc in enumerate(val_accuracy, 1):
        history.append({"epoch": epoch, "loss": 1.0 / epoch, "accuracy": acc - 0.05, "val_loss": 1.1 / epoch,
                        "val_accuracy": acc, "lr": 1e-3, "time": 0.5})
    os.makedirs(folder, exist_ok=True)
    ns.save({"model": network.state_dict(), "optimizer": {}, "scheduler": None, "epoch": len(history),
             "history": history.as_dict(), "config": config, "rng": None}, os.path.join(folder, "model.npz"))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f)
    history.to_json(os.path.join(folder, "history.json"))
    if summary is not None:
        with open(os.path.join(folder, "summary.txt"), "w") as f:
            f.write(f"dataset: {dataset}\ntest loss 0.3000\ntest accuracy: {summary:.4%}\n")
    return network.eval()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    nets = {"mlp": make_run(root / "runs" / "mlp", MLP, summary=0.9123),
            "cnn": make_run(root / "runs" / "cnn", CNN, seed=1, val_accuracy=(0.7, 0.9, 0.88)),
            "toy": make_run(root / "runs" / "toy", TOY, dataset="spirals")}
    make_run(root / "elsewhere" / "secret", MLP, seed=2)  # a model the server was not given
    return root, nets


@pytest.fixture(scope="module")
def server(runs):
    root, _ = runs
    playground = make_server([root / "runs"], "127.0.0.1", 0)
    start_in_thread(playground)
    yield playground
    playground.shutdown()
    playground.server_close()


def request(server, method, path, body=None, headers=None):
    """(status, parsed JSON or raw bytes, response headers) of one request on a new connection."""
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        kind = response.getheader("Content-Type", "")
        return response.status, (json.loads(data) if kind.startswith("application/json") else data), response
    finally:
        connection.close()


def post_json(server, path, obj):
    return request(server, "POST", path, json.dumps(obj).encode(), {"Content-Type": "application/json"})


# ----------------------------------------------------------------------------- generated digits

def digit(kind, height=120, width=90):
    """A dark-ink-on-white-paper drawing (0..255) of a '1' (a vertical stroke), '0' (a ring), '7' or
    a '4', at an arbitrary size, as a phone photo of paper would be."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    cy, cx = height / 2, width / 2
    if kind == "1":
        ink = (np.abs(x - cx) < width * 0.06) & (np.abs(y - cy) < height * 0.4)
    elif kind == "0":
        r = np.sqrt(((y - cy) / (height * 0.4)) ** 2 + ((x - cx) / (width * 0.35)) ** 2)
        ink = np.abs(r - 0.85) < 0.15
    elif kind == "7":
        top = (np.abs(y - height * 0.15) < height * 0.05) & (np.abs(x - cx) < width * 0.35)
        diagonal = np.abs((x - cx - width * 0.3) + (y - height * 0.15) * 0.5) < width * 0.06
        ink = top | (diagonal & (y > height * 0.1) & (y < height * 0.9))
    else:  # "4"
        ink = ((np.abs(x - width * 0.65) < width * 0.06) & (np.abs(y - cy) < height * 0.4)) | \
              ((np.abs(y - height * 0.6) < height * 0.04) & (x > width * 0.15) & (x < width * 0.8)) | \
              ((np.abs(x - width * 0.25) < width * 0.06) & (y > height * 0.1) & (y < height * 0.6))
    return np.where(ink, 20.0, 235.0)


def png_bytes(image):
    PIL = pytest.importorskip("PIL.Image")
    buffer = io.BytesIO()
    PIL.fromarray(np.asarray(image, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def relu(x):
    return np.maximum(x, 0)


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def mlp_forward(network, image):
    """Brute-force forward of MLP [784, 16, 16, 10] with input standardisation: (h1, h2, probabilities)."""
    w = {name: t.data.astype(np.float64) for name, t in network.state_dict().items()}
    linear = sorted(k for k in w if k.endswith("weight"))
    x = ((image.astype(np.float64) - MLP["input_mean"]) / MLP["input_std"]).reshape(784)
    h1 = relu(w[linear[0]] @ x + w[linear[0].replace("weight", "bias")])
    h2 = relu(w[linear[1]] @ h1 + w[linear[1].replace("weight", "bias")])
    return h1, h2, softmax(w[linear[2]] @ h2 + w[linear[2].replace("weight", "bias")])


# ----------------------------------------------------------------------------- listing and history

def test_models_lists_the_given_runs_with_accuracy_and_layers(server):
    status, body, _ = request(server, "GET", "/api/models")
    assert status == 200 and body["live"] is False
    models = {m["id"]: m for m in body["models"]}
    assert set(models) == {"cnn", "mlp", "toy"}  # not 'secret': it is outside the folder given
    assert models["mlp"]["accuracy"] == pytest.approx(0.9123) and models["mlp"]["accuracy_source"] == "test"
    assert models["cnn"]["accuracy"] == pytest.approx(0.9) and models["cnn"]["accuracy_source"] == "validation"
    assert models["cnn"]["epochs"] == 3 and models["mlp"]["sizes"] == [784, 16, 16, 10]
    assert models["toy"]["image"] is False and "layers" not in models["toy"]
    assert [(l["kind"], l["units"], l["grid"]) for l in models["mlp"]["layers"]] == [("dense", 16, [4, 4])] * 2
    conv, dense = models["cnn"]["layers"]
    assert (conv["kind"], conv["channels"], conv["height"], conv["width"]) == ("conv", 4, 24, 24)
    assert (dense["kind"], dense["units"], dense["grid"]) == ("dense", 8, [3, 3])


def test_history_is_the_runs_history(server, runs):
    status, body, _ = request(server, "GET", "/api/history?model=cnn")
    assert status == 200 and body["model"] == "cnn"
    assert body["history"]["epoch"] == [1, 2, 3]
    assert body["history"]["val_accuracy"] == [0.7, 0.9, 0.88]
    assert body["history"]["loss"] == pytest.approx([1.0, 0.5, 1 / 3])


# ----------------------------------------------------------------------------- predictions

@pytest.mark.parametrize("kind", ["1", "0", "7", "4"])
def test_predict_png_is_nnscratch_predict(server, runs, tmp_path, kind, capsys):
    root, nets = runs
    path = tmp_path / f"digit{kind}.png"
    path.write_bytes(png_bytes(digit(kind)))
    status, body, _ = request(server, "POST", "/api/predict?model=mlp", path.read_bytes(),
                              {"Content-Type": "image/png"})
    assert status == 200
    p = np.array(body["probabilities"])
    assert p.shape == (10,) and (p >= 0).all() and p.sum() == pytest.approx(1, abs=1e-5)
    assert body["prediction"] == int(np.argmax(p)) and body["label"] == str(body["prediction"])
    expected_input = to_mnist(read_image(path))  # what `nnscratch predict` feeds the network
    assert np.array(body["input"]).shape == (28, 28)
    np.testing.assert_allclose(body["input"], expected_input, atol=6e-4)
    assert expected_input.sum() > 10  # the drawing is really there
    np.testing.assert_allclose(p, mlp_forward(nets["mlp"], expected_input)[2], atol=2e-6)
    assert main(["predict", str(root / "runs" / "mlp"), str(path), "--top", "1"]) == 0
    top = capsys.readouterr().out.split(": ")[1].split()[0]
    assert top == body["label"]


def test_predict_json_pixels_equals_the_png_path(server):
    image = digit("7")
    _, from_png, _ = request(server, "POST", "/api/predict?model=cnn", png_bytes(image), {"Content-Type": "image/png"})
    status, from_json, _ = post_json(server, "/api/predict?model=cnn", {"pixels": image.tolist()})
    assert status == 200
    # PNG decoding goes through RGB -> gray weights summing to 1.000: equal to float rounding
    np.testing.assert_allclose(from_json["input"], from_png["input"], atol=1e-3)
    np.testing.assert_allclose(from_json["probabilities"], from_png["probabilities"], atol=1e-5)


def test_predict_without_model_uses_the_first_listed(server):
    status, body, _ = post_json(server, "/api/predict", {"pixels": digit("1").tolist()})
    assert status == 200 and body["model"] == "cnn"


def test_activations_of_the_mlp_are_its_hidden_layers(server, runs):
    _, nets = runs
    image = digit("4", 60, 60)
    status, body, _ = post_json(server, "/api/activations?model=mlp", {"pixels": image.tolist()})
    assert status == 200
    h1, h2, p = mlp_forward(nets["mlp"], to_mnist(image / 255.0))
    (l1, l2) = body["layers"]
    assert (l1["name"], l2["name"]) == ("hidden 1 (ReLU)", "hidden 2 (ReLU)")
    np.testing.assert_allclose(l1["values"], h1, atol=1e-4)
    np.testing.assert_allclose(l2["values"], h2, atol=1e-4)
    np.testing.assert_allclose(body["probabilities"], p, atol=2e-6)
    assert (h1 > 0).any() and (h1 == 0).any()  # a real ReLU layer: some units on, some off


def test_activations_of_the_cnn_are_its_feature_maps(server, runs):
    _, nets = runs
    image = digit("0", 50, 40)
    status, body, _ = post_json(server, "/api/activations?model=cnn", {"pixels": image.tolist()})
    assert status == 200
    x = to_mnist(image / 255.0).astype(np.float64)
    w = nets["cnn"].state_dict()
    kernel, bias = w["0.weight"].data.astype(np.float64), w["0.bias"].data.astype(np.float64)
    windows = np.lib.stride_tricks.sliding_window_view(x, (5, 5))  # (24, 24, 5, 5)
    maps = relu(np.einsum("ijkl,ckl->cij", windows, kernel[:, 0]) + bias[:, None, None])
    conv = body["layers"][0]
    assert np.array(conv["values"]).shape == (4, 24, 24)
    np.testing.assert_allclose(conv["values"], maps, atol=1e-4)


def test_weights_are_the_incoming_weights_as_pictures(server, runs):
    _, nets = runs
    w1 = nets["mlp"].state_dict()["2.0.weight"].data
    status, body, _ = request(server, "GET", "/api/weights?model=mlp&layer=0&unit=3")
    assert status == 200
    (unit,) = body["units"]
    assert unit["unit"] == 3 and unit["scale"] == pytest.approx(np.abs(w1[3]).max())
    np.testing.assert_allclose(unit["images"][0], w1[3].reshape(28, 28) / np.abs(w1[3]).max(), atol=5e-4)
    # layer 2's units: 16 weights over hidden layer 1, laid out in its 4x4 grid
    w2 = nets["mlp"].state_dict()["2.2.weight"].data
    _, body, _ = request(server, "GET", "/api/weights?model=mlp&layer=1&start=10&count=100")
    assert [u["unit"] for u in body["units"]] == list(range(10, 16))
    np.testing.assert_allclose(body["units"][0]["images"][0], w2[10].reshape(4, 4) / np.abs(w2[10]).max(), atol=5e-4)
    # a convolution channel: its 5x5 kernel
    k = nets["cnn"].state_dict()["0.weight"].data
    _, body, _ = request(server, "GET", "/api/weights?model=cnn&layer=0&unit=2")
    np.testing.assert_allclose(body["units"][0]["images"][0], k[2, 0] / np.abs(k[2, 0]).max(), atol=5e-4)
    # the dense layer after the convolution: its weights over the 4 pooled 12x12 maps, one picture per map
    w = nets["cnn"].state_dict()["4.weight"].data
    _, body, _ = request(server, "GET", "/api/weights?model=cnn&layer=1&unit=5")
    np.testing.assert_allclose(body["units"][0]["images"], w[5].reshape(4, 12, 12) / np.abs(w[5]).max(), atol=5e-4)


# ----------------------------------------------------------------------------- bad input

def raw(server, data):
    """Send raw bytes as a request and return the status code of the answer (from its status
    line, or, to a request line without an HTTP version, which gets a bare body, from its JSON)."""
    with socket.create_connection(server.server_address[:2], timeout=30) as s:
        s.sendall(data)
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    if answer.startswith(b"HTTP/"):
        return int(answer.split()[1])
    return json.loads(answer)["status"]


ERRORS = [
    ("POST", "/api/predict?model=mlp", b"this is not an image", "image/png", 415),
    ("POST", "/api/predict?model=mlp", b"\x89PNG\r\n\x1a\n truncated", "image/png", 415),
    ("POST", "/api/predict?model=mlp", b"{not json", "application/json", 400),
    ("POST", "/api/predict?model=mlp", b'{"image": []}', "application/json", 400),
    ("POST", "/api/predict?model=mlp", b'{"pixels": [1, 2, 3]}', "application/json", 400),
    ("POST", "/api/predict?model=mlp", b'{"pixels": [[1, 2], [3]]}', "application/json", 400),
    ("POST", "/api/predict?model=mlp", b'{"pixels": [[-1, 2], [3, 4]]}', "application/json", 400),
    ("POST", "/api/predict?model=mlp", b'{"pixels": [["dark", 2]]}', "application/json", 400),
    ("POST", "/api/predict?model=mlp", b'{"pixels": [[]]}', "application/json", 400),
    ("POST", "/api/predict?model=mlp", b"", "image/png", 400),
    ("POST", "/api/predict?model=nosuchmodel", b'{"pixels": [[1]]}', "application/json", 404),
    ("POST", "/api/predict?model=secret", b'{"pixels": [[1]]}', "application/json", 404),
    ("POST", "/api/activations?model=../elsewhere/secret", b'{"pixels": [[1]]}', "application/json", 404),
    ("POST", "/api/predict?model=toy", b'{"pixels": [[1]]}', "application/json", 400),
    ("GET", "/api/history?model=nosuchmodel", None, None, 404),
    ("GET", "/api/weights?model=mlp", None, None, 400),
    ("GET", "/api/weights?model=mlp&layer=x", None, None, 400),
    ("GET", "/api/weights?model=mlp&layer=7", None, None, 400),
    ("GET", "/api/weights?model=mlp&layer=0&unit=16", None, None, 400),
    ("GET", "/api/weights?model=mlp&layer=0&unit=-1", None, None, 400),
    ("GET", "/api/weights?model=nosuchmodel&layer=0", None, None, 404),
    ("GET", "/api/predict", None, None, 405),
    ("POST", "/api/models", b"{}", "application/json", 405),
    ("GET", "/api/nothing", None, None, 404),
    ("GET", "/static/../server.py", None, None, 404),
    ("GET", "/static/%2e%2e/server.py", None, None, 404),
    ("GET", "/api/live", None, None, 404),
    ("GET", "/api/live/events", None, None, 404),
]


@pytest.mark.parametrize("method, path, body, kind, expected", ERRORS)
def test_bad_requests_get_a_json_error(server, method, path, body, kind, expected):
    status, answer, _ = request(server, method, path, body, {"Content-Type": kind} if kind else {})
    assert status == expected
    assert isinstance(answer, dict) and answer["status"] == expected and len(answer["error"]) > 10


def test_too_large_a_body_is_refused_unread(server):
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.putrequest("POST", "/api/predict?model=mlp")
    connection.putheader("Content-Type", "image/png")
    connection.putheader("Content-Length", str(MAX_BODY + 1))
    connection.endheaders()  # the body is never sent: the server answers from the header alone
    response = connection.getresponse()
    assert response.status == 413 and "too large" in json.loads(response.read())["error"]
    connection.close()


def test_missing_content_length_and_bad_request_lines(server):
    assert raw(server, b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n\r\n") == 411
    assert raw(server, b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n") == 400
    assert raw(server, b"NONSENSE\r\n\r\n") == 400
    assert request(server, "GET", "/api/models")[0] == 200  # still serving


def test_a_large_image_is_refused_before_decoding(server):
    status, body, _ = request(server, "POST", "/api/predict?model=mlp", png_bytes(np.full((2100, 3000), 255)),
                              {"Content-Type": "image/png"})
    assert status == 413 and "3000x2100" in body["error"]


def test_pages_are_served_and_need_nothing_from_outside(server):
    status, page, response = request(server, "GET", "/")
    assert status == 200 and response.getheader("Content-Type").startswith("text/html")
    assert b'<canvas id="draw"' in page and b"/static/app.js" in page
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        status, data, response = request(server, "GET", f"/static/{name}")
        assert status == 200 and response.getheader("Content-Type").startswith(kind)
        assert not re.search(rb"https?://", data), f"{name} refers to another server"
    assert not re.search(rb"https?://", page)


# ----------------------------------------------------------------------------- the server itself

def test_a_taken_port_is_a_clear_error(server, runs, capsys):
    root, _ = runs
    port = server.server_address[1]
    with pytest.raises(OSError, match=f"port {port} on 127.0.0.1 is already in use"):
        make_server([root / "runs"], "127.0.0.1", port)
    assert main(["serve", str(root / "runs"), "--port", str(port)]) == 1
    assert f"nnscratch: error: port {port} on 127.0.0.1 is already in use" in capsys.readouterr().err


def test_serve_command_prints_the_url_and_stops_on_ctrl_c(runs):
    import signal
    root, _ = runs
    # SIGINT back to its default in the child: a test run started in the background by a shell
    # inherits SIGINT ignored, and an ignored SIGINT never becomes a KeyboardInterrupt.
    process = subprocess.Popen([sys.executable, "-m", "nnscratch.cli", "serve", str(root / "runs" / "mlp"),
                                "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = process.stdout.readline()
        match = re.fullmatch(r"nnscratch playground at http://127\.0\.0\.1:(\d+)/  \(Ctrl-C to stop\)\n", line)
        assert match, line
        connection = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=30)
        connection.request("GET", "/api/models")
        assert [m["id"] for m in json.loads(connection.getresponse().read())["models"]] == ["mlp"]
        connection.close()
        process.send_signal(signal.SIGINT)
        try:
            out, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            raise AssertionError(f"the server did not stop on SIGINT; stdout {out!r}, stderr {err!r}") from None
        assert process.returncode == 0, err
        assert "stopped" in out
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_serve_needs_existing_paths(tmp_path, capsys):
    assert main(["serve", str(tmp_path / "missing"), "--port", "0"]) == 1
    assert "no run directory or model at" in capsys.readouterr().err


def test_serve_without_arguments_looks_in_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["serve", "--port", "0"]) == 1
    assert "no run directories given and there is no ./runs folder" in capsys.readouterr().err


def test_import_nnscratch_serve_pulls_no_optional_package():
    code = ("import sys, nnscratch, nnscratch.serve, nnscratch.serve.limits; print(sorted(m for m in ('selenium', "
            "'PIL', 'matplotlib', 'torch', 'starlette', 'pydantic', 'uvicorn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"  # the web server is imported only when a server is made


# ----------------------------------------------------------------------------- training live

def test_metrics_publisher_reports_every_batch_and_epoch(tmp_path):
    from nnscratch.runner import train_run
    events = []
    result = train_run("spirals", "mlp", out=str(tmp_path / "run"), verbose=False, hidden=[8], epochs=3,
                       batch_size=100, callbacks=[MetricsPublisher(events.append, interval=0)])
    history = result["history"]
    types = [e["type"] for e in events]
    batches = events[0]["batches"]
    assert types == ["begin"] + (["batch"] * batches + ["epoch"]) * 3 + ["end"]
    assert batches == 9  # 1,000 spirals, 10% held out for validation, batches of 100
    epochs = [e for e in events if e["type"] == "epoch"]
    assert [e["loss"] for e in epochs] == history.loss and [e["val_accuracy"] for e in epochs] == history.val_accuracy
    last_batches = [events[i - 1] for i, e in enumerate(events) if e["type"] == "epoch"]
    assert [b["loss"] for b in last_batches] == pytest.approx(history.loss, rel=1e-12)  # running mean = epoch mean
    assert all(e["samples_per_s"] > 0 for e in events if e["type"] in ("batch", "epoch"))


def test_live_feed_streams_server_sent_events(tmp_path):
    from nnscratch.runner import train_run
    out = tmp_path / "run"
    out.mkdir()
    feed = LiveFeed()
    playground = make_server([out], "127.0.0.1", 0, feed=feed)
    start_in_thread(playground)
    try:
        host, port = playground.server_address[:2]
        stream = http.client.HTTPConnection(host, port, timeout=30)
        stream.request("GET", "/api/live")
        response = stream.getresponse()
        assert response.status == 200 and response.getheader("Content-Type") == "text/event-stream"
        result = train_run("spirals", "mlp", out=str(out), verbose=False, hidden=[8], epochs=2,
                           callbacks=[MetricsPublisher(feed.publish, interval=0)])
        feed.publish({"type": "done", "accuracy": result["accuracy"]})
        received = []
        while not received or received[-1]["type"] != "done":
            line = response.fp.readline().decode()
            if line.startswith("data: "):
                received.append(json.loads(line[len("data: "):]))
        stream.close()
        assert received == feed.since(0)
        assert [e["seq"] for e in received] == list(range(len(received)))
        assert [e["loss"] for e in received if e["type"] == "epoch"] == result["history"].loss
        status, body, _ = request(playground, "GET", f"/api/live/events?since={len(received) - 1}")
        assert status == 200 and [e["type"] for e in body["events"]] == ["done"]
        status, body, _ = request(playground, "GET", "/api/models")
        assert body["live"] is True and [m["id"] for m in body["models"]] == ["run"]
    finally:
        playground.shutdown()
        playground.server_close()


def test_train_serve_command_streams_the_run(tmp_path):
    out = tmp_path / "live-run"
    command = [sys.executable, "-m", "nnscratch.cli", "train", "spirals", "--hidden", "8", "--epochs", "2",
               "--quiet", "--serve", "--port", "0", "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "MPLBACKEND": "Agg"})
    try:
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, f"no URL in {line!r}; stderr: {process.stderr.read() if process.poll() is not None else ''}"
        port = int(match.group(1))
        deadline = time.monotonic() + 120
        events = []
        while not events or events[-1]["type"] != "done":
            assert time.monotonic() < deadline and process.poll() is None
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", "/api/live/events")
            events = json.loads(connection.getresponse().read())["events"]
            connection.close()
            time.sleep(0.2)
        types = [e["type"] for e in events]
        assert types[:2] == ["run", "begin"] and types.count("epoch") == 2 and types[-2:] == ["end", "done"]
        with open(out / "summary.txt") as f:
            test_accuracy = float(re.search(r"test accuracy: ([0-9.]+)%", f.read()).group(1)) / 100
        assert events[-1]["accuracy"] == pytest.approx(test_accuracy, abs=1e-6)
        assert "stays open" in process.stdout.readline()
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()


DATA = os.environ.get("NNSCRATCH_DATA")


@pytest.mark.skipif(not DATA or not os.path.isdir(os.path.join(DATA, "mnist")), reason="NNSCRATCH_DATA with mnist/ is not set")
def test_serving_while_training_leaves_a_seeded_run_unchanged(tmp_path):
    """The page predicting with the run's own model after every epoch must not draw from the
    generator the training shuffles with: the same seed gives the same run as without --serve."""
    import threading

    from nnscratch.runner import train_run
    from nnscratch.serve.store import RefreshStore
    settings = {"verbose": False, "hidden": [8], "limit": 600, "epochs": 3, "seed": 3}
    ns.manual_seed(3)  # train_run builds the network before fit seeds the generator
    plain = train_run("mnist", "mlp", out=str(tmp_path / "plain"), **settings)
    out = tmp_path / "served"
    out.mkdir()
    feed = LiveFeed()
    playground = make_server([out], "127.0.0.1", 0, feed=feed)
    start_in_thread(playground)
    done, answers = threading.Event(), []

    def use_the_page():
        while not done.is_set():
            request(playground, "GET", "/api/models")
            answers.append(post_json(playground, "/api/activations", {"pixels": digit("1").tolist()})[0])

    ns.manual_seed(3)
    user = threading.Thread(target=use_the_page)
    user.start()
    try:
        served = train_run("mnist", "mlp", out=str(out), callbacks=[
            RefreshStore(playground.store, out / "model.npz"), MetricsPublisher(feed.publish)], **settings)
    finally:
        done.set()
        user.join()
        playground.shutdown()
        playground.server_close()
    assert 200 in answers  # the model was really used while it trained
    assert set(answers) <= {200, 404, 503}  # 404 before the first checkpoint, 503 until it is loaded
    assert served["history"].loss == plain["history"].loss
    a, b = ns.load(tmp_path / "plain" / "last.npz")["model"], ns.load(out / "last.npz")["model"]
    assert all(np.array_equal(a[k].data, b[k].data) for k in a)
