"""Signs in as a person would, with the keyboard; retries a broadcast_failed order from the
exceptions inbox and sees it leave the inbox and its timeline gain the operator's entry; checks
that a viewer has no buttons and gets 403 posting anyway; reads the apps page (every shipped
version, the connections on each). Every page: no console error, under
150 KB with everything it loads, named form controls in the accessibility tree, and a
screenshot: in a scratch folder, or in docs/portal/ with PORTAL_SCREENSHOTS=docs (to retake
the README's pictures; a normal run leaves the checkout as it was)."""

import os
import re
import tempfile
import time
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from conftest import CHROMIUM, OPERATOR, ROOT, VIEWER

SHOTS = ROOT / "docs" / "portal" if os.environ.get("PORTAL_SCREENSHOTS") == "docs" else Path(tempfile.mkdtemp(prefix="portal-shots-"))
MAX_PAGE_BYTES = 150 * 1024
# Roles whose elements must carry an accessible name: an unnamed one shows as `- textbox` alone.
NAMED_ROLES = ("textbox", "combobox", "button", "link")


class Visit:
    """One browser page that records console errors and the bytes of every response."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, url):
        self.page.goto(url)
        return self.check()

    def weight(self):
        """The bytes of the document and of everything it loaded, as the browser counted them."""
        return self.page.evaluate(
            """() => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
                   .reduce((sum, e) => sum + e.decodedBodySize, 0)"""
        )

    def check(self):
        weight = self.weight()
        assert weight > 0, "nothing was loaded"
        assert weight < MAX_PAGE_BYTES, f"{self.page.url}: {weight} bytes"
        tree = self.page.locator("body").aria_snapshot()
        assert "- main" in tree, tree
        unnamed = [line for line in tree.splitlines() if re.fullmatch(rf"\s*- ({'|'.join(NAMED_ROLES)})( \[.*\])?:?", line)]
        assert not unnamed, f"{self.page.url}: controls without a name: {unnamed}"
        return tree

    def shoot(self, name):
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = SHOTS / f"{name}.png"
        self.page.screenshot(path=shot, full_page=True)
        assert shot.stat().st_size > 0, shot

    def sign_in_with_keyboard(self, base, account):
        self.open(f"{base}/console/")
        assert self.page.url.endswith("/console/sign-in")
        # Tab from the top: the skip link, then the name, then the password, then Enter.
        self.page.keyboard.press("Tab")
        self.page.keyboard.press("Tab")
        focused = self.page.evaluate("document.activeElement.id")
        if focused != "name":  # the field is autofocused: it is focused before any Tab
            self.page.focus("#name")
        assert self.page.evaluate("document.activeElement.labels[0].textContent") == "Account name"
        self.page.keyboard.type(account[0])
        self.page.keyboard.press("Tab")
        assert self.page.evaluate("document.activeElement.id") == "password"
        self.page.keyboard.type(account[1])
        self.page.keyboard.press("Enter")
        self.page.wait_for_url(re.compile(r".*/console/$"))
        self.check()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def test_an_operator_retries_a_broadcast_failed_order_and_a_viewer_cannot(served, browser):
    started = time.monotonic()
    base, key = served.base, served.key
    ana = Visit(browser)
    ana.open(f"{base}/console/sign-in")
    ana.shoot("sign-in")
    ana.sign_in_with_keyboard(base, OPERATOR)
    assert ana.page.get_by_role("heading", name="Overview").is_visible()
    ana.shoot("overview")

    ana.open(f"{base}/console/exceptions")
    row = ana.page.locator(f'tr[data-key="{key}"]')
    assert row.count() == 1, "the broadcast_failed order is in the inbox"
    assert "broadcast_failed" in row.inner_text()
    ana.shoot("exceptions")
    row.get_by_role("button", name=f"Retry order {served.number}").click()
    ana.page.wait_for_load_state()
    ana.check()
    assert "1 done" in ana.page.get_by_role("status").inner_text()
    ana.shoot("retry-outcome")

    ana.open(f"{base}/console/exceptions")
    assert ana.page.locator(f'tr[data-key="{key}"]').count() == 0, "the order left the inbox"
    ana.open(f"{base}/console/orders/{key}")
    timeline = ana.page.locator("#timeline").inner_text()
    assert "operator:ana" in timeline and "retry broadcast-dte" in timeline, timeline
    ana.shoot("order")
    ana.open(f"{base}/console/search?state=broadcast_dte")
    assert ana.page.get_by_role("link", name=served.number).count() == 1
    ana.shoot("search")
    ana.open(f"{base}/console/stats")
    assert ana.page.locator("svg[role=img]").count() == 4
    ana.shoot("stats")
    ana.open(f"{base}/console/apps")
    versions = ana.page.locator("tbody tr")
    assert versions.count() >= 8, "every shipped app version has a row"
    table = ana.page.locator("main table").inner_text()
    assert re.search(r"partner-rest\s+1\.0\.0\s+default", table) and re.search(r"2\.0\.0\s+active", table), table
    for connection in ("shopify", "woocommerce", "acme-partner", "business-central", "zephyrcart"):
        assert connection in table, f"{connection} is listed under its version"
    ana.shoot("apps")
    ana.open(f"{base}/console/exceptions?tab=resolved")
    assert "operator:ana" in ana.page.locator("main").inner_text()
    ana.shoot("exceptions-resolved")

    vic = Visit(browser)
    vic.sign_in_with_keyboard(base, VIEWER)
    vic.open(f"{base}/console/exceptions")
    assert vic.page.get_by_role("button", name=re.compile("Retry|Cancel|Redrive|Replay")).count() == 0
    vic.open(f"{base}/console/orders/{key}")
    assert vic.page.get_by_role("button", name=re.compile("Retry|Cancel")).count() == 0
    csrf = vic.page.locator('input[name="csrf"]').first.get_attribute("value")
    posted = vic.page.request.post(
        f"{base}/console/orders/{key}/cancel",
        form={"csrf": csrf, "action_id": "viewer-try", "seen": "broadcast_dte", "reason": "not mine to cancel"},
    )
    assert posted.status == 403

    vic.page.get_by_role("button", name="Sign out").click()
    vic.page.wait_for_url(re.compile(r".*/console/sign-in$"))
    vic.open(f"{base}/console/")
    assert vic.page.url.endswith("/console/sign-in"), "signed out means signed out"

    assert ana.errors == [] and vic.errors == [], ana.errors + vic.errors
    print(f"browser test ran in {time.monotonic() - started:.1f} s")
