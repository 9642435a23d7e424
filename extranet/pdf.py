"""Printable forms, rendered with WeasyPrint from HTML templates."""

from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

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
        path = Path(url2pathname(unquote(urlsplit(url).path))).resolve()
        roots = [STATIC_DIR.resolve(), Path(settings.MEDIA_ROOT).resolve()]
        if urlsplit(url).scheme != "file" or not any(path.is_relative_to(r) for r in roots):
            raise ValueError(f"Refusing to fetch {url}")
        return super().fetch(path.as_uri(), headers)


def render_pdf(template, context):
    html = render_to_string(template, context)
    return HTML(
        string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=LocalFilesFetcher()
    ).write_pdf()


def logo_uri(site):
    """The site's logo as a file URI for the PDFs, or ''."""
    return Path(site.logo.path).as_uri() if site.logo else ""
