"""The web shell ships every asset it links: vendored libraries checked against their README, no CDN."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

import bihuan.web

WEB_DIR = Path(bihuan.web.__file__).parent
STATIC_DIR = WEB_DIR / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
TEMPLATES_DIR = WEB_DIR / "templates"

VENDORED_FILES = [
    "htmx/htmx.min.js",
    "htmx/LICENSE",
    "echarts/echarts.min.js",
    "echarts/LICENSE",
    "echarts/NOTICE",
    "leaflet/leaflet.js",
    "leaflet/leaflet.css",
    "leaflet/LICENSE",
    "leaflet/images/layers.png",
    "leaflet/images/layers-2x.png",
    "leaflet/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png",
]

# (README name, directory, minified file, how the file states its own version)
LIBRARIES = [
    ("htmx.org", "htmx", "htmx.min.js", r'version:"([\d.]+)"'),
    ("echarts", "echarts", "echarts.min.js", r'\.version="([\d.]+)"'),
    ("leaflet", "leaflet", "leaflet.js", r'\.version="([\d.]+)"'),
]

# A <script src> or <link href> pointing off the server: http://, https:// or protocol-relative //.
EXTERNAL_ASSET = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", re.I)


def readme_text() -> str:
    return (VENDOR_DIR / "README.md").read_text(encoding="utf-8")


def readme_checksums() -> dict[str, str]:
    return dict((path, digest) for digest, path in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme_text(), flags=re.M))


@pytest.mark.parametrize("relative_path", VENDORED_FILES)
def test_vendored_file_is_shipped_and_not_empty(relative_path: str) -> None:
    path = VENDOR_DIR / relative_path
    assert path.is_file(), f"missing vendored file {relative_path}"
    assert path.stat().st_size > 0


def test_every_vendored_file_matches_the_checksum_in_the_readme() -> None:
    checksums = readme_checksums()
    shipped = {
        path.relative_to(VENDOR_DIR).as_posix()
        for path in VENDOR_DIR.rglob("*")
        if path.is_file() and path.name != "README.md"
    }
    assert set(checksums) == shipped, "README checksums and vendored files differ"
    for relative_path, digest in checksums.items():
        actual = hashlib.sha256((VENDOR_DIR / relative_path).read_bytes()).hexdigest()
        assert actual == digest, f"{relative_path} changed since it was vendored"


@pytest.mark.parametrize(("name", "directory", "filename", "version_pattern"), LIBRARIES)
def test_readme_names_the_version_the_vendored_file_really_is(
    name: str, directory: str, filename: str, version_pattern: str
) -> None:
    source = (VENDOR_DIR / directory / filename).read_text(encoding="utf-8")
    found = re.search(version_pattern, source)
    assert found, f"no version string in {filename}"
    row = re.search(rf"^\| {re.escape(name)} \| ([\d.]+) \| ([^|]+) \|", readme_text(), flags=re.M)
    assert row, f"{name} is not listed in vendor/README.md"
    assert row.group(1) == found.group(1)
    assert row.group(2).strip(), f"{name} has no licence in the README"
    assert (VENDOR_DIR / directory / "LICENSE").is_file()


def test_major_versions_are_the_chosen_ones() -> None:
    versions = dict(re.findall(r"^\| (\S+) \| ([\d.]+) \|", readme_text(), flags=re.M))
    assert versions["htmx.org"].startswith("2.")
    assert versions["echarts"].startswith("5.")
    assert versions["leaflet"].startswith("1.9.")


@pytest.mark.parametrize("template", sorted(TEMPLATES_DIR.rglob("*.html")), ids=lambda path: path.name)
def test_template_loads_no_script_or_stylesheet_from_another_server(template: Path) -> None:
    assert not EXTERNAL_ASSET.search(template.read_text(encoding="utf-8"))


def test_external_asset_pattern_catches_cdn_links() -> None:
    assert EXTERNAL_ASSET.search('<script src="https://unpkg.com/htmx.org@2"></script>')
    assert EXTERNAL_ASSET.search("<link rel='stylesheet' href='//cdn.example/x.css'>")
    assert not EXTERNAL_ASSET.search("<script src=\"{{ static_url('vendor/htmx/htmx.min.js') }}\"></script>")


def test_stylesheet_uses_system_fonts_with_chinese_faces_and_imports_nothing() -> None:
    css = (STATIC_DIR / "css" / "bihuan.css").read_text(encoding="utf-8")
    assert "@import" not in css
    assert "@font-face" not in css
    assert not re.search(r"url\(\s*[\"']?(?:https?:)?//", css)
    for face in ("PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC"):
        assert f'"{face}"' in css
