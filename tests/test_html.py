"""derive.html: the web booklet, escaped and typeset offline, checked in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from derive.build import build_set
from derive.html import math_html, prose_html

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "browser"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--virtual-time-budget=10000")


def test_prose_text_is_escaped_and_math_wrapped() -> None:
    out = prose_html("a <script>alert(1)</script> & $x < y$")
    assert str(out) == 'a &lt;script&gt;alert(1)&lt;/script&gt; &amp; <span class="math">x &lt; y</span>'


def test_math_is_escaped() -> None:
    assert str(math_html("</span><script>", display=True)) == \
        '<span class="math display">&lt;/span&gt;&lt;script&gt;</span>'


def test_unsafe_math_in_prose_is_refused() -> None:
    with pytest.raises(ValueError, match="input"):
        prose_html(r"$\input{x}$")


def chromium(*args: str) -> str:
    """Run headless Chromium with a fresh profile; its standard output."""
    exe = shutil.which("chromium")
    assert exe, "chromium is not installed: run scripts/setup.sh"
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


class _Text(HTMLParser):
    """The visible text of KaTeX's HTML output inside each chain (data-chain), no annotations."""

    def __init__(self) -> None:
        super().__init__()
        self.chains: dict[str, str] = {}
        self.stack: list[tuple[str, str | None, bool]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        hidden = a.get("class") == "katex-mathml" or (self.stack and self.stack[-1][2])
        chain = a.get("data-chain") or (self.stack[-1][1] if self.stack else None)
        if tag not in ("br", "img", "meta", "link", "input"):
            self.stack.append((tag, chain, bool(hidden)))

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][1] and not self.stack[-1][2]:
            self.chains[self.stack[-1][1]] = self.chains.get(self.stack[-1][1], "") + data


ERRATUM = """\
errata:
  - source: "A made-up handout"
    place: "its problem 1"
    says: "$\\\\sigma'(x) \\\\le 1/2$"
    correction: "the bound is $1/4$, and it is reached at $x = 0$."
    chain: dsigma
"""


@pytest.mark.slow
def test_booklet_in_a_real_browser(tmp_path: Path) -> None:
    sets = tmp_path / "problems" / "web"
    sets.mkdir(parents=True)
    problem = (ROOT / "problems/hw4/sigmoid_gradient.yaml").read_text() + ERRATUM
    (sets / "sigmoid_gradient.yaml").write_text(problem)
    (sets / "set.yaml").write_text('title: "Web <b>test</b>"\ncourse: "C & D"\norder: [sigmoid_gradient]\n')
    report = build_set(tmp_path, "web", pdf=False, html=True, questions=True)
    assert report.ok
    page = tmp_path / "build/web/web.html"
    assert (tmp_path / "build/web/web_files/katex.min.js").is_file()
    assert (tmp_path / "build/web/web-questions.html").is_file()
    source = page.read_text()
    assert "Web &lt;b&gt;test&lt;/b&gt;" in source and "C &amp; D" in source
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", source)  # nothing from the network
    targets = set(re.findall(r'href="#([^"]+)"', source))
    assert {"errata", "erratum-sigmoid_gradient-1", "chain-sigmoid_gradient-dsigma"} <= targets
    assert targets <= set(re.findall(r'id="([^"]+)"', source))  # every link inside the page lands

    dom = chromium("--dump-dom", page.as_uri())
    spans = int(re.search(r'data-typeset="(\d+)"', dom).group(1))
    assert spans == source.count('class="math') > 30
    assert dom.count('class="katex"') >= spans
    assert "katex-error" not in dom
    parser = _Text()
    parser.feed(dom)
    assert "Erratum 1.1.1, no. 1." in dom and "Errata in the sources" in dom
    text = re.sub(r"\s+", "", parser.chains["dsigma"])
    assert "=σ(u)(1−σ(u))since1−σ(u)=e−u/(1+e−u)[sym]" in text, text

    SHOTS.mkdir(parents=True, exist_ok=True)
    chromium("--window-size=420,2400", f"--screenshot={SHOTS / 'booklet-phone.png'}", page.as_uri())
    assert (SHOTS / "booklet-phone.png").stat().st_size > 10_000
