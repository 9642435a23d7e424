import io

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.test import Client
from django.urls import reverse

from extranet.models import Site, User
from families.models import Family


@pytest.fixture
def secretary_client(demo):
    client = Client()
    client.force_login(User.objects.get(username="secretariat-combs"))
    return client


def ploufragan_parent(demo):
    return User.objects.get(site=demo["ploufragan"], username="demo")


def test_secretary_lists_only_her_site_accounts(secretary_client, demo):
    page = secretary_client.get(reverse("admin:extranet_user_changelist"))
    assert page.status_code == 200
    shown = {user.pk for user in page.context["cl"].result_list}
    # The families' accounts and her own, never another staff member's.
    combs_accounts = set(
        User.objects.filter(site=demo["combs"])
        .filter(Q(is_staff=False) | Q(username="secretariat-combs"))
        .values_list("pk", flat=True)
    )
    assert shown == combs_accounts
    assert ploufragan_parent(demo).pk not in shown


def test_secretary_cannot_open_another_site_account(secretary_client, demo):
    url = reverse("admin:extranet_user_change", args=[ploufragan_parent(demo).pk])
    response = secretary_client.get(url)
    assert response.status_code == 302  # The admin's "does not exist" redirect.
    assert response["Location"] == reverse("admin:index")
    history = reverse("admin:extranet_user_history", args=[ploufragan_parent(demo).pk])
    assert secretary_client.get(history).status_code in (302, 404)


def test_secretary_cannot_open_another_site_family(secretary_client, demo):
    families = secretary_client.get(reverse("admin:families_family_changelist"))
    assert [f.name for f in families.context["cl"].result_list] == ["Martin"]
    le_goff = Family.objects.get(name="Le Goff")
    response = secretary_client.get(reverse("admin:families_family_change", args=[le_goff.pk]))
    assert response.status_code == 302


def test_secretary_sees_and_edits_only_her_site(secretary_client, demo):
    sites = secretary_client.get(reverse("admin:extranet_site_changelist"))
    assert [s.slug for s in sites.context["cl"].result_list] == ["combs-la-ville"]
    other = reverse("admin:extranet_site_change", args=[demo["ploufragan"].pk])
    assert secretary_client.get(other).status_code == 302
    assert secretary_client.get(reverse("admin:extranet_site_add")).status_code == 403


def test_secretary_cannot_create_an_account_on_another_site(secretary_client, demo):
    response = secretary_client.post(
        reverse("admin:extranet_user_add"),
        {
            "site": demo["ploufragan"].pk,
            "username": "intrus",
            "email": "intrus@example.org",
            "usable_password": "false",
        },
    )
    assert response.status_code == 200
    assert "site" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="intrus").exists()


def test_secretary_creates_a_parent_account_on_her_site(secretary_client, demo):
    martin = Family.objects.get(name="Martin")
    response = secretary_client.post(
        reverse("admin:extranet_user_add"),
        {
            "site": demo["combs"].pk,
            "username": "demo2",
            "family": martin.pk,
            "email": "demo2@example.org",
            "usable_password": "false",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    created = User.objects.get(username="demo2")
    assert created.site == demo["combs"] and not created.has_usable_password()


def test_same_identifiant_may_exist_on_another_site_but_not_twice_on_one(secretary_client, demo):
    response = secretary_client.post(
        reverse("admin:extranet_user_add"),
        {"site": demo["combs"].pk, "username": "demo", "usable_password": "false"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert User.objects.filter(username="demo").count() == 2  # One per site.


def test_secretary_cannot_grant_staff_rights(secretary_client, demo):
    parent = User.objects.get(site=demo["combs"], username="demo")
    url = reverse("admin:extranet_user_change", args=[parent.pk])
    page = secretary_client.get(url)
    form = page.context["adminform"].form
    assert "is_superuser" not in form.fields and "is_staff" not in form.fields
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update(
        {
            "site": demo["combs"].pk,
            "username": "demo",
            "is_staff": "on",
            "is_superuser": "on",
            "is_active": "on",
            "date_joined_0": "",
            "family": parent.family_id,
        }
    )
    secretary_client.post(url, data)
    parent.refresh_from_db()
    assert not parent.is_staff and not parent.is_superuser


def test_secretary_cannot_touch_other_staff_accounts(secretary_client, demo):
    colleague = User.objects.create_user(
        "directrice",
        password="Une-phrase-secrete-2026",
        site=demo["combs"],
        is_staff=True,
        is_superuser=True,
    )
    for name in ["admin:extranet_user_change", "admin:auth_user_password_change"]:
        url = reverse(name, args=[colleague.pk])
        assert secretary_client.get(url).status_code in (302, 404), name
    response = secretary_client.post(
        reverse("admin:auth_user_password_change", args=[colleague.pk]),
        {
            "password1": "Pirate-phrase-2026-x",
            "password2": "Pirate-phrase-2026-x",
            "usable_password": "true",
        },
    )
    assert response.status_code in (302, 404)
    colleague.refresh_from_db()
    assert colleague.check_password("Une-phrase-secrete-2026")
    listed = secretary_client.get(reverse("admin:extranet_user_changelist")).context["cl"]
    assert colleague not in listed.result_list


def test_account_cannot_belong_to_another_site_family(demo):
    from django.core.exceptions import ValidationError

    account = User.objects.get(site=demo["combs"], username="demo")
    account.family = Family.objects.get(name="Le Goff")
    with pytest.raises(ValidationError):
        account.full_clean()


def test_secretary_leaving_the_site_blank_gets_a_message(secretary_client, demo):
    response = secretary_client.post(
        reverse("admin:extranet_user_add"),
        {"site": "", "username": "demo", "usable_password": "false"},
    )
    assert response.status_code == 200
    assert "site" in response.context["adminform"].form.errors


def test_demo_data_refuses_to_load_in_production(db, settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("load_demo_data", stdout=io.StringIO())


def test_network_administrator_sees_every_site(demo):
    client = Client()
    client.force_login(User.objects.get(username="admin", site=None))
    page = client.get(reverse("admin:extranet_user_changelist"))
    assert {u.site_id for u in page.context["cl"].result_list} >= {
        demo["combs"].pk,
        demo["ploufragan"].pk,
    }


def test_parent_cannot_enter_the_admin(demo):
    client = Client()
    client.force_login(User.objects.get(site=demo["combs"], username="demo"))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_demo_data_is_idempotent(demo):
    def snapshot():
        return (
            # The content version counts writes, not changes.
            [
                {k: v for k, v in row.items() if k != "content_version"}
                for row in Site.objects.order_by("pk").values()
            ],
            list(User.objects.order_by("pk").values()),
            list(Family.objects.order_by("pk").values("pk", "name", "site_id")),
        )

    before = snapshot()
    call_command("load_demo_data", "--force", stdout=io.StringIO())
    assert snapshot() == before


def test_demo_logins(demo, client):
    from extranet.demo import DEMO_PASSWORD

    for slug in ["combs-la-ville", "ploufragan"]:
        c = Client()
        response = c.post(
            reverse("login"), {"site": slug, "username": "demo", "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302
        assert c.get(reverse("home")).context["portal_site"].slug == slug
    secretary = Client()
    secretary.post(
        reverse("login"),
        {"site": "combs-la-ville", "username": "secretariat-combs", "password": DEMO_PASSWORD},
    )
    assert secretary.get(reverse("admin:index")).status_code == 200
    # The Combs secretary cannot sign in on Ploufragan.
    refused = Client().post(
        reverse("login"),
        {"site": "ploufragan", "username": "secretariat-combs", "password": DEMO_PASSWORD},
    )
    assert refused.status_code == 200
