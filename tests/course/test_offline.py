"""The offline check finds every resource a page would fetch from another host."""

from __future__ import annotations

from attention_lab.course import offline


def site(tmp_path, page: str, css: str = ""):
    (tmp_path / "_static").mkdir()
    (tmp_path / "index.html").write_text(page)
    (tmp_path / "_static" / "theme.css").write_text(css)
    return tmp_path


def test_local_resources_and_plain_links_pass(tmp_path):
    page = """<html><head>
      <script src="_static/mathjax/tex-chtml.js"></script>
      <link rel="stylesheet" href="_static/theme.css">
      <link rel="canonical" href="https://example.org/">
      </head><body><a href="https://arxiv.org/abs/1706.03762">paper</a>
      <img src="data:image/png;base64,AAAA"><div style="background: url(_static/x.png)"></div>
      </body></html>"""
    assert offline.external_resources(site(tmp_path, page, "a { background: url(x.png) }")) == []


def test_every_kind_of_external_fetch_is_reported(tmp_path):
    page = """<html><head>
      <script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>
      <link rel="stylesheet" href="//fonts.googleapis.com/css?family=Lato">
      <link rel="icon" href="http://example.org/favicon.ico">
      <style>@import "https://example.org/a.css";</style>
      </head><body><img srcset="https://example.org/a.png 1x, b.png 2x">
      <iframe src="https://www.youtube.com/embed/x"></iframe>
      <div style="background-image: url('https://example.org/bg.png')"></div></body></html>"""
    css = "@font-face { src: url(https://fonts.gstatic.com/s/lato.woff2) }"
    found = offline.external_resources(site(tmp_path, page, css))
    assert found == [
        "index.html: https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js",
        "index.html: //fonts.googleapis.com/css?family=Lato",
        "index.html: http://example.org/favicon.ico",
        "index.html: https://example.org/a.png",
        "index.html: https://www.youtube.com/embed/x",
        "index.html: https://example.org/bg.png",
        "index.html: https://example.org/a.css",
        "_static/theme.css: https://fonts.gstatic.com/s/lato.woff2",
    ]


def test_assets_are_copied_once(tmp_path):
    offline.install_assets(tmp_path / "_static")
    tex = tmp_path / "_static" / "mathjax" / "tex-chtml.js"
    font = next((tmp_path / "_static" / "mathjax" / "output" / "chtml" / "fonts").rglob("*.woff"))
    assert tex.stat().st_size > 100_000 and font.exists()
    assert (tmp_path / "_static" / "plotly.min.js").stat().st_size > 1_000_000
    before = tex.stat().st_mtime_ns
    offline.install_assets(tmp_path / "_static")
    assert tex.stat().st_mtime_ns == before
