"""A staff member who works for several sites switches between them in the
administration's header; everything she sees and saves follows the site
chosen, and nothing of the others."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from extranet.admin_scoping import CHOSEN_SITE_KEY
from extranet.models import Site, User
from families.models import Family, FamilyDocument
from workspace import roles

from . import factories
from .test_html_valid import validate

pytestmark = pytest.mark.django_db

SWITCH = reverse("admin:switch_site")
FAMILIES = reverse("admin:families_family_changelist")


@pytest.fixture
def third(db):
    return Site.objects.create(name="École de musique de Lieusaint", slug="lieusaint")


@pytest.fixture
def travelling(combs, ploufragan):
    """A secretary of Combs-la-Ville who also works for Ploufragan."""
    user = factories.member(combs, roles.SECRETARIAT, roles.CASH_OFFICE)
    user.other_sites.add(ploufragan)
    return user


@pytest.fixture
def client(travelling):
    return factories.signed_in(travelling)


@pytest.fixture
def families(combs, ploufragan, third):
    return {
        site.slug: factories.make_parent(site, username=f"p-{site.slug}", family_name=name).family
        for site, name in [(combs, "Martin"), (ploufragan, "Le Goff"), (third, "Durand")]
    }


def listed(client, url=FAMILIES):
    page = client.get(url)
    assert page.status_code == 200
    return [obj.name for obj in page.context["cl"].result_list]


def test_she_works_for_her_own_site_first(client, families):
    assert listed(client) == ["Martin"]
    page = client.get(reverse("admin:index"))
    assert page.context["staff_site_id"] == families["combs-la-ville"].site_id
    assert page.context["today_site"].slug == "combs-la-ville"


def test_she_switches_to_her_other_site(client, families, ploufragan):
    response = client.post(SWITCH, {"site": ploufragan.pk})
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    page = client.get(response["Location"])
    assert "Vous travaillez maintenant pour Centre culturel de Ploufragan." in page.text
    assert page.context["today_site"] == ploufragan
    assert listed(client) == ["Le Goff"]
    # Combs-la-Ville's family is now out of reach, as any other site's.
    martin = families["combs-la-ville"]
    change = client.get(reverse("admin:families_family_change", args=[martin.pk]))
    assert change.status_code == 302 and change["Location"] == reverse("admin:index")
    history = client.get(reverse("admin:families_family_history", args=[martin.pk]))
    assert history.status_code == 404
    le_goff = families["ploufragan"]
    assert client.get(reverse("admin:families_family_change", args=[le_goff.pk])).status_code == 200
    # And back.
    client.post(SWITCH, {"site": martin.site_id})
    assert listed(client) == ["Martin"]


def test_a_document_of_the_other_site_is_not_found(client, families, ploufragan, combs):
    kind = factories.DocumentKind.objects.create(site=combs, name="Justificatif")
    document = FamilyDocument.objects.create(
        family=families["combs-la-ville"],
        kind=kind,
        file="x.pdf",
        original_name="x.pdf",
        content_type="application/pdf",
        size=1,
    )
    client.post(SWITCH, {"site": ploufragan.pk})
    url = reverse("admin:families_familydocument_file", args=[document.pk])
    assert client.get(url).status_code == 404


def test_what_she_adds_goes_to_the_site_chosen(client, families, ploufragan, combs):
    client.post(SWITCH, {"site": ploufragan.pk})
    form = client.get(reverse("admin:families_family_add")).context["adminform"].form
    assert list(form.fields["site"].queryset) == [ploufragan]
    data = {
        "site": combs.pk,  # Not the site she works for now: refused.
        "name": "Nouvelle",
        "reference_email": "",
        "reference_mobile": "",
        "external_ref": "",
        "guardians-TOTAL_FORMS": "0",
        "guardians-INITIAL_FORMS": "0",
        "guardians-MIN_NUM_FORMS": "0",
        "guardians-MAX_NUM_FORMS": "1000",
        "documents-TOTAL_FORMS": "0",
        "documents-INITIAL_FORMS": "0",
        "documents-MIN_NUM_FORMS": "0",
        "documents-MAX_NUM_FORMS": "0",
    }
    add = reverse("admin:families_family_add")
    assert client.post(add, data).status_code == 200
    assert client.post(add, {**data, "site": ploufragan.pk}).status_code == 302
    assert Family.objects.get(name="Nouvelle").site == ploufragan


@pytest.mark.parametrize("value", ["third", "", "abc", "-1", "9" * 30, "<script>"])
def test_she_cannot_switch_to_a_site_not_hers(client, families, third, value):
    chosen = str(third.pk) if value == "third" else value
    assert client.post(SWITCH, {"site": chosen}).status_code == 403
    assert listed(client) == ["Martin"]
    assert CHOSEN_SITE_KEY not in client.session


def test_a_site_taken_off_her_list_is_left_at_once(client, travelling, families, ploufragan):
    client.post(SWITCH, {"site": ploufragan.pk})
    travelling.other_sites.clear()
    assert listed(client) == ["Martin"]


def test_a_tampered_session_gives_no_other_site(client, families, third):
    session = client.session
    session[CHOSEN_SITE_KEY] = third.pk
    session.save()
    assert listed(client) == ["Martin"]


def test_switching_is_a_post_with_its_token(travelling, ploufragan):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(travelling)
    assert strict.post(SWITCH, {"site": ploufragan.pk}).status_code == 403
    assert CHOSEN_SITE_KEY not in strict.session
    client = factories.signed_in(travelling)
    assert client.get(SWITCH, {"site": ploufragan.pk}).status_code == 405


def test_the_switcher_is_shown_to_staff_with_other_sites_only(client, combs, ploufragan):
    page = client.get(FAMILIES).text
    assert 'action="/admin/etablissement/"' in page
    assert f'<option value="{combs.pk}" selected>' in page
    assert f'<option value="{ploufragan.pk}">{ploufragan.name}</option>' in page
    single = factories.signed_in(factories.member(combs, roles.SECRETARIAT, username="seule"))
    assert 'action="/admin/etablissement/"' not in single.get(FAMILIES).text
    assert single.post(SWITCH, {"site": combs.pk}).status_code == 403
    network = factories.signed_in(
        User.objects.create_superuser(username="reseau", password="x" * 16, site=None)
    )
    assert 'action="/admin/etablissement/"' not in network.get(FAMILIES).text


def test_a_network_administrator_keeps_every_site(families):
    network = factories.signed_in(
        User.objects.create_superuser(username="reseau", password="x" * 16, site=None)
    )
    assert sorted(listed(network)) == ["Durand", "Le Goff", "Martin"]


def test_a_parent_cannot_switch(families, ploufragan):
    parent = factories.signed_in(User.objects.get(username="p-combs-la-ville"))
    response = parent.post(SWITCH, {"site": ploufragan.pk})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_no_query_for_staff_of_one_site(combs, families):
    single = factories.signed_in(factories.member(combs, roles.SECRETARIAT, username="seule"))
    travelling = factories.member(combs, roles.SECRETARIAT, username="deux")
    travelling.other_sites.add(families["ploufragan"].site)
    both = factories.signed_in(travelling)
    with CaptureQueriesContext(connection) as one:
        single.get(FAMILIES)
    with CaptureQueriesContext(connection) as two:
        both.get(FAMILIES)
    # The switcher's list of sites, for her only.
    assert len(two) == len(one) + 1


def test_the_header_is_valid_html(client, tmp_path):
    assert validate({"families": client.get(FAMILIES).text}, tmp_path) == []


def test_a_network_administrator_gives_a_secretary_her_other_sites(travelling, ploufragan, third):
    network = factories.signed_in(
        User.objects.create_superuser(username="reseau", password="x" * 16, site=None)
    )
    url = reverse("admin:extranet_user_change", args=[travelling.pk])
    page = network.get(url)
    assert page.status_code == 200 and 'name="other_sites"' in page.text
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(other_sites=[ploufragan.pk, third.pk], groups=data.get("groups", []))
    data.pop("password", None)
    response = network.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert set(travelling.other_sites.all()) == {ploufragan, third}


def test_a_secretary_reads_her_other_sites_but_cannot_change_them(client, travelling):
    page = client.get(reverse("admin:extranet_user_change", args=[travelling.pk]))
    assert page.status_code == 200
    assert 'name="other_sites"' not in page.text and "Centre culturel de Ploufragan" in page.text
