"""Load on the playground server (``nnscratch serve``), as a class of learners drawing at once.

    NNSCRATCH_DATA=../shared/data python benchmarks/bench_serve.py

Trains an MLP for one epoch (the default preset, ``nnscratch train --epochs 1``), starts
``nnscratch serve`` on 127.0.0.1 in a child process and then, on loopback only:

1. pools of 1, 8, 64 and 256 concurrent clients each POST a 280x280 PNG drawing to
   ``/api/predict`` (a new connection per request, as a page's ``fetch`` may do) - requests/s,
   errors (refused, reset, timed out or not 200), p50 and p99 latency, the server's CPU time
   per request (user + system, all its threads: a cost that does not depend on how busy the
   machine is), and its peak RSS and threads during the run;
2. 1,000 stalled connections (request headers sent, body never): the latency of a normal request
   while they are held, the server's threads and RSS, and how many the server closes within
   ``--stall-wait`` seconds (its read timeout).

Every loop is bounded in count and time. ``--run DIR`` serves an existing run instead of training;
``--source DIR`` serves with the nnscratch package in DIR instead of the installed one, to measure
another version in the same conditions (e.g. ``git archive COMMIT | tar -x -C DIR``).
"""

import argparse
import asyncio
import io
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

LEVELS = {1: 100, 8: 400, 64: 640, 256: 1024}  # concurrent clients: requests in all
REQUEST_TIMEOUT = 10.0  # seconds; a request slower than this counts as an error
STALLED = 1000


def drawing_png():
    """A 280x280 PNG of a '7' drawn in black on white, like the page's canvas sends."""
    from PIL import Image, ImageDraw
    image = Image.new("L", (280, 280), 255)
    pen = ImageDraw.Draw(image)
    pen.line([(70, 60), (210, 60), (120, 230)], fill=0, width=18)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def proc_status(pid):
    """(RSS in MiB, threads) of process ``pid`` from /proc."""
    with open(f"/proc/{pid}/status") as f:
        text = f.read()
    rss = int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024
    return rss, int(re.search(r"Threads:\s+(\d+)", text).group(1))


def cpu_seconds(pid):
    """User + system CPU seconds that process ``pid`` (all its threads) has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Sampler:
    """Peak RSS and threads of a process, sampled every 10 ms in a thread while in a ``with`` block."""

    def __init__(self, pid):
        self.pid, self.rss, self.threads = pid, 0.0, 0
        self._stop = threading.Event()

    def _run(self):
        while not self._stop.wait(0.01):
            rss, threads = proc_status(self.pid)
            self.rss, self.threads = max(self.rss, rss), max(self.threads, threads)

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


async def post(port, body):
    """Seconds for one POST /api/predict on a new connection; raises on any failure."""
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: image/png\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
    if not answer.startswith(b"HTTP/1.1 200"):
        raise ConnectionError(answer[:40])
    return time.perf_counter() - start


async def load(port, body, clients, total):
    """(requests/s, errors, latencies) of ``total`` requests made by ``clients`` concurrent clients."""
    latencies, errors = [], 0

    async def client(count):
        nonlocal errors
        for _ in range(count):
            try:
                latencies.append(await asyncio.wait_for(post(port, body), REQUEST_TIMEOUT))
            except (OSError, ConnectionError, asyncio.TimeoutError):
                errors += 1

    start = time.perf_counter()
    await asyncio.gather(*(client(total // clients) for _ in range(clients)))
    return total / (time.perf_counter() - start), errors, latencies


async def stalled(port, body, pid, wait):
    """Hold STALLED connections that sent headers and no body; measure a normal request meanwhile."""
    head = (f"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: image/png\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    held = []
    for _ in range(STALLED):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head)
        held.append((reader, writer))
    await asyncio.sleep(1.0)
    latencies = []
    for _ in range(5):
        try:
            latencies.append(await asyncio.wait_for(post(port, body), REQUEST_TIMEOUT))
        except (OSError, ConnectionError, asyncio.TimeoutError):
            latencies.append(float("inf"))
    rss, threads = proc_status(pid)
    start = time.perf_counter()

    async def closed_by_server(reader):
        try:
            await asyncio.wait_for(reader.read(), wait)  # EOF (or an answer then EOF): the server let go
            return True
        except (asyncio.TimeoutError, OSError):
            return False

    closed = await asyncio.gather(*(closed_by_server(r) for r, _ in held))
    seconds = time.perf_counter() - start
    for _, writer in held:
        writer.close()
    return {"latency": float(np.median(latencies)), "worst": max(latencies), "rss": rss, "threads": threads,
            "closed": sum(closed), "seconds": seconds}


def start_server(run, source=None):
    """The ``nnscratch serve`` child process (of the nnscratch in ``source`` if given) and its port
    (read from the line it prints)."""
    env = {**os.environ, "PYTHONPATH": os.path.abspath(source)} if source else None
    process = subprocess.Popen([sys.executable, "-m", "nnscratch.cli", "serve", run, "--port", "0"],
                               stdout=subprocess.PIPE, text=True, env=env)
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        process.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return process, int(match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", help="a run directory to serve (default: train an MLP for one epoch)")
    parser.add_argument("--stall-wait", type=float, default=20.0,
                        help="seconds to wait for the server to close the stalled connections (default 20)")
    parser.add_argument("--source", metavar="DIR", help="serve with the nnscratch package in DIR (another version)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # 1,000 sockets here and 1,000 in the server
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * STALLED)), hard))
    with tempfile.TemporaryDirectory() as tmp:
        run = args.run or os.path.join(tmp, "mlp")
        if not args.run:
            subprocess.run([sys.executable, "-m", "nnscratch.cli", "train", "--epochs", "1", "--quiet", "--out", run],
                           check=True)
        process, port = start_server(run, args.source)
        try:
            body = drawing_png()
            asyncio.run(load(port, body, 1, 20))  # warm up: the model is loaded on first use
            idle, _ = proc_status(process.pid)
            print(f"server idle: RSS {idle:.0f} MiB\n")
            print("| concurrent clients | requests/s | errors | p50 | p99 | server CPU per request | peak RSS | "
                  "peak threads |")
            print("| --- | --- | --- | --- | --- | --- | --- | --- |")
            for clients, total in LEVELS.items():
                cpu = cpu_seconds(process.pid)
                with Sampler(process.pid) as sampled:
                    rate, errors, latencies = asyncio.run(load(port, body, clients, total))
                cpu = cpu_seconds(process.pid) - cpu
                p50, p99 = (np.percentile(latencies, q) * 1000 if latencies else float("nan") for q in (50, 99))
                print(f"| {clients} | {rate:.0f} | {errors} / {total} | {p50:.0f} ms | {p99:.0f} ms | "
                      f"{cpu / total * 1000:.1f} ms | {sampled.rss:.0f} MiB ({sampled.rss / idle:.2f}x idle) | "
                      f"{sampled.threads} |")
            s = asyncio.run(stalled(port, body, process.pid, args.stall_wait))
            print(f"\n{STALLED} stalled connections (headers sent, body never): a normal request took "
                  f"{s['latency'] * 1000:.0f} ms (median of 5, worst {s['worst'] * 1000:.0f} ms); server threads "
                  f"{s['threads']}, RSS {s['rss']:.0f} MiB; closed by the server within {args.stall_wait:.0f} s: "
                  f"{s['closed']} / {STALLED}")
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
