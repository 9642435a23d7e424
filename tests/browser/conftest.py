import os
import shutil
from pathlib import Path

import pytest

from tests.factories import make_parent

# Playwright's sync API runs an event loop in the test thread; the live
# server's database access from that thread is safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium, never a downloaded browser. A missing browser is an
    # error, not a skip.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def portal(live_server, combs, ploufragan):
    """The demo parent of Combs-la-Ville, served by a live server."""
    make_parent(combs)
    make_parent(ploufragan, family_name="Le Goff")
    return live_server.url


def axe_violations(page):
    assert AXE.exists(), f"axe-core missing: {AXE} (run `npm ci`)"
    # Evaluated through the DevTools protocol, which the page's CSP (rightly)
    # does not let an injected <script> tag do.
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        (violation["id"], violation["help"], [node["target"] for node in violation["nodes"]])
        for violation in result["violations"]
    ]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A French parent's browser (the portal follows Accept-Language).
    # Without transitions, axe-core reads colours as they settle, not halfway.
    return {**browser_context_args, "locale": "fr-FR", "reduced_motion": "reduce"}


def sign_in(page, url, site="Conservatoire Maurice Ohana – Combs-la-Ville", username="demo"):
    from tests.factories import PASSWORD

    page.goto(f"{url}/connexion/")
    page.get_by_label("Site").select_option(label=site)
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def page_width(page):
    """The page's full width once its styles are applied."""
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth")


def tab(page, name, role="link"):
    """Go to a tab (or sign out) as a parent would: on a phone the tabs are
    behind the Menu button, opened first."""
    # The menu is collapsed by a deferred script: once it has run.
    page.wait_for_load_state("domcontentloaded")
    toggle = page.get_by_role("button", name="Menu")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    page.get_by_role(role, name=name, exact=True).click()
