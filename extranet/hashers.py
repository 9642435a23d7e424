"""Password hashing."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class OWASPArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with the OWASP parameters (19 MiB, 2 passes, 1 lane).

    Django's defaults (100 MiB, 8 lanes) cost so much that a two-core server
    signs in about seven people a second, so a burst of logins, honest or
    not, queues every request behind it. The algorithm name stays "argon2":
    hashes made with other parameters still verify, and Django rehashes them
    with these at the next successful sign-in (must_update compares them).
    """

    memory_cost = 19 * 1024
    time_cost = 2
    parallelism = 1
