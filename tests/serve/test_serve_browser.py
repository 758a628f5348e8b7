"""The playground in a real browser: headless Chromium (Debian's chromium and chromium-driver)
driven by Selenium draws a digit with pointer events and reads what the page shows: the label, the
probability bars as rendered (their widths in pixels, and their colour in a screenshot), the words
that follow the model's dataset, and the charts' ticks and legend.

Skipped where Chromium or chromedriver is absent. Needs MNIST and Fashion-MNIST (``NNSCRATCH_DATA``)
for the small models it trains (a few seconds); the screenshot is written to the test's temporary
folder, or to ``$NNSCRATCH_SCREENSHOT`` when set.
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
needs_fashion = pytest.mark.skipif(not DATA or not os.path.isdir(os.path.join(DATA, "fashion-mnist")),
                                   reason="NNSCRATCH_DATA with fashion-mnist/ is not set")
ACCENT = (0xE8, 0x59, 0x0C)  # the top bar's colour (style.css --accent)


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
def browser(tmp_path_factory):
    """One headless Chromium for the module's tests."""
    pytest.importorskip("selenium")
    driver = open_browser(str(tmp_path_factory.mktemp("chromium-profile")))
    yield driver
    driver.quit()


def serve(run):
    """A playground server on a free port for one run directory (shut down by the caller)."""
    server = make_server([run], "127.0.0.1", 0)
    start_in_thread(server)
    return server


def open_page(driver, server, classes=10):
    """Load the page and wait until the model's bars and hidden layers are built."""
    driver.get(server.url)
    wait_for(driver, lambda d: d.execute_script(
        "return document.querySelectorAll('#bars .bar').length === arguments[0] && "
        "document.querySelectorAll('#layers .layer').length > 0", classes), what="the model to load")
    return driver


@pytest.fixture(scope="module")
def mnist_server(trained_run):
    server = serve(trained_run)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(mnist_server, browser):
    """The page, freshly loaded on the small MNIST model."""
    return open_page(browser, mnist_server)


def shown(driver):
    """The probabilities the bars show (their widths in %), and the class marked as top."""
    widths = driver.execute_script(
        "return [...document.querySelectorAll('#bars .fill')].map(e => parseFloat(e.style.width))")
    top = driver.execute_script("return [...document.querySelectorAll('#bars .bar')].findIndex("
                                "e => e.classList.contains('top'))")
    return np.array(widths) / 100, top


def bar_geometry(driver):
    """Each bar's rendered fill and track, as getBoundingClientRect gives them (CSS pixels), once the
    bars' width transitions have ended."""
    wait_for(driver, lambda d: d.execute_script("return document.getAnimations().length === 0"),
             what="the bars' transitions")
    return driver.execute_script(
        "return [...document.querySelectorAll('#bars .bar')].map(row => {"
        "  const r = (e) => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; };"
        "  return {fill: r(row.querySelector('.fill')), track: r(row.querySelector('.track'))}; })")


def assert_bars_fill(driver, tmp_path):
    """The bars as drawn: every fill as wide as its probability's share of the track (the top one
    clearly visible), and in a screenshot the top bar's pixels are its colour, not the track's."""
    probabilities, top = shown(driver)
    driver.execute_script("document.getElementById('bars').scrollIntoView()")
    bars = bar_geometry(driver)
    fills = np.array([b["fill"][2] for b in bars])
    tracks = np.array([b["track"][2] for b in bars])
    assert (tracks > 50).all() and np.ptp(tracks) < 1  # one track width: the bars line up
    assert fills[top] > 10
    np.testing.assert_allclose(fills / tracks, probabilities, atol=0.01)

    Image = pytest.importorskip("PIL.Image")
    png = driver.get_screenshot_as_png()
    (tmp_path / "bars.png").write_bytes(png)
    shot = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    scale = driver.execute_script("return window.devicePixelRatio")
    left, y, width, height = (v * scale for v in bars[top]["fill"])
    region = shot[int(y + 2):int(y + height - 2), int(left + 2):int(left + width - 2)]
    assert region.size, "the top bar is outside the screenshot"
    coloured = (np.abs(region - ACCENT).max(axis=2) < 40).mean()
    assert coloured > 0.9, f"only {coloured:.0%} of the top bar's pixels have its colour"


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
    assert_bars_fill(driver, tmp_path)
    assert driver.find_element("id", "draw-title").text == "Draw a digit"
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
    assert_bars_fill(driver, tmp_path)


@needs_mnist
def test_chart_ticks_are_round_and_the_legend_clear_of_the_curves(page):
    driver = page
    assert driver.execute_script("return niceTicks(0.652, 0.721, 5)") == pytest.approx([0.66, 0.68, 0.70, 0.72])
    assert driver.execute_script("return niceTicks(0.0, 2.31, 5)") == pytest.approx([0, 0.5, 1, 1.5, 2])
    assert driver.execute_script("return niceTicks(1, 3, 6, 1)") == [1, 2, 3]  # epochs: whole numbers
    assert driver.execute_script("return [0.65, 0.7, 2].map((v) => tickText(v, 0.05))") == ["0.65", "0.70", "2.00"]
    for chart in ("loss-chart", "acc-chart"):
        layout = wait_for(driver, lambda d: d.execute_script(
            "return document.getElementById(arguments[0]).layout", chart), what=f"the {chart}")
        plot = layout["plot"]
        assert len(layout["legend"]) == 2
        for box in layout["legend"]:  # [x, y, width, height], entirely outside the plot area
            assert box[1] + box[3] <= plot[1] or box[1] >= plot[1] + plot[3] or \
                box[0] + box[2] <= plot[0] or box[0] >= plot[0] + plot[2]
        for value in layout["yticks"] + layout["xticks"]:
            assert len(f"{value:.10g}".split(".")[-1]) <= 2 or float(value).is_integer()
        assert all(float(x).is_integer() for x in layout["xticks"])  # epochs


@pytest.fixture(scope="module")
def fashion_run(tmp_path_factory):
    """A small Fashion-MNIST MLP (seconds): its classes are words, up to 'Ankle boot' and 'T-shirt/top'."""
    from nnscratch.runner import train_run
    out = tmp_path_factory.mktemp("browser") / "fashion-small"
    train_run("fashion-mnist", "mlp", out=str(out), verbose=False, hidden=[32], limit=3000, epochs=2)
    return out


@needs_fashion
def test_the_page_speaks_of_the_models_dataset(fashion_run, browser):
    server = serve(fashion_run)
    try:
        driver = open_page(browser, server)
        title = driver.find_element("id", "draw-title").text
        assert "digit" not in title.lower() and "clothing" in title.lower()
        assert "digit" not in driver.find_element("id", "status").text
        assert "Fashion-MNIST" in driver.find_element("id", "model").text
        labels = driver.execute_script(
            "return [...document.querySelectorAll('#bars .label')].map(e => [e.textContent, e.scrollWidth, "
            "e.clientWidth])")
        assert [name for name, _, _ in labels][-1] == "Ankle boot"
        for name, needed, visible in labels:
            assert needed <= visible, f"{name!r} is clipped ({visible} of {needed} px shown)"
        draw_stroke(driver, [(140, 45 + 10 * i) for i in range(20)])
        wait_for(driver, lambda d: prediction_count(d) > 0, what="the bars to update")
        wait_until_idle(driver)
        probabilities, top = shown(driver)
        fills = np.array([b["fill"][2] / b["track"][2] for b in bar_geometry(driver)])
        np.testing.assert_allclose(fills, probabilities, atol=0.01)
        assert "digit" not in driver.find_element("id", "status").text
    finally:
        server.shutdown()
        server.server_close()
