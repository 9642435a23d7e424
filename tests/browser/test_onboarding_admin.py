"""The secretariat opens a family's account without a password, then sends the
first-connection link and prints the letter from the account's page, with the
keyboard; what the project adds to the admin's pages passes axe-core."""

import pytest
from playwright.sync_api import Page, expect

from tests import factories

from .conftest import AXE, WCAG_TAGS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def axe_violations_in(page, *selectors):
    """axe-core on the parts the project adds (the admin's own markup aside)."""
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        """([include, tags]) => axe.run(
            {include: include.map(s => [s])}, {runOnly: {type: 'tag', values: tags}})""",
        [list(selectors), WCAG_TAGS],
    )
    return [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]


def test_the_secretary_opens_an_account_and_sends_its_link(page: Page, live_server, combs):
    from extranet.models import User
    from families.models import Family

    secretary = factories.staff(combs, ["view_user", "add_user", "change_user"])
    secretary.set_password(factories.PASSWORD)
    secretary.save()
    family = Family.objects.create(
        site=combs, name="Dupont", reference_email="famille.dupont@example.org"
    )
    factories.payer(family)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url, username="secretariat")

    page.goto(f"{live_server.url}/admin/extranet/user/add/")
    expect(page.get_by_text("Aucun mot de passe à choisir")).to_be_visible()
    expect(page.get_by_label("Mot de passe")).to_have_count(0)
    page.get_by_label("Identifiant").fill("dupont")
    page.locator("#id_email").fill("famille.dupont@example.org")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("n’a pas de mot de passe")
    account = User.objects.get(site=combs, username="dupont")
    assert not account.has_usable_password()

    send = page.get_by_role("button", name="Envoyer le lien de première connexion")
    letter = page.get_by_role("button", name="Imprimer la lettre")
    expect(send).to_be_visible()
    expect(letter).to_be_visible()
    assert axe_violations_in(page, ".object-tools", ".messagelist") == []
    send.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".messagelist")).to_contain_text("1 e-mail de première connexion")
    account.refresh_from_db()
    assert account.invited_at is not None
    assert axe_violations_in(page, ".object-tools", ".messagelist") == []

    with page.expect_download() as download:
        page.get_by_role("button", name="Imprimer la lettre").click()
    assert download.value.suggested_filename == "lettres-premiere-connexion.pdf"
