"""The playground server under load and under hostile clients, on 127.0.0.1 only.

Every loop is bounded in count and time; every socket has a timeout, so a server that does not
answer fails the test in seconds instead of hanging it. The server here has a 1 s read timeout
so that stalled clients are released quickly.
"""

import http.client
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import zlib

import numpy as np
import pytest

for package in ("starlette", "pydantic", "uvicorn"):  # the server: pip install "nnscratch[serve]"
    pytest.importorskip(package, reason="the playground's server needs nnscratch[serve]")

import nnscratch as ns
from nnscratch.cli import main
from nnscratch.data.preprocess import ImageTooLarge, read_image
from nnscratch.serve import make_server, start_in_thread
from nnscratch.serve.hosts import HostCheck
from nnscratch.serve.limits import Limits

from test_serve_api import MLP, digit, make_run, png_bytes

READ_TIMEOUT = 1.0
WAIT = 8.0  # seconds any single answer may take here before the test fails


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("reliability") / "runs"
    make_run(root / "good", MLP, summary=0.9)
    make_run(root / "also-good", MLP, seed=1)
    make_run(root / "broken", MLP, seed=2)
    (root / "broken" / "config.json").write_text(json.dumps({"net": MLP, "settings": "mnist"}))  # not a dict
    make_run(root / "nan", MLP, seed=3)
    checkpoint = ns.load(root / "nan" / "model.npz")
    weights = [tensor for name, tensor in checkpoint["model"].items() if name.endswith("weight")]
    weights[0].data[3, 5] = np.nan
    ns.save(checkpoint, root / "nan" / "model.npz")
    return root


class Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture(scope="module")
def server(runs):
    playground = make_server([runs], "127.0.0.1", 0, limits=Limits(read_timeout=READ_TIMEOUT, keep_alive=1.0))
    start_in_thread(playground)
    yield playground
    playground.shutdown()
    playground.server_close()


@pytest.fixture(autouse=True)
def log():
    """The messages the servers log during one test; none may carry a traceback. (Attached per
    test: making a server resets uvicorn's loggers.)"""
    records = Records()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(records)
    yield records.records
    logger.removeHandler(records)
    assert not [r.getMessage() for r in records.records if r.exc_info], "the server logged a traceback"


def request(server, method, path, body=None, headers=None):
    """(status, parsed JSON or raw bytes) of one request."""
    connection = http.client.HTTPConnection(*server.server_address, timeout=WAIT)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, json.loads(data) if response.getheader("Content-Type", "").startswith(
            "application/json") else data
    finally:
        connection.close()


def raw(server, data, half_close=False):
    """Everything the server sends back to the raw bytes ``data`` until it closes (b"" when it
    closes without answering); ``half_close`` ends the client's side after sending."""
    with socket.create_connection(server.server_address, timeout=WAIT) as s:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return answer


def status_of(answer):
    return int(answer.split()[1]) if answer.startswith(b"HTTP/") else None


def head(server, length, extra=""):
    host, port = server.server_address
    return (f"POST /api/predict?model=good HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n{extra}\r\n").encode()


# ----------------------------------------------------------------------------- load

def test_64_concurrent_clients_are_all_answered(server):
    body, errors, answered = png_bytes(digit("7", 280, 280)), [], []

    def client():
        for _ in range(4):
            try:
                status, _ = request(server, "POST", "/api/predict?model=good", body, {"Content-Type": "image/png"})
                (answered if status == 200 else errors).append(status)
            except OSError as e:
                errors.append(type(e).__name__)

    threads = [threading.Thread(target=client) for _ in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(answered) == 256


def test_a_stalled_body_is_released_by_the_read_timeout(server):
    answer = raw(server, head(server, 100))  # headers, then nothing: the server must not wait forever
    assert status_of(answer) == 408 and b"did not arrive within 1 s" in answer
    assert request(server, "GET", "/api/models")[0] == 200


def test_stalled_headers_are_released_by_the_read_timeout(server):
    host, port = server.server_address
    assert raw(server, f"GET /api/models HTTP/1.1\r\nHost: {host}:{port}\r\n".encode()) == b""  # closed


def test_connections_beyond_the_limit_are_answered_503(runs):
    playground = make_server([runs], "127.0.0.1", 0, limits=Limits(max_connections=4, read_timeout=5.0))
    start_in_thread(playground)
    held = [socket.create_connection(playground.server_address, timeout=WAIT) for _ in range(4)]
    try:
        for s in held:
            s.sendall(head(playground, 100))  # stalled requests hold the 4 connections allowed
        in_flight = playground.server.server_state.tasks   # uvicorn's running requests
        deadline = time.monotonic() + WAIT
        while len(in_flight) < 4 and time.monotonic() < deadline:  # taken up (a busy machine may lag)
            time.sleep(0.01)
        assert len(in_flight) == 4   # all 4 served: none refused while 4 were connected
        assert status_of(raw(playground, head(playground, 2) + b"{}")) == 503   # the 5th is refused
        for s in held:  # and the 4 allowed go on: their bodies get an answer
            s.sendall(b"x" * 100)
            assert status_of(s.recv(65536)) == 400  # (not JSON)
    finally:
        for s in held:
            s.close()
        playground.shutdown()
        playground.server_close()


# ----------------------------------------------------------------------------- hostile bodies

@pytest.mark.parametrize("length", ["-1", "+5", "1_0"])  # Python's int() accepts the last two
def test_a_malformed_content_length_is_refused_unread(server, length):
    assert status_of(raw(server, head(server, length))) == 400  # at once: nothing is read until the client closes


def test_a_huge_content_length_is_refused_unread(server):
    answer = raw(server, head(server, 10**15))
    assert status_of(answer) == 413 and b"too large" in answer


def test_a_short_body_is_not_taken_for_a_whole_one(server):
    body = json.dumps({"pixels": digit("1", 20, 20).tolist()}).encode()
    answer = raw(server, head(server, len(body) + 50) + body, half_close=True)
    assert status_of(answer) != 200  # the client hung up 50 bytes short: nothing to answer
    answer = raw(server, head(server, len(body) + 50) + body)  # or it stays, silent: the read timeout
    assert status_of(answer) == 408


def test_a_client_hanging_up_mid_body_is_one_log_line(server, log):
    with socket.create_connection(server.server_address, timeout=WAIT) as s:
        s.sendall(head(server, 10_000) + b'{"pixels": [[0, 1')
    for _ in range(80):  # the server notices within milliseconds; wait at most 4 s
        if log:
            break
        time.sleep(0.05)
    lines = [r.getMessage() for r in log]
    assert len(lines) == 1 and "hung up before sending the body of POST /api/predict" in lines[0]


def test_deep_json_is_a_client_error(server):
    deep = b'{"pixels": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    status, answer = request(server, "POST", "/api/predict?model=good", deep, {"Content-Type": "application/json"})
    assert status == 400 and "recursion limit" in answer["error"]


def test_a_malformed_body_is_refused_naming_the_field(server):
    status, answer = request(server, "POST", "/api/predict?model=good", b'{"pixels": [[0, "dark"]]}',
                             {"Content-Type": "application/json"})
    assert status == 400 and "'pixels.0.1'" in answer["error"] and "'dark'" in answer["error"]
    status, answer = request(server, "GET", "/api/weights?model=good&layer=x")
    assert status == 400 and "query parameter 'layer'" in answer["error"]


def bomb_png(width, height):
    """A valid PNG of width x height white gray pixels: a few hundred kB that decode to width x height bytes."""
    def chunk(kind, data):
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    compressor, row, idat = zlib.compressobj(9), b"\0" + b"\xff" * width, []
    for _ in range(height):
        idat.append(compressor.compress(row))
    idat.append(compressor.flush())
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])  # 8-bit gray
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(idat)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    path.write_bytes(bomb_png(12000, 12000))
    return path


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_pixel_bomb_is_refused_before_decoding(server, bomb):
    assert bomb.stat().st_size < 500_000
    status, answer = request(server, "POST", "/api/predict?model=good", bomb.read_bytes(),
                             {"Content-Type": "image/png"})
    assert status == 413 and "12000x12000" in answer["error"]


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_predict_refuses_a_pixel_bomb_before_decoding(runs, bomb, capsys):
    with pytest.raises(ImageTooLarge, match="12000x12000 = 144,000,000 pixels"):
        read_image(bomb)
    assert main(["predict", str(runs / "good"), str(bomb)]) == 1
    assert "12000x12000" in capsys.readouterr().err


# ----------------------------------------------------------------------------- hosts and models

def test_a_foreign_host_name_is_refused(server):
    host, port = server.server_address
    status, answer = request(server, "GET", "/api/models", headers={"Host": f"evil.example:{port}"})
    assert status == 400 and "evil.example" in answer["error"] and "models" not in answer
    status, answer = request(server, "GET", "/api/models", headers={"Origin": "http://evil.example"})
    assert status == 403
    for name in (f"{host}:{port}", f"localhost:{port}"):
        assert request(server, "GET", "/api/models", headers={"Host": name, "Origin": f"http://{name}"})[0] == 200


def test_host_allow_list_follows_the_bound_address():
    local, everywhere = HostCheck("127.0.0.1"), HostCheck("0.0.0.0", extra=["classroom.lan"])
    assert local("127.0.0.1") and local("localhost") and local("::1")
    assert not local("evil.example") and not local("192.168.1.5") and not local("classroom.lan")
    assert everywhere("192.168.1.5") and everywhere("classroom.lan") and not everywhere("evil.example")


def test_a_broken_model_is_listed_as_broken_beside_the_others(server, runs):
    status, answer = request(server, "GET", "/api/models")
    assert status == 200
    models = {m["id"]: m for m in answer["models"]}
    assert {"good", "also-good", "broken"} <= set(models) and "layers" in models["good"]
    assert "AttributeError" in models["broken"]["error"]  # any exception, not only OSError/ValueError/KeyError
    assert str(runs.parent) not in json.dumps(answer)  # no absolute path of the server's files


def test_a_model_with_nan_weights_is_a_server_fault(server, runs):
    status, answer = request(server, "POST", "/api/predict?model=nan", json.dumps({"pixels": digit("1").tolist()}),
                             {"Content-Type": "application/json"})
    assert status == 500 and "NaN" in answer["error"] and str(runs.parent) not in answer["error"]


def test_the_api_is_described_by_an_openapi_document(server):
    status, document = request(server, "GET", "/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.")
    assert {"/api/models", "/api/predict", "/api/weights", "/api/live"} <= set(document["paths"])
    content = document["paths"]["/api/predict"]["post"]["requestBody"]["content"]
    assert {"image/png", "application/json"} <= set(content)


# ----------------------------------------------------------------------------- the command

def test_an_out_of_range_port_is_a_clear_error(runs, capsys):
    assert main(["serve", str(runs), "--port", "99999"]) == 2
    assert "a port is a number from 0 to 65535" in capsys.readouterr().err
    with pytest.raises(ValueError, match="port 70000 is out of range"):
        make_server([runs], "127.0.0.1", 70000)


def test_without_the_serve_extra_the_command_says_what_to_install(runs):
    code = ("import sys; sys.modules['starlette'] = None; from nnscratch.cli import main; "
            f"sys.exit(main(['serve', {str(runs)!r}, '--port', '0']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "pip install 'nnscratch[serve]'" in result.stderr
