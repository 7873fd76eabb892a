"""Everything the course site loads is served by the site itself.

MathJax 3 comes from the PyPI package ``sphinx-mathjax-offline`` (its fonts included), plotly.js
from the installed ``plotly`` package. Both are copied into the site's ``_static`` folder;
:func:`external_resources` lists every script, style sheet, font, image or frame that a built page
would still fetch from another host.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

MATHJAX_URL = "mathjax/tex-chtml.js"  # relative to _static (Sphinx's mathjax_path)
PLOTLY_URL = "_static/plotly.min.js"  # relative to a page at the site's top level
# A URL that leaves the site: a scheme with a host, or protocol-relative.
EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""", re.IGNORECASE)
# Attributes through which the browser fetches by itself (links in <a href> are not fetched).
FETCHING = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "link": ("href",),  # only for rel values that fetch, see below
}
LINK_FETCHES = {"stylesheet", "preload", "prefetch", "icon", "modulepreload", "manifest"}


def mathjax_dir() -> Path:
    """The folder holding MathJax 3's ``tex-chtml.js`` and its fonts."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "MathJax: the package 'sphinx-mathjax-offline' is not installed; "
            "run `pip install sphinx-mathjax-offline` (it is a dependency of attention-lab)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"


def plotly_js() -> Path:
    """plotly.min.js as shipped inside the installed plotly package."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("plotly.js: the package 'plotly' is not installed")
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


def _sync(source: Path, target: Path) -> None:
    """Copy a file unless an identical-looking one (size and mtime) is already there."""
    if target.exists():
        a, b = source.stat(), target.stat()
        if a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime):
            return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def install_assets(static: Path) -> None:
    """Copy MathJax (with its fonts) and plotly.min.js into a site's ``_static`` folder."""
    root = mathjax_dir()
    for path in root.rglob("*"):
        if path.is_file():
            _sync(path, static / "mathjax" / path.relative_to(root))
    _sync(plotly_js(), static / "plotly.min.js")


class _Fetches(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = FETCHING.get(tag)
        values = dict(attrs)
        if names is None:
            style = values.get("style") or ""
            self.urls += CSS_URL.findall(style)
            return
        if tag == "link" and not LINK_FETCHES.intersection((values.get("rel") or "").split()):
            return
        for name in names:
            value = values.get(name)
            if value:
                self.urls += [part.split()[0] for part in value.split(",") if part.strip()]


def external_resources(site: Path) -> list[str]:
    """``page: url`` for every resource a page of ``site`` would fetch from another host."""
    found: list[str] = []
    for page in sorted(site.rglob("*.html")):
        if "_static" in page.relative_to(site).parts:
            continue
        parser = _Fetches()
        text = page.read_text(errors="replace")
        parser.feed(text)
        urls = parser.urls + CSS_URL.findall(" ".join(re.findall(r"<style.*?</style>", text, re.S)))
        found += [f"{page.relative_to(site)}: {u}" for u in urls if EXTERNAL.match(u)]
    static = site / "_static"
    for sheet in sorted(static.rglob("*.css")) if static.exists() else []:
        for url in CSS_URL.findall(sheet.read_text(errors="replace")):
            if EXTERNAL.match(url):
                found.append(f"{sheet.relative_to(site)}: {url}")
    return found
