"""Take the screenshot of the playground in docs/playground.md (docs/playground.png).

    NNSCRATCH_DATA=... python docs/playground_screenshot.py RUN_DIR [RUN_DIR ...] [--out docs/playground.png]

Serves the run directories, trains a short live run beside them (the 784-16-16-10 network of
the gradient-descent lesson, 5 epochs on 5,000 MNIST images, streamed to the page as ``nnscratch train --serve``
does), draws a '2' on the canvas with pointer events in headless Chromium, hovers the most active
hidden unit and saves the whole page. Needs Debian's chromium and chromium-driver, and selenium.
"""

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

from nnscratch.runner import train_run
from nnscratch.serve import LiveFeed, make_server, start_in_thread

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the browser driver is a test helper
from browser import draw_stroke, open_browser, prediction_count, wait_for, wait_until_idle  # noqa: E402
from nnscratch.serve.store import RefreshStore
from nnscratch.train.callbacks import MetricsPublisher


def two():
    """Canvas points of a handwritten '2': an arc over the top, a diagonal, a base line."""
    import math
    arc = [(140 + 52 * math.cos(a), 105 + 45 * math.sin(a))
           for a in [math.pi * (1.05 + 0.075 * i) for i in range(17)]]
    return arc + [(85 + (arc[-1][0] - 85) * (1 - t / 8), 225 - (225 - arc[-1][1]) * (1 - t / 8)) for t in range(1, 9)] \
        + [(85 + 15 * i, 225) for i in range(1, 9)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run directories to serve (the first is shown)")
    parser.add_argument("--out", default="docs/playground.png")
    args = parser.parse_args()

    live_dir = tempfile.mkdtemp(prefix="nnscratch-live-")
    feed = LiveFeed()
    server = make_server([*args.runs, live_dir], "127.0.0.1", 0, feed=feed)
    start_in_thread(server)
    feed.publish({"type": "run", "dataset": "mnist", "model": "mlp", "out": live_dir})

    def train():
        result = train_run("mnist", "mlp", out=live_dir, verbose=False, limit=5000, epochs=5, hidden=[16, 16],
                           dropout=0.0, callbacks=[RefreshStore(server.store, f"{live_dir}/model.npz"),
                                                     MetricsPublisher(feed.publish, interval=0.05)])
        feed.publish({"type": "done", "accuracy": result["accuracy"], "out": live_dir})

    trainer = threading.Thread(target=train)
    driver = open_browser(tempfile.mkdtemp(prefix="chromium-"), width=1400, height=1000)
    try:
        driver.get(server.url)
        trainer.start()
        wait_for(driver, lambda d: d.execute_script("return document.querySelectorAll('#layers .layer').length > 0"))
        draw_stroke(driver, two())
        wait_for(driver, lambda d: prediction_count(d) > 0)
        print("the page predicts", wait_until_idle(driver))
        trainer.join()
        time.sleep(1.5)  # the last live events and the refreshed model list
        from selenium.webdriver.common.action_chains import ActionChains
        cells = driver.find_element("css selector", "#layers .layer canvas")
        best = driver.execute_script("const v = state.layers[0].values; return v.indexOf(Math.max(...v));")
        cols = driver.execute_script("return state.model.layers[0].grid[1]")
        cell = cells.size["width"] / cols
        x, y = (best % cols + 0.5) * cell, (best // cols + 0.5) * cell
        ActionChains(driver).move_to_element_with_offset(cells, int(x - cells.size["width"] / 2),
                                                         int(y - cells.size["height"] / 2)).perform()
        wait_for(driver, lambda d: d.execute_script("return !!document.querySelector('#hover-images canvas')"))
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1400, height + 140)
        time.sleep(0.5)
        driver.save_screenshot(args.out)
        print(f"wrote {args.out}")
    finally:
        driver.quit()
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
