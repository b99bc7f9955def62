"""A real browser for the console's tests: Debian's chromium driven by Selenium
through Debian's chromedriver, headless, offline, with a fresh profile."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage", "--window-size=1280,1000")


@contextmanager
def chromium(profile: Path) -> Iterator[webdriver.Chrome]:
    assert shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER), (
        "the browser tests need Debian's chromium and chromium-driver "
        "(.ci/run installs them: apt-get install chromium chromium-driver)")
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager fetch anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


class Page:
    """The browser on the console at `base`, with the few moves the tests need."""

    def __init__(self, driver: webdriver.Chrome, base: str) -> None:
        self.driver = driver
        self.base = base

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    @property
    def text(self) -> str:
        return self.find("body").text

    def submit(self, button_css: str) -> None:
        """Click a form's button and wait for the page it leads to."""
        old = self.find("html")
        self.find(button_css).click()
        WebDriverWait(self.driver, 60).until(lambda d: _stale(old))

    def sign_in(self, token: str, *, here: bool = False) -> None:
        """Fill in the sign-in form: a new one, or (`here`) the one on screen."""
        if not here:
            self.open("/login")
        self.find("#token").send_keys(token)
        self.submit("form button[type=submit]")


def _stale(element: WebElement) -> bool:
    try:
        element.tag_name  # noqa: B018 - touching it raises once the page is replaced
    except WebDriverException:  # stale; or, mid-navigation, chromium's "inspector error"
        return True
    return False
