"""Printable forms, rendered with WeasyPrint from HTML templates."""

import base64
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML, URLFetcher

STATIC_DIR = Path(settings.BASE_DIR) / "static"


class LocalFilesFetcher(URLFetcher):
    """Fonts and styles come from this server's static files, the site's
    logo is given inline (a data: URI); nothing is fetched from the network."""

    def __init__(self):
        super().__init__(allowed_protocols={"file", "data"})

    def fetch(self, url, headers=None):
        if urlsplit(url).scheme == "data":
            return super().fetch(url, headers)
        path = Path(url2pathname(unquote(urlsplit(url).path))).resolve()
        if urlsplit(url).scheme != "file" or not path.is_relative_to(STATIC_DIR.resolve()):
            raise ValueError(f"Refusing to fetch {url}")
        return super().fetch(path.as_uri(), headers)


def render_pdf(template, context):
    html = render_to_string(template, context)
    return HTML(
        string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=LocalFilesFetcher()
    ).write_pdf()


def logo_uri(site):
    """The site's logo for the PDFs, or '': read from storage (which may be
    an object storage, without local path) and given inline."""
    if not site.logo:
        return ""
    content_type = mimetypes.guess_type(site.logo.name)[0] or "application/octet-stream"
    with site.logo.open("rb") as logo:
        data = base64.b64encode(logo.read()).decode("ascii")
    return f"data:{content_type};base64,{data}"
