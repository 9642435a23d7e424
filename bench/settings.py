"""The portal's production settings for the page benchmark (bench/pages.py): its URLs plus
the yardsticks (bench/urls.py), and each response telling how many queries it made."""

from extranet.settings import *  # noqa: F403
from extranet.settings import MIDDLEWARE

ROOT_URLCONF = "bench.urls"
# First, so that the session and the user's queries count too.
MIDDLEWARE = ["bench.middleware.query_count", *MIDDLEWARE]
