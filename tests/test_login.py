import re
import statistics
import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from .factories import PASSWORD, make_parent
from .hashing import use_real_hashers
from .html_fields import assert_error_next_to_field

LOGIN = reverse("login")
START = "2026-10-05 09:00 +0200"


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
    assert (
        response.context["form"]
        .errors["__all__"][0]
        .startswith(str(response.context["form"].invalid_login_message)[:20])
    )


def page_without_tokens(response):
    return re.sub(r'value="[^"]{32,}"', "", response.text)


@pytest.fixture
def behind_proxy(settings):
    """Clients told apart by the address the proxy adds (see from_address)."""
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    return settings


def from_address(address):
    return Client(HTTP_X_FORWARDED_FOR=address)


def throttled(response):
    return response.status_code == 200 and response.context["form"].has_error(
        "__all__", code="throttled"
    )


def test_no_enumeration_same_page_for_unknown_identifiant(client, parent, combs):
    wrong_password = post_login(client, combs, "demo", "not-the-password-123")
    unknown = post_login(Client(), combs, "nobody-here", "not-the-password-123")
    assert wrong_password.status_code == unknown.status_code == 200
    assert page_without_tokens(wrong_password).replace("demo", "X") == page_without_tokens(
        unknown
    ).replace("nobody-here", "X")


def test_no_enumeration_similar_timing(parent, combs, settings):
    # The production hashers: the timing of the suite's fast one proves nothing.
    use_real_hashers(settings)
    parent.set_password(PASSWORD)
    parent.save()
    # Generous limits: this test measures time, not the throttle.
    settings.LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS = "1000/m"
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


def test_throttle_per_account_and_address_engages_and_releases(client, parent, combs):
    for _ in range(5):
        response = post_login(client, combs, "demo", "wrong-password-123")
        assert response.context["form"].errors["__all__"][0] != ""
    blocked = post_login(client, combs, "demo")  # even the right password
    assert "_auth_user_id" not in client.session
    message = blocked.context["form"].errors["__all__"][0]
    assert blocked.context["form"].has_error("__all__", code="throttled")
    # The window ends at a moment that depends on the counter's key: the wait may be
    # under a minute, then said in seconds.
    assert re.search(r"dans \d+ (minutes?|secondes?)\.", message), message
    with time_machine.travel(timedelta(minutes=16), tick=False):
        released = post_login(client, combs, "demo")
        assert released.status_code == 302


def test_throttle_per_account_is_per_site(client, parent, other_parent, combs, ploufragan):
    for _ in range(6):
        post_login(client, combs, "demo", "wrong-password-123")
    assert post_login(Client(), ploufragan, "demo").status_code == 302


def test_network_account_failures_count_across_sites(combs, ploufragan, behind_proxy):
    from extranet.models import User

    User.objects.create_superuser("admin", "admin@example.org", PASSWORD)
    attacker = from_address("203.0.113.66")
    for site in [combs, ploufragan, combs, ploufragan, combs]:
        post_login(attacker, site, "admin", "wrong-password-123")
    assert throttled(post_login(from_address("203.0.113.66"), ploufragan, "admin"))
    # Only from there: the network administrator still signs in from the office.
    assert post_login(from_address("198.51.100.20"), combs, "admin").status_code == 302


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
    assert_error_next_to_field(response.text, field)


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


# Failures lock an account from the address they come from only; from many
# addresses they slow it down, and its holder is told.


@time_machine.travel(START, tick=False)
def test_failures_from_elsewhere_do_not_lock_the_parent_out(parent, combs, behind_proxy):
    attacker = from_address("203.0.113.66")
    for _ in range(5):
        post_login(attacker, combs, "demo", "wrong-password-123")
    assert throttled(post_login(attacker, combs, "demo"))  # even the right password
    assert post_login(from_address("198.51.100.7"), combs, "demo").status_code == 302
    # Renewed after a while, the attack still keeps only the attacker out.
    with time_machine.travel(timedelta(minutes=16), tick=False):
        for _ in range(5):
            post_login(attacker, combs, "demo", "wrong-password-123")
        assert throttled(post_login(attacker, combs, "demo"))
        assert post_login(from_address("198.51.100.7"), combs, "demo").status_code == 302


def wait_in_message(response):
    return re.search(r"dans (\d+ \w+)", response.context["form"].errors["__all__"][0]).group(1)


def test_guessing_from_many_addresses_slows_the_account_down(parent, combs, behind_proxy):
    behind_proxy.LOGIN_FAILURES_PER_ACCOUNT = "3/d"
    expected = [
        "1 seconde",
        "2 secondes",
        "4 secondes",
        "8 secondes",
        "16 secondes",
        "32 secondes",
        "2 minutes",
        "3 minutes",
        "5 minutes",
        "9 minutes",
        "15 minutes",
        "15 minutes",
    ]
    waits = []
    with time_machine.travel(START, tick=False) as traveller:
        for n in range(3 + len(expected)):
            failed = post_login(from_address(f"203.0.113.{n}"), combs, "demo", "wrong-password")
            assert failed.context["form"].has_error("__all__", code="invalid_login")
            if n < 3:
                continue
            # Even the right password waits, from an address never seen.
            blocked = post_login(from_address(f"198.51.100.{n}"), combs, "demo")
            assert throttled(blocked)
            waits.append(wait_in_message(blocked))
            delay = min(2 ** (n - 3), 15 * 60)
            traveller.shift(delay - 1)
            assert throttled(post_login(from_address("192.0.2.1"), combs, "demo"))
            traveller.shift(1)
        assert post_login(from_address("192.0.2.1"), combs, "demo").status_code == 302
    assert waits == expected


@time_machine.travel(START, tick=False)
def test_the_usual_address_of_the_parent_is_not_slowed_down(parent, combs, behind_proxy):
    behind_proxy.LOGIN_FAILURES_PER_ACCOUNT = "3/d"
    assert post_login(from_address("198.51.100.7"), combs, "demo").status_code == 302
    for n in range(4):
        post_login(from_address(f"203.0.113.{n}"), combs, "demo", "wrong-password-123")
    assert throttled(post_login(from_address("192.0.2.1"), combs, "demo"))
    home = from_address("198.51.100.7")
    assert post_login(home, combs, "demo").status_code == 302
    assert home.session["_auth_user_id"] == str(parent.pk)


def answers(site, username, addresses):
    """What the sign-in page says to a run of wrong passwords, one a second."""
    said = []
    with time_machine.travel(START, tick=False) as traveller:
        for address in addresses:
            response = post_login(from_address(address), site, username, "wrong-password")
            said.append(response.context["form"].errors["__all__"].as_text())
            traveller.shift(1)
    return said


def test_unknown_identifiant_gets_the_same_answers(parent, combs, behind_proxy):
    behind_proxy.LOGIN_FAILURES_PER_ACCOUNT = "3/d"
    addresses = [f"203.0.113.{n}" for n in range(12)]
    known = answers(combs, "demo", addresses)
    # One a second: wrong, wrong, wrong, wrong (1 s to wait), wrong (2 s),
    # 1 s left, wrong (4 s), 3 s, 2 s, 1 s left, wrong (8 s), 7 s left.
    said = [re.search(r"dans (\d+ \w+)|incorrect", answer).group(1) for answer in known]
    assert said == [None] * 5 + [
        "1 seconde",
        None,
        "3 secondes",
        "2 secondes",
        "1 seconde",
        None,
        "7 secondes",
    ]
    assert answers(combs, "nobody-here", addresses) == known


def fail_from_new_addresses(site, username, count, traveller, first=0):
    for n in range(first, first + count):
        post_login(from_address(f"203.0.113.{n}"), site, username, "wrong-password-123")
        traveller.shift(60)  # beyond any wait, so that every failure counts


@pytest.mark.django_db(transaction=True)
def test_the_account_holder_is_told_once_per_window(parent, combs, behind_proxy, run_worker):
    behind_proxy.LOGIN_FAILURES_PER_ACCOUNT = "3/h"
    with time_machine.travel(START, tick=False) as traveller:
        fail_from_new_addresses(combs, "demo", 3, traveller)
        run_worker()
        assert mail.outbox == []
        fail_from_new_addresses(combs, "demo", 1, traveller, first=3)
        assert DBTaskResult.objects.count() == 1  # queued, not sent by the request
        assert mail.outbox == []
        run_worker()
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == [parent.email]
        assert message.reply_to == [combs.email]
        assert message.subject == (
            f"{combs.name} – tentatives de connexion échouées sur votre compte"
        )
        assert "De nombreuses tentatives de connexion à votre compte" in message.body
        assert "Votre identifiant\u00a0: demo" in message.body
        assert "http://testserver/mot-de-passe-perdu/" in message.body
        assert "wrong-password-123" not in message.body
        html, mimetype = message.alternatives[0]
        assert mimetype == "text/html" and "mot de passe erroné" in html
        assert 'href="http://testserver/mot-de-passe-perdu/"' in html
        # More failures in the same window: no more e-mails.
        fail_from_new_addresses(combs, "demo", 5, traveller, first=4)
        run_worker()
        assert len(mail.outbox) == 1
        # The next window: told again.
        traveller.shift(3600)
        fail_from_new_addresses(combs, "demo", 4, traveller, first=9)
        run_worker()
        assert len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_unknown_identifiant_is_queued_alike_and_mails_nobody(
    parent, combs, behind_proxy, run_worker
):
    behind_proxy.LOGIN_FAILURES_PER_ACCOUNT = "3/h"
    with time_machine.travel(START, tick=False) as traveller:
        fail_from_new_addresses(combs, "nobody-here", 4, traveller)
        assert DBTaskResult.objects.count() == 1
        run_worker()
    assert mail.outbox == []
    assert DBTaskResult.objects.get().return_value == "no account"


@pytest.mark.django_db(transaction=True)
def test_network_administrator_is_told_with_the_site_tried(combs, behind_proxy, run_worker):
    from extranet.models import User

    User.objects.create_superuser("admin", "admin@example.org", PASSWORD)
    behind_proxy.LOGIN_FAILURES_PER_ACCOUNT = "3/h"
    with time_machine.travel(START, tick=False) as traveller:
        fail_from_new_addresses(combs, "admin", 4, traveller)
        run_worker()
    assert [m.to for m in mail.outbox] == [["admin@example.org"]]
    assert combs.name in mail.outbox[0].subject
