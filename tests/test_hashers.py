"""Password hashing: Argon2id with the OWASP parameters, old hashes upgraded.

The suite hashes with a fast hasher; these tests put the production list back."""

from django.contrib.auth.hashers import Argon2PasswordHasher
from django.test import Client
from django.urls import reverse

from extranet.hashers import OWASPArgon2PasswordHasher

from .conftest import PASSWORD
from .hashing import use_real_hashers

OWASP = (19456, 2, 1)  # memory in KiB, passes, lanes


def argon2_parameters(encoded):
    params = Argon2PasswordHasher().decode(encoded)["params"]
    return params.memory_cost, params.time_cost, params.parallelism


def test_suite_hashes_fast_and_production_with_owasp_argon2(parent, settings):
    assert parent.password.startswith("md5$")
    use_real_hashers(settings)
    assert settings.PASSWORD_HASHERS[0] == "extranet.hashers.OWASPArgon2PasswordHasher"


def test_new_password_is_hashed_with_argon2id_and_the_owasp_parameters(parent, settings):
    use_real_hashers(settings)
    parent.set_password("Une-phrase-secrete-2026")
    parent.save()
    parent.refresh_from_db()
    assert parent.password.startswith("argon2$argon2id$")
    assert argon2_parameters(parent.password) == OWASP
    assert parent.check_password("Une-phrase-secrete-2026")
    assert not parent.check_password(PASSWORD)


def test_hash_with_django_defaults_signs_in_and_is_upgraded(parent, combs, settings):
    use_real_hashers(settings)
    old = Argon2PasswordHasher()
    parent.password = old.encode(PASSWORD, old.salt())
    parent.save()
    old_parameters = argon2_parameters(parent.password)
    assert old_parameters == (102400, 2, 8) != OWASP
    client = Client()
    response = client.post(
        reverse("login"), {"site": combs.slug, "username": "demo", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(parent.pk)
    parent.refresh_from_db()
    assert argon2_parameters(parent.password) == OWASP
    assert parent.check_password(PASSWORD)


def test_wrong_password_leaves_an_old_hash_alone(parent, combs, settings):
    use_real_hashers(settings)
    old = Argon2PasswordHasher()
    parent.password = old_hash = old.encode(PASSWORD, old.salt())
    parent.save()
    Client().post(
        reverse("login"), {"site": combs.slug, "username": "demo", "password": "wrong-1234567"}
    )
    parent.refresh_from_db()
    assert parent.password == old_hash
    assert OWASPArgon2PasswordHasher().must_update(old_hash)
