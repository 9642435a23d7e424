import re
import statistics
import time
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from .factories import PASSWORD, make_parent

LOGIN = reverse("login")


def post_login(client, site, username, password=PASSWORD, **extra):
    return client.post(
        LOGIN, {"site": site.slug, "username": username, "password": password}, **extra
    )


def test_login_on_the_right_site_reaches_home(client, parent, combs):
    response = post_login(client, combs, "demo")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert home.context["user"] == parent
    assert "Martin" in home.text
    assert combs.name in home.text


def test_login_remembers_the_site_in_a_cookie(client, parent, combs, ploufragan):
    post_login(client, combs, "demo")
    assert client.cookies["extranet_site"].value == combs.slug
    assert client.cookies["extranet_site"]["httponly"]
    fresh = Client()
    fresh.cookies["extranet_site"] = combs.slug
    page = fresh.get(LOGIN)
    assert page.context["form"]["site"].value() == combs.slug


def test_single_active_site_is_preselected(client, combs):
    assert client.get(LOGIN).context["form"]["site"].value() == combs.slug


def test_same_identifiant_on_two_sites_opens_each_family(parent, other_parent, combs, ploufragan):
    for site, family in [(combs, parent.family), (ploufragan, other_parent.family)]:
        client = Client()
        post_login(client, site, "demo")
        assert client.get(reverse("home")).context["portal_family"] == family


def test_right_credentials_on_the_wrong_site_fail(client, parent, ploufragan):
    response = post_login(client, ploufragan, "demo")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert response.context["form"].errors["__all__"]


def test_inactive_site_is_not_offered_and_refused(client, parent, combs, ploufragan):
    ploufragan.is_active = False
    ploufragan.save()
    page = client.get(LOGIN)
    assert ploufragan.name not in page.text
    assert combs.name in page.text
    make_parent(ploufragan, username="closed", family_name="Closed")
    response = post_login(client, ploufragan, "closed")
    assert "_auth_user_id" not in client.session
    assert "site" in response.context["form"].errors


def test_account_of_a_closed_site_loses_its_session(parent, combs):
    client = Client()
    client.force_login(parent)
    combs.is_active = False
    combs.save()
    assert client.get(reverse("home")).status_code == 302


def test_inactive_account_gets_the_generic_message(client, parent, combs):
    parent.is_active = False
    parent.save()
    response = post_login(client, combs, "demo")
    assert "_auth_user_id" not in client.session
    assert response.context["form"].errors["__all__"][0].startswith(
        str(response.context["form"].invalid_login_message)[:20]
    )


def page_without_tokens(response):
    return re.sub(r'value="[^"]{32,}"', "", response.text)


def test_no_enumeration_same_page_for_unknown_identifiant(client, parent, combs):
    wrong_password = post_login(client, combs, "demo", "not-the-password-123")
    unknown = post_login(Client(), combs, "nobody-here", "not-the-password-123")
    assert wrong_password.status_code == unknown.status_code == 200
    assert page_without_tokens(wrong_password).replace("demo", "X") == page_without_tokens(
        unknown
    ).replace("nobody-here", "X")


def test_no_enumeration_similar_timing(parent, combs, settings):
    # Generous limits: this test measures time, not the throttle.
    settings.LOGIN_FAILURES_PER_ACCOUNT = "1000/m"
    settings.LOGIN_FAILURES_PER_ADDRESS = "1000/m"

    def median_duration(username):
        durations = []
        for _ in range(7):
            start = time.perf_counter()
            post_login(Client(), combs, username, "not-the-password-123")
            durations.append(time.perf_counter() - start)
        return statistics.median(durations)

    known, unknown = median_duration("demo"), median_duration("nobody-here")
    # Without the dummy hash an unknown identifiant answers several times faster.
    assert 0.5 < unknown / known < 2, (known, unknown)


def test_throttle_per_account_engages_and_releases(client, parent, combs):
    for _ in range(5):
        response = post_login(client, combs, "demo", "wrong-password-123")
        assert response.context["form"].errors["__all__"][0] != ""
    blocked = post_login(client, combs, "demo")  # even the right password
    assert "_auth_user_id" not in client.session
    message = blocked.context["form"].errors["__all__"][0]
    assert blocked.context["form"].has_error("__all__", code="throttled")
    assert re.search(r"\d+ min", message)
    with time_machine.travel(timedelta(minutes=16), tick=False):
        released = post_login(client, combs, "demo")
        assert released.status_code == 302


def test_throttle_per_account_is_per_site(client, parent, other_parent, combs, ploufragan):
    for _ in range(6):
        post_login(client, combs, "demo", "wrong-password-123")
    assert post_login(Client(), ploufragan, "demo").status_code == 302


def test_network_account_failures_count_across_sites(client, combs, ploufragan):
    from extranet.models import User

    User.objects.create_superuser("admin", "admin@example.org", PASSWORD)
    for site in [combs, ploufragan, combs, ploufragan, combs]:
        post_login(client, site, "admin", "wrong-password-123")
    blocked = post_login(Client(), ploufragan, "admin")
    assert blocked.context["form"].has_error("__all__", code="throttled")


def test_client_address_behind_a_proxy_is_the_last_forwarded_one(combs, parent, settings):
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.LOGIN_FAILURES_PER_ADDRESS = "3/15m"
    for n in range(3):
        # The client forges the first entries; the proxy appends the real one.
        forged = f"198.51.100.{n}, 203.0.113.9"
        post_login(Client(HTTP_X_FORWARDED_FOR=forged), combs, f"guess{n}", "wrong-password-123")
    blocked = post_login(Client(HTTP_X_FORWARDED_FOR="garbage, 203.0.113.9"), combs, "demo")
    assert blocked.status_code == 200
    assert blocked.context["form"].has_error("__all__", code="throttled")
    malformed = post_login(Client(HTTP_X_FORWARDED_FOR="not-an-address"), combs, "demo")
    assert malformed.status_code == 302


def test_throttle_per_client_address(combs, parent, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = "4/15m"
    client = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(4):
        post_login(client, combs, f"guess{n}", "wrong-password-123")
    blocked = post_login(client, combs, "demo")
    assert blocked.context["form"].has_error("__all__", code="throttled")
    other_address = Client(REMOTE_ADDR="203.0.113.8")
    assert post_login(other_address, combs, "demo").status_code == 302


@pytest.mark.parametrize(
    "data, field",
    [
        ({"site": "", "username": "demo", "password": PASSWORD}, "site"),
        ({"site": "no-such-site", "username": "demo", "password": PASSWORD}, "site"),
        ({"site": "combs-la-ville", "username": "", "password": PASSWORD}, "username"),
        ({"site": "combs-la-ville", "username": "demo", "password": ""}, "password"),
        ({"site": "combs-la-ville", "username": "x" * 151, "password": PASSWORD}, "username"),
        ({"site": "combs-la-ville", "username": "demo", "password": "p" * 5000}, "password"),
    ],
)
def test_bad_input_gets_a_french_message_next_to_the_field(client, parent, data, field):
    response = client.post(LOGIN, data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    error = response.context["form"].errors[field][0]
    assert re.search(r"[éèàçù]|Choisissez|Saisissez|caractères", error), error
    # The message stands next to its field, and the field points to it.
    assert f'id="id_{field}_error"' in response.text
    assert f'aria-describedby="id_{field}_error"' in response.text


def test_hostile_values_are_escaped(client, parent):
    response = client.post(
        LOGIN, {"site": "combs-la-ville", "username": "<script>alert(1)</script>", "password": "x"}
    )
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_open_redirect_is_refused(client, parent, combs):
    response = client.post(
        LOGIN + "?next=https://evil.example/",
        {"site": combs.slug, "username": "demo", "password": PASSWORD},
    )
    assert response["Location"] == reverse("home")


def test_login_form_requires_csrf(parent, combs):
    client = Client(enforce_csrf_checks=True)
    assert post_login(client, combs, "demo").status_code == 403


def test_logout_is_post_only(parent_client):
    assert parent_client.get(reverse("logout")).status_code == 405
    response = parent_client.post(reverse("logout"))
    assert response.status_code == 302
    assert parent_client.get(reverse("home")).status_code == 302


def test_network_administrator_signs_in_from_any_site_and_lands_in_admin(client, combs):
    from extranet.models import User

    User.objects.create_superuser("admin", "admin@example.org", PASSWORD)
    post_login(client, combs, "admin")
    assert client.get(reverse("home")).url == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200


def test_admin_login_goes_through_the_portal_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
