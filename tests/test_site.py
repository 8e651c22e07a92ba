"""The course website (``python3 tasks.py site``): what it stages, that it builds with every page
and no broken link, and, in headless Chromium where one is installed, that its pages load
without console errors, with math typeset, plots loaded and videos playable.

The build installs .venv-site (about 45 s the first time on 2 cores, then nothing) and renders
in a few seconds, so the whole site is built here rather than one page.
"""
import base64
import functools
import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
REPOSITORY = re.search(r'^Repository = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
INSTRUCTOR_PAGES = ["index", "building", "grading", "lms", "release", "versions", "benchmark", "renumbering"]


def build_site():
    spec = importlib.util.spec_from_file_location("course_build_site", ROOT / "site" / "build_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- staging: standard library only ----------------------------------------------------------

@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    where = tmp_path_factory.mktemp("site-src")
    names = build_site().stage(where=where)
    return where, names


def test_every_solution_is_staged_with_two_colab_links_and_without_its_colab_cells(staged):
    where, names = staged
    assert names == [path.name for path in SOLUTIONS]
    github = REPOSITORY.removeprefix("https://github.com/")
    for path in SOLUTIONS:
        cells = json.loads((where / "lessons" / path.name).read_text())["cells"]
        ids = [cell.get("id") for cell in cells]
        assert "colab-badge" not in ids and "colab-setup" not in ids
        assert "".join(cells[0]["source"]).startswith(f"# Lesson {path.name[:2]} ")
        links = "".join(cells[1]["source"])
        for folder in ("exercises", "solutions"):
            url = f"https://colab.research.google.com/github/{github}/blob/main/{folder}/{path.name}"
            assert f"({url})" in links
            assert (ROOT / folder / path.name).exists()
        assert "colab-badge.svg" not in links  # an image from another host would load at view time


def test_home_page_shows_the_readme_introduction_lesson_table_and_set_up(staged):
    where, _ = staged
    readme = (ROOT / "README.md").read_text()
    lessons = (where / "_readme" / "lessons.md").read_text()
    for path in SOLUTIONS:
        number = path.name[:2]
        row = re.search(rf"^\| {number} \| .*$", readme, re.M).group(0)
        run_time = row.rsplit("|", 2)[1].strip()  # the README's figure, as the README has it
        assert re.search(rf"^\| \[{number}\]\(lessons/{path.name}\) \|.*\| {re.escape(run_time)} \|$", lessons, re.M)
    setup = (where / "_readme" / "setup.md").read_text()
    assert setup.startswith("## Set-up: two commands") and "python3 tasks.py lab" in setup
    assert "### Docker" in setup and "### Colab" in setup and "## For instructors" not in setup
    intro = (where / "_readme" / "intro.md").read_text()
    assert "It is for programmers" in intro and not intro.startswith("#")


def test_readme_points_to_every_instructor_page():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## For instructors", 1)[1].split("\n## ", 1)[0]
    for page in INSTRUCTOR_PAGES[1:]:
        assert f"(site/instructors/{page}.md)" in section
        assert (ROOT / "site" / "instructors" / f"{page}.md").exists()


@pytest.mark.parametrize("lessons, message", [
    (["99"], "no solutions/NN_*.ipynb for lesson(s) ['99']"),
    (["03", "42"], "lesson(s) ['42']"),
])
def test_stage_refuses_a_lesson_that_does_not_exist(lessons, message, tmp_path):
    with pytest.raises(SystemExit, match=re.escape(message)):
        build_site().stage(lessons, where=tmp_path / "src")


def test_readme_sections_ignore_headings_inside_code_blocks():
    text = "# Title\n\nintro\n\n## One\n\n```bash\n## not a heading\n```\n\n## Two\nbody\n"
    sections = build_site().readme_sections(text)
    assert list(sections) == [None, "One", "Two"]
    assert sections[None] == "intro\n" and "## not a heading" in sections["One"]


# -- the built site --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The whole site, built by the README's command into a folder of its own."""
    out = tmp_path_factory.mktemp("site") / "_site"
    start = time.monotonic()
    done = subprocess.run([sys.executable, str(ROOT / "tasks.py"), "site", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"tasks.py site failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    print(f"tasks.py site: {time.monotonic() - start:.1f} s\n{done.stdout[-2000:]}")
    return out


def test_site_has_the_home_page_every_lesson_and_the_instructor_pages(site):
    expected = {"index.html", "package.html", "troubleshooting.html"}
    expected |= {f"lessons/{path.stem}.html" for path in SOLUTIONS}
    expected |= {f"instructors/{page}.html" for page in INSTRUCTOR_PAGES}
    assert set(build_site().pages(site)) == expected


def test_every_link_within_the_site_finds_its_file_and_anchor(site):
    assert build_site().broken_links(site) == []


WIDGET_NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "id": "title", "metadata": {}, "source": "# A progress bar"},
        {"cell_type": "code", "id": "bar", "execution_count": 1, "metadata": {}, "source": "cu.progress_bar(10)",
         "outputs": [{"output_type": "display_data", "metadata": {}, "data": {
             "application/vnd.jupyter.widget-view+json": {"model_id": "m1", "version_major": 2, "version_minor": 0},
             "text/plain": "HBox(children=(FloatProgress(value=10.0, max=10.0),))"}}]},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                 "language_info": {"name": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}


def test_a_widget_output_shows_its_text_and_loads_no_widget_script(site, tmp_path):
    """Progress bars and the player are not live on a static page: their text stands in for them."""
    source = tmp_path / "src"
    shutil.copytree(ROOT / "site", source, ignore=shutil.ignore_patterns("instructors", "*.md", "*.py", "*.txt"))
    shutil.copy(ROOT / "site" / "conf.py", source)
    (source / "index.ipynb").write_text(json.dumps(WIDGET_NOTEBOOK))
    python = ROOT / ".venv-site" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    done = subprocess.run([str(python), "-m", "sphinx", "-q", "-W", "-b", "html", str(source), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    html = (tmp_path / "out" / "index.html").read_text()
    assert "HBox(children=(FloatProgress(value=10.0, max=10.0),))" in html
    assert "require.js" not in html and "html-manager" not in html and "widget-view" not in html


def test_staged_lessons_carry_no_widget_state(tmp_path):
    nb = json.loads(SOLUTIONS[0].read_text())
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    path = tmp_path / SOLUTIONS[0].name
    path.write_text(json.dumps(nb))
    assert set(build_site().site_notebook(path)["metadata"]) == {"kernelspec", "language_info"}


def test_pages_load_nothing_from_another_host(site):
    for page in site.rglob("*.html"):
        html = page.read_text()
        loaded = re.findall(r"<(?:script|img|link|source|video|iframe)\b[^>]*?\b(?:src|href)=\"((?:https?:)?//[^\"]+)\"", html)
        assert loaded == [], f"{page.relative_to(site)} loads {loaded}"
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()


def stored_outputs(path: Path) -> tuple:
    """How many plots (PNG) and videos (HTML with <video>) a solution notebook stores."""
    nb = json.loads(path.read_text())
    outputs = [out for cell in nb["cells"] for out in cell.get("outputs", [])]
    plots = sum("image/png" in out.get("data", {}) for out in outputs)
    videos = sum("<video" in "".join(out.get("data", {}).get("text/html", "")) for out in outputs)
    return plots, videos


def test_lesson_pages_hold_their_plots_videos_and_math(site):
    for path in SOLUTIONS:
        plots, videos = stored_outputs(path)
        html = (site / "lessons" / f"{path.stem}.html").read_text()
        images = re.findall(r'<img [^>]*src="(\.\./_images/[^"]+\.png)"', html)
        assert len(images) == plots, path.name
        assert all((site / "lessons" / image).resolve().stat().st_size > 0 for image in images)
        assert html.count("<video") == videos, path.name
        assert 'class="math' in html, path.name  # $...$ and $$...$$ became MathJax input
        assert "Traceback" not in html and "Open in Colab:" in html


# -- in a real browser -----------------------------------------------------------------------

def chromium_binary():
    return next((found for name in ("chromium", "chromium-browser", "google-chrome", "chrome")
                 if (found := shutil.which(name))), None)


class DevTools:
    """A minimal Chrome DevTools Protocol session with one page, over websocket-client."""

    def __init__(self, url: str):
        import websocket  # websocket-client, in the lock (jupyter_server needs it)

        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id, self.events = 0, []

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, seconds: float = 20.0):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        return self.evaluate(expression)

    def drain(self, seconds: float) -> None:
        """Collect the events that arrive within ``seconds``."""
        self.ws.settimeout(seconds)
        try:
            while True:
                self.events.append(json.loads(self.ws.recv()))
        except Exception:  # the timeout ends the wait
            pass
        finally:
            self.ws.settimeout(30)

    def errors(self) -> list:
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                found.append("console." + params["type"] + ": " + " ".join(
                    str(arg.get("value", arg.get("description"))) for arg in params["args"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}")
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(f"exception: {details.get('exception', {}).get('description', details['text'])}")
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                found.append(f"network: {params.get('errorText')} ({params.get('type')})")
        return found

    def console(self) -> list:
        """Every console and log line, any level: what the page said while it loaded."""
        lines = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                lines.append(f"console.{params['type']}: " + " ".join(
                    str(arg.get("value", arg.get("description"))) for arg in params["args"]))
            elif method == "Log.entryAdded":
                lines.append(f"log.{params['entry']['level']}: {params['entry']['text']}")
            elif method == "Runtime.exceptionThrown":
                lines.append(f"exception: {params['exceptionDetails']['text']}")
        return lines

    def responses(self) -> list:
        """Each resource the page loaded, with its HTTP status (data: URLs shortened)."""
        return [f"{event['params']['response']['status']} {event['params']['type']} "
                f"{event['params']['response']['url'][:100]}"
                for event in self.events if event.get("method") == "Network.responseReceived"]


@pytest.fixture(scope="module")
def served(site):
    """The built site over HTTP on the loopback, as GitHub Pages would serve it."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a browser dropping a video's stream is fine
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no Chromium installed (chromium, chromium-browser or google-chrome on PATH); "
                    "Debian: apt-get install chromium")
    profile = tmp_path_factory.mktemp("chromium-profile")
    cmd = [binary, "--headless", "--disable-gpu", "--remote-debugging-port=0", f"--user-data-dir={profile}",
           "--no-first-run", "--no-default-browser-check", "--autoplay-policy=no-user-gesture-required",
           "--window-size=1280,2000", "--hide-scrollbars", "about:blank"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not port_file.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    try:
        assert port_file.exists(), f"Chromium did not open its DevTools port (exit {proc.poll()})"
        port = int(port_file.read_text().split()[0])
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def open_page(port: int, url: str, screenshot: Path | None = None) -> tuple:
    """Load ``url`` in a fresh tab; return (DevTools session, errors, the page's findings)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        target = json.loads(response.read())
    tab = DevTools(target["webSocketDebuggerUrl"])
    for domain in ("Runtime", "Log", "Page", "Network"):
        tab.send(f"{domain}.enable")
    tab.send("Page.navigate", url=url)
    tab.wait_for("document.readyState === 'complete'")
    # MathJax's startup promise settles once the first typesetting is done (a page without math
    # loads no MathJax); a video has its metadata, so it can play, at readyState 1.
    typeset = tab.wait_for("!document.querySelector('.math') || (window.MathJax && MathJax.startup"
                           " && MathJax.startup.promise && MathJax.startup.promise.then(() => true))")
    playable = tab.wait_for("Array.from(document.querySelectorAll('video')).every(v => v.readyState >= 1)")
    tab.drain(1.0)
    found = tab.evaluate("""({
        math: document.querySelectorAll('mjx-container').length,
        math_errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
        images: Array.from(document.images).map(i => [i.getAttribute('src'), i.complete && i.naturalWidth]),
        videos: Array.from(document.querySelectorAll('video')).map(v =>
            ({ready: v.readyState, error: v.error && v.error.code, duration: v.duration, width: v.videoWidth})),
        links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    })""")
    found.update(typeset=typeset, playable=playable)
    if screenshot is not None:
        shot = tab.send("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
    tab.ws.close()  # and close the tab, whose looping video would go on playing
    urllib.request.urlopen(f"http://127.0.0.1:{port}/json/close/{target['id']}", timeout=10).close()
    return tab, tab.errors(), found


def record_for_report(name: str, tab: DevTools, found: dict) -> None:
    """Keep a page's console log and what it loaded in the folder SITE_SCREENSHOTS names."""
    folder = os.environ["SITE_SCREENSHOTS"]
    log = Path(folder) / f"{name}-console.log"
    log.write_text("\n".join(
        ["console and log messages, any level:", *(tab.console() or ["(none)"]),
         "", "errors counted (console.error, log errors, exceptions, failed loads):", *(tab.errors() or ["(none)"]),
         "", "what the page shows:", json.dumps({k: v for k, v in found.items() if k != "links"}, indent=1),
         f"{len(found['links'])} links", "", "resources loaded:", *tab.responses()]) + "\n")


def internal_links_resolve(base: str, links: list) -> list:
    """The links of a page that point into the site and do not answer 200."""
    broken = []
    for link in {link.split("#")[0] for link in links if link.startswith(base)}:
        try:
            with urllib.request.urlopen(link, timeout=10) as response:
                if response.status != 200:
                    broken.append(f"{link}: {response.status}")
        except OSError as err:
            broken.append(f"{link}: {err}")
    return broken


BROWSER_PAGES = ["index.html", *(f"lessons/{path.stem}.html" for path in SOLUTIONS), "package.html",
                 "troubleshooting.html", *(f"instructors/{page}.html" for page in INSTRUCTOR_PAGES)]
SCREENSHOTS = {"index.html": "home", "lessons/04_deep_q_network.html": "lesson04"}  # for the report


@pytest.mark.parametrize("page", BROWSER_PAGES)
def test_page_loads_in_chromium_with_its_math_plots_and_videos(browser, served, page):
    folder, name = os.environ.get("SITE_SCREENSHOTS"), SCREENSHOTS.get(page)
    screenshot = Path(folder) / f"{name}.png" if folder and name else None
    if screenshot:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
    tab, errors, found = open_page(browser, urljoin(served, page), screenshot)
    if screenshot:
        record_for_report(name, tab, found)
    assert errors == [], f"{page}: console errors {errors}"
    assert internal_links_resolve(served, found["links"]) == []
    assert all(width and width > 0 for _, width in found["images"]), found["images"]
    if page == "index.html":
        assert len({link for link in found["links"] if "/lessons/" in link}) == len(SOLUTIONS)
    if not page.startswith("lessons/"):
        return
    plots, videos = stored_outputs(ROOT / "solutions" / f"{Path(page).stem}.ipynb")
    assert found["typeset"] and found["math"] > 0 and found["math_errors"] == 0, found
    assert len([src for src, _ in found["images"] if src.startswith("../_images/")]) == plots, found["images"]
    assert found["playable"] and len(found["videos"]) == videos, found["videos"]
    for video in found["videos"]:
        assert video["error"] is None and video["ready"] >= 1 and video["duration"] > 0 and video["width"] > 0, video
