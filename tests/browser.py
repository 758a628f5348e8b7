"""Drive the playground in a headless Chromium: a test helper (tests/serve/test_serve_browser.py), also
used by docs/playground_screenshot.py for the README's screenshot. Not part of the package.

Uses Selenium with the system's Chromium and chromedriver (Debian: ``apt-get install chromium
chromium-driver``); nothing is downloaded: the driver's path is given, so Selenium Manager never
runs. ``NNSCRATCH_CHROMIUM`` / ``NNSCRATCH_CHROMEDRIVER`` override the paths.
"""

import os
import shutil
import time

CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage")


def find_chromium():
    """(chromium, chromedriver) paths, or None when either is missing."""
    binary = os.environ.get("NNSCRATCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    driver = os.environ.get("NNSCRATCH_CHROMEDRIVER") or shutil.which("chromedriver")
    if binary and driver and os.path.exists(binary) and os.path.exists(driver):
        return binary, driver
    return None


def open_browser(user_data_dir, width=1400, height=1100):
    """A headless Chromium WebDriver with a fresh profile in ``user_data_dir``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_chromium()
    if found is None:
        raise FileNotFoundError("Chromium and chromedriver are needed: apt-get install chromium chromium-driver")
    binary, driver = found
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    options.add_argument(f"--window-size={width},{height}")
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def draw_stroke(driver, points, canvas_id="draw"):
    """Press the pointer at the first of ``points`` (canvas pixels, 0..280), move through the others
    and release: real pointerdown / pointermove / pointerup events on the drawing canvas."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    canvas = driver.find_element(By.ID, canvas_id)
    width, height = canvas.size["width"], canvas.size["height"]

    def offset(p):  # Selenium 4 offsets count from the element's centre
        return round(p[0] - width / 2), round(p[1] - height / 2)

    actions = ActionChains(driver, duration=20)
    actions.move_to_element_with_offset(canvas, *offset(points[0])).click_and_hold()
    for p in points[1:]:
        actions.move_to_element_with_offset(canvas, *offset(p))
    actions.release().perform()


def wait_for(driver, condition, timeout=20.0, what="the page"):
    """Poll ``condition(driver)`` until it returns something truthy (returned) or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition(driver)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def prediction_count(driver):
    """How many predictions the page has shown so far (the #prediction element counts them)."""
    return int(driver.execute_script("return document.getElementById('prediction').dataset.count"))


def wait_until_idle(driver, timeout=20.0):
    """Wait until no prediction request is in flight or queued, then return the shown label."""
    wait_for(driver, lambda d: d.execute_script("return !state.busy && !state.dirty"), timeout, "predictions to settle")
    return driver.execute_script("return document.getElementById('prediction').dataset.label")
