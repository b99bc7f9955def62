"""Regenerates the README's screenshots of the review console.

Starts the real server against a fake GitHub (as the e2e tests do), opens a few
pull requests with real terraform plans, reviews one, and has headless
Debian chromium (Selenium, Debian's chromedriver) photograph the sign-in page,
the IPR list, an IPR's page, the Locks page and a job's log into
docs/screenshots/.

    PYTHONPATH=. .venv/bin/python docs/screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selenium.webdriver.common.by import By

from tests.e2e.browser import Page, chromium
from tests.e2e.conftest import running_world
from tests.e2e.test_flow import base_files, tf_extra

OUT = ROOT / "docs" / "screenshots"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        with running_world(tmp) as world:
            repo = world.repo(base_files(world, "network", "dns"))
            first = world.open_pr(repo, {"network/extra.tf": tf_extra("vpc")},
                                  branch="vpc-peering")
            world.open_pr(repo, {"dns/extra.tf": tf_extra("zone")}, author="carol",
                          branch="dns-zone")
            world.approve(first, "bob")
            ipr_id = world.record(first).id
            profile = tmp / "profile"
            profile.mkdir()
            with chromium(profile) as driver:
                page = Page(driver, world.url)
                page.open("/login")
                driver.save_screenshot(str(OUT / "login.png"))
                page.sign_in(world.token("dave", "admin"))
                driver.save_screenshot(str(OUT / "iprs.png"))
                page.open(f"/ipr/{ipr_id}")
                driver.save_screenshot(str(OUT / "ipr.png"))
                page.open("/locks")
                driver.save_screenshot(str(OUT / "locks.png"))
                page.open("/jobs?show=all")
                planned = next(row for row in page.all("#job-table tbody tr")
                               if "network" in row.text)  # the first pull request's plan
                planned.find_element(By.CSS_SELECTOR, "a").click()
                driver.save_screenshot(str(OUT / "job.png"))
    print(f"wrote {', '.join(sorted(p.name for p in OUT.glob('*.png')))} to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
