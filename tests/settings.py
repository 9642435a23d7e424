"""Test settings: the production settings with a test secret and plain HTTP
(the live server used by browser tests does not speak HTTPS)."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="extranet-media-"))
os.environ.setdefault("DOCUMENTS_ROOT", tempfile.mkdtemp(prefix="extranet-documents-"))

from extranet.settings import *  # noqa: E402, F403
from extranet.settings import PASSWORD_HASHERS, STORAGES  # noqa: E402

# The real hashers are slow on purpose; the suite hashes with a fast one first
# (the real ones stay after it, to verify their hashes). Tests about hashing or
# login timing put the real list back: see tests/hashing.py.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

# Static files are served from the source folders, without a collectstatic step.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The simulated bank, for the online payment tests (never in production:
# `check --deploy` refuses it).
PAYMENT_SIMULATOR = True
PAYMENT_ALLOW_TEST = True
