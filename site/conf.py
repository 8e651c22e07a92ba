"""Sphinx settings of the course website (``python3 tasks.py site`` builds it; see build_site.py)."""

project = "Deep reinforcement learning, hands on"
html_title = project
author = "the course's authors"
copyright = "the course's authors"

extensions = [
    "myst_nb",                 # Markdown pages and notebooks, their stored outputs as they are
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static/, so no page loads it from a CDN
]
exclude_patterns = ["_readme/*", "_build", "**.ipynb_checkpoints"]  # snippets are included, not pages

myst_enable_extensions = ["dollarmath", "amsmath"]  # the lessons write $...$ and $$...$$
myst_heading_anchors = 3                             # links such as index.md#colab

# The site shows what solutions/ stores; nothing is executed at build time.
nb_execution_mode = "off"
# Widgets (progress bars, the episode player) are not live on a static page: load no widget
# JavaScript (MyST-NB would fetch it from a CDN) and show a widget's text fallback instead.
nb_ipywidgets_js = {}
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]

html_theme = "furo"
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_show_sourcelink = False  # the "source" of a lesson is a staged copy; the Colab links point to the real ones
html_copy_source = False
# A page without an icon makes the browser ask for /favicon.ico, a 404 and a console error.
html_favicon = "_static/favicon.svg"
