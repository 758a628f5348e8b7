"""The playground in a real browser: headless Chromium (Debian's chromium and chromium-driver)
driven by Selenium draws a digit with pointer events and reads what the page shows.

Skipped where Chromium or chromedriver is absent. Needs MNIST (``NNSCRATCH_DATA``) for the small
model it trains (a few seconds); the screenshot is written to the test's temporary folder, or to
``$NNSCRATCH_SCREENSHOT`` when set.
"""

import io
import os

import numpy as np
import pytest

for package in ("starlette", "pydantic", "uvicorn"):  # the server: pip install "nnscratch[serve]"
    pytest.importorskip(package, reason="the playground's server needs nnscratch[serve]")

from browser import draw_stroke, find_chromium, open_browser, prediction_count, wait_for, wait_until_idle  # tests/

from nnscratch.serve import make_server, start_in_thread

pytestmark = pytest.mark.skipif(find_chromium() is None,
                                reason="needs Chromium and chromedriver (apt-get install chromium chromium-driver)")

DATA = os.environ.get("NNSCRATCH_DATA")
needs_mnist = pytest.mark.skipif(not DATA or not os.path.isdir(os.path.join(DATA, "mnist")),
                                 reason="NNSCRATCH_DATA with mnist/ is not set")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """An MLP 784-64-32-10 trained for 3 epochs on 6,000 MNIST images (seconds; about 87% test
    accuracy): enough to recognise a clear '1', which a random network would not."""
    from nnscratch.runner import train_run
    out = tmp_path_factory.mktemp("browser") / "mnist-small"
    result = train_run("mnist", "mlp", out=str(out), verbose=False, hidden=[64, 32], limit=6000, epochs=3)
    assert result["accuracy"] > 0.85
    return out


@pytest.fixture(scope="module")
def page(trained_run, tmp_path_factory):
    pytest.importorskip("selenium")
    server = make_server([trained_run], "127.0.0.1", 0)
    start_in_thread(server)
    driver = open_browser(str(tmp_path_factory.mktemp("chromium-profile")))
    try:
        driver.get(server.url)
        wait_for(driver, lambda d: d.execute_script(
            "return document.querySelectorAll('#bars .bar').length === 10 && "
            "document.querySelectorAll('#layers .layer').length === 2"), what="the model to load")
        yield driver
    finally:
        driver.quit()
        server.shutdown()
        server.server_close()


def shown(driver):
    """The probabilities the bars show (their widths in %), and the class marked as top."""
    widths = driver.execute_script(
        "return [...document.querySelectorAll('#bars .fill')].map(e => parseFloat(e.style.width))")
    top = driver.execute_script("return [...document.querySelectorAll('#bars .bar')].findIndex("
                                "e => e.classList.contains('top'))")
    return np.array(widths) / 100, top


def canvas_ink(driver, selector):
    """Sum of the red channel over a canvas's pixels (0 for an all-black canvas)."""
    return driver.execute_script(
        "const c = document.querySelector(arguments[0]);"
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i]; return s;", selector)


@needs_mnist
def test_drawing_a_one_is_recognised(page, tmp_path):
    driver = page
    driver.find_element("id", "clear").click()
    before = prediction_count(driver)
    draw_stroke(driver, [(140, 45 + 10 * i) for i in range(20)])  # a vertical stroke, top to bottom
    wait_for(driver, lambda d: prediction_count(d) > before, what="the bars to update")
    label = wait_until_idle(driver)
    assert label == "1"
    probabilities, top = shown(driver)
    assert top == 1 and probabilities.sum() == pytest.approx(1, abs=0.01) and probabilities[1] > 0.5
    assert prediction_count(driver) - before >= 2  # predicted while drawing, not only at the end
    assert canvas_ink(driver, "#input") > 0  # the 28x28 input the network saw
    assert canvas_ink(driver, "#layers .layer canvas") > 0  # the first hidden layer lit up

    # hovering a hidden unit shows its 28x28 weight image
    from selenium.webdriver.common.action_chains import ActionChains
    cells = driver.find_element("css selector", "#layers .layer canvas")
    ActionChains(driver).move_to_element_with_offset(cells, -cells.size["width"] // 2 + 3,
                                                     -cells.size["height"] // 2 + 3).perform()
    size = wait_for(driver, lambda d: d.execute_script(
        "const c = document.querySelector('#hover:not(.hidden) #hover-images canvas');"
        "return c && [c.width, c.height]"), what="the weight image of unit 0")
    assert size == [28, 28]
    assert len(driver.find_elements("css selector", "#weights canvas")) == 64  # first layer's weight images

    path = os.environ.get("NNSCRATCH_SCREENSHOT") or str(tmp_path / "playground.png")
    assert driver.save_screenshot(path)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@needs_mnist
def test_uploading_an_image_predicts_it(page, tmp_path):
    Image = pytest.importorskip("PIL.Image")
    driver = page
    y, x = np.mgrid[0:200, 0:150]
    ink = (np.abs(x - 75) < 9) & (np.abs(y - 100) < 80)  # a dark '1' on white paper, as photographed
    path = tmp_path / "one.png"
    buffer = io.BytesIO()
    Image.fromarray(np.where(ink, 30, 230).astype(np.uint8)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    before = prediction_count(driver)
    driver.find_element("id", "upload").send_keys(str(path))
    wait_for(driver, lambda d: prediction_count(d) > before, what="the upload's prediction")
    assert wait_until_idle(driver) == "1"
    assert shown(driver)[1] == 1
