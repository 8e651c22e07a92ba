"""Build the course website from ``solutions/`` into ``_site/`` (``python3 tasks.py site`` runs this).

Two steps, in this order, because the second reads what the first writes:

1. ``stage``: copy ``site/`` into ``_build/site/src/``, add each lesson's solution notebook
   (its Colab header cells swapped for two plain links, since a badge image would be fetched
   from Colab at view time) and the README sections the home page and two other pages show,
   so that the README stays the one text of the introduction, the lesson table and the set-up.
   The standard library is enough for this step, so the tests can run it anywhere.
2. ``build``: Sphinx with MyST-NB renders the staged sources, outputs as stored (nothing is
   executed), into ``_site/``; a warning (a broken cross-reference, an unknown lexer) fails it.

``python site/build_site.py [--lessons 04 ...] [--out DIR]``; run it with the site venv's Python.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
WORK = ROOT / "_build" / "site"
STAGE = WORK / "src"
DOCTREES = WORK / "doctrees"
# Sphinx renders here and the result moves to the output folder: MyST-NB writes the images of a
# notebook's outputs into a jupyter_execute/ folder beside the folder it renders into.
HTML = WORK / "html"
OUT = ROOT / "_site"
# Files of site/ that are tooling, not pages.
NOT_PAGES = ("build_site.py", "requirements-site.txt", "__pycache__")
# README sections the site shows, by heading, and the staged snippet each becomes.
README_SNIPPETS = {
    None: "intro.md",  # the text between the title and the first section
    "Lessons": "lessons.md",
    "Set-up: two commands": "setup.md",
    "The companion package": "package.md",
    "Troubleshooting": "troubleshooting.md",
}
HEADER_CELLS = ("colab-badge", "colab-setup")  # what `course build` puts first in every notebook


def readme_sections(text: str) -> dict:
    """Split a README at its ``## `` headings (not inside code blocks): {heading: body}.

    The text before the first one, less the title, is under ``None``. A body keeps its
    ``###`` subsections.
    """
    sections, current, fenced = {None: []}, None, False
    for line in text.splitlines():
        fenced ^= line.startswith("```")
        if not fenced and line.startswith("## "):
            current = line[3:].strip()
            sections[current] = []
        elif not (current is None and line.startswith("# ")):
            sections[current].append(line)
    return {key: "\n".join(body).strip() + "\n" for key, body in sections.items()}


def lesson_notebooks(lessons: list | None = None) -> list:
    """The solution notebooks to put on the site, all of them or those numbered in ``lessons``."""
    found = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    chosen = [path for path in found if lessons is None or path.name[:2] in lessons]
    missing = set(lessons or []) - {path.name[:2] for path in chosen}
    if missing:
        raise SystemExit(f"build_site: no solutions/NN_*.ipynb for lesson(s) {sorted(missing)}")
    return chosen


def colab_links(badge_source: str) -> str:
    """The Markdown of two Colab links, the exercise's and the solution's, from the solution's badge cell."""
    match = re.search(r"\((https://colab\.research\.google\.com/github/[^)]+/solutions/[^)]+\.ipynb)\)", badge_source)
    if not match:
        raise SystemExit(f"build_site: no Colab link to a solution in the badge cell {badge_source!r}")
    solution = match.group(1)
    exercise = solution.replace("/solutions/", "/exercises/")
    return (f"**Open in Colab:** [the exercise notebook]({exercise}) (to work on) · "
            f"[the solution]({solution}) (this page, to run)\n")


def site_notebook(path: Path) -> dict:
    """A solution notebook as the site shows it: the Colab header cells replaced by links after the title."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = nb["cells"]
    badge = next((c for c in cells if c.get("id") == "colab-badge"), None)
    if badge is None:
        raise SystemExit(f"build_site: {path.relative_to(ROOT)} has no colab-badge cell (run course build)")
    cells = [c for c in cells if c.get("id") not in HEADER_CELLS]
    links = {"cell_type": "markdown", "id": "site-colab-links", "metadata": {},
             "source": colab_links("".join(badge["source"]))}
    nb["cells"] = cells[:1] + [links] + cells[1:]
    nb["metadata"].pop("course", None)  # build digests: nothing a reader needs
    nb["metadata"].pop("widgets", None)  # widget state: no widget is live on a static page
    return nb


def lesson_table(text: str, pages: dict) -> str:
    """The README's lesson section with each staged lesson's number and topic linked to its page."""
    def link(match):
        number, topic = match.group(1), match.group(2).strip()
        if number not in pages:
            return match.group(0)
        return f"| [{number}](lessons/{pages[number]}) | [{topic}](lessons/{pages[number]}) |"
    return re.sub(r"^\| (\d\d) \| ([^|]+)\|", link, text, flags=re.M)


def stage(lessons: list | None = None, where: Path = STAGE) -> list:
    """Write the site's sources into ``where`` and return the staged lesson pages' names."""
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(SITE, where, ignore=shutil.ignore_patterns(*NOT_PAGES))
    # The instructors' pages link to the README's set-up, so that they read on a code host too; on the site
    # that section is the home page's.
    for page in (where / "instructors").glob("*.md"):
        page.write_text(page.read_text(encoding="utf-8").replace("](../../README.md#", "](../index.md#"),
                        encoding="utf-8")
    (where / "lessons").mkdir()
    pages = {}
    for path in lesson_notebooks(lessons):
        (where / "lessons" / path.name).write_text(json.dumps(site_notebook(path), indent=1) + "\n", encoding="utf-8")
        pages[path.name[:2]] = path.name
    sections = readme_sections((ROOT / "README.md").read_text(encoding="utf-8"))
    (where / "_readme").mkdir()
    for heading, name in README_SNIPPETS.items():
        if heading not in sections:
            raise SystemExit(f"build_site: README.md has no section '## {heading}' for the site's {name}")
        body = sections[heading]
        if heading == "Set-up: two commands":
            body = f"## {heading}\n\n{body}"
        if heading == "Lessons":
            body = lesson_table(body, pages)
        # The snippets are included by pages at the site's root, where site/ is the root.
        body = body.replace("](site/", "](")
        (where / "_readme" / name).write_text(body, encoding="utf-8")
    return sorted(pages.values())


def build(lessons: list | None = None, out: Path = OUT) -> float:
    """Stage and render the site into ``out``; return the seconds it took."""
    from sphinx.cmd.build import build_main

    start = time.monotonic()
    stage(lessons)
    shutil.rmtree(HTML, ignore_errors=True)
    status = build_main(["-b", "html", "-q", "-W", "--keep-going", "-d", str(DOCTREES), str(STAGE), str(HTML)])
    if status != 0:
        raise SystemExit(f"build_site: sphinx-build failed (exit {status}); see its messages above")
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(HTML, out)
    (out / ".nojekyll").write_text("")  # GitHub Pages from a branch: serve _static/ as it is
    return time.monotonic() - start


class _Links(HTMLParser):
    """Collects the href/src of a page and the ids it defines."""

    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])


def pages(out: Path = OUT) -> list:
    """The HTML pages of a built site, as paths relative to it (Sphinx's own search and index pages aside)."""
    own = {"search.html", "genindex.html"}
    return sorted(str(p.relative_to(out)) for p in out.rglob("*.html")
                  if str(p.relative_to(out)) not in own and "_static" not in p.parts)


def broken_links(out: Path = OUT) -> list:
    """Every link or resource of a site's pages that stays within the site and finds no file (or no anchor)."""
    parsed, broken = {}, []

    def parse(page: Path) -> _Links:
        if page not in parsed:
            parsed[page] = _Links()
            parsed[page].feed(page.read_text(encoding="utf-8"))
        return parsed[page]

    for name in pages(out) + ["search.html", "genindex.html"]:
        page = out / name
        for link in parse(page).links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                continue  # another site (Colab, Gymnasium) or data: URL, not this one's to resolve
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file() or out.resolve() not in target.parents:
                broken.append(f"{name}: {link}")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in parse(target).ids:
                broken.append(f"{name}: {link} (no id {parts.fragment!r})")
    return broken


def main(argv: list) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", nargs="+", metavar="NN", help="only these lessons (default: all)")
    parser.add_argument("--out", type=Path, default=OUT, help="where the site goes (default: _site/)")
    args = parser.parse_args(argv)
    seconds = build(args.lessons, args.out)
    broken = broken_links(args.out)
    listed = pages(args.out)
    print(f"built {len(listed)} pages into {args.out} in {seconds:.1f} s:")
    print("\n".join(f"  {name}" for name in listed))
    if broken:
        raise SystemExit("build_site: links that find nothing:\n  " + "\n  ".join(broken))


if __name__ == "__main__":
    main(sys.argv[1:])
