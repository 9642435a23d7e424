"""Printable forms, rendered with WeasyPrint from HTML templates."""

from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML, URLFetcher

STATIC_DIR = Path(settings.BASE_DIR) / "static"


class LocalFilesFetcher(URLFetcher):
    """Fonts, styles and the site's logo come from this server's disk;
    nothing is fetched from the network."""

    def __init__(self):
        super().__init__(allowed_protocols={"file"})

    def fetch(self, url, headers=None):
        allowed = (STATIC_DIR.as_uri(), Path(settings.MEDIA_ROOT).as_uri())
        if not url.startswith(allowed):
            raise ValueError(f"Refusing to fetch {url}")
        return super().fetch(url, headers)


def render_pdf(template, context):
    html = render_to_string(template, context)
    return HTML(string=html, base_url=STATIC_DIR.as_uri() + "/",
                url_fetcher=LocalFilesFetcher()).write_pdf()
