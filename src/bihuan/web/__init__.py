"""The web shell: server-rendered pages (Jinja2 + htmx), vendored assets and the zh-CN / en catalogs."""

from bihuan.web.i18n import SUPPORTED_LANGUAGES, get_translations, negotiate_language
from bihuan.web.static import mount_static
from bihuan.web.templating import render, request_language, request_translations

__all__ = [
    "SUPPORTED_LANGUAGES",
    "get_translations",
    "mount_static",
    "negotiate_language",
    "render",
    "request_language",
    "request_translations",
]
