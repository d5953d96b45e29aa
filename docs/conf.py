"""Sphinx configuration of the sculpt-sklearn documentation (``make docs``)."""

import os
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))
sys.path.insert(0, str(DOCS / "_sphinxext"))

# The gallery runs every script in examples/ at build time. The fast flag
# trains for fewer epochs so the whole site builds in a few minutes; unset it
# (SCULPT_EXAMPLES_FAST=0 make docs) to render the full-length runs.
os.environ.setdefault("SCULPT_EXAMPLES_FAST", "1")
# One torch thread per process: small networks train fastest that way.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# Keras reads its backend once, at its first import (the API pages and the Keras
# example): the torch this package installs, so the docs need no TensorFlow.
os.environ.setdefault("KERAS_BACKEND", "torch")
warnings.filterwarnings(
    "ignore", message="Matplotlib is currently using agg", category=UserWarning
)

import sculpt_sklearn  # noqa: E402

project = "sculpt-sklearn"
author = "sculpt-sklearn developers"
copyright = "sculpt-sklearn developers"
release = sculpt_sklearn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

# Only .rst pages are sources; the Markdown pages written next to the
# benchmarks (benchmarks.md, performance.md) are pulled in by .rst wrappers
# with ``.. include:: ... :parser: myst_parser.sphinx_``.
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "gen_modules/backreferences", "*.md", "**/*.md"]
templates_path = ["_templates"]
html_static_path = ["_static"]

# The Markdown pages come from the benchmark scripts' outputs: links in them to
# files outside the site (result tables, scripts) are not documents here.
suppress_warnings = ["myst.xref_missing", "myst.header"]
myst_heading_anchors = 3

autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()

html_theme = "pydata_sphinx_theme"
html_title = f"sculpt-sklearn {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": []}

sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": "auto_examples",
    # Run every script, not only the plot_*.py ones, so no example can rot.
    "filename_pattern": r".*\.py$",
    "ignore_pattern": r"__init__\.py|/_",
    "within_subsection_order": "gallery_order.QuickstartFirst",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("sculpt_sklearn",),
    "plot_gallery": "True",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "show_memory": False,
    "min_reported_time": 1,
    # No docs/sg_execution_times.rst next to the sources.
    "write_computation_times": False,
}


# scikit-learn adds ``set_{fit,predict,score}_request`` methods to every
# estimator; their docstrings point into scikit-learn's own glossary, which is
# not part of this site.
def _skip_sklearn_request_methods(app, what, name, obj, skip, options):
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


# Some pages are Markdown files written next to the code they describe (the
# benchmark scripts write benchmarks.md and performance.md; reliability.md is
# checked by the test suite); a one-line .rst wrapper of the same name includes
# each. Until such a file exists, its page shows a placeholder instead of
# failing the build.
_MARKDOWN_PAGES = {
    "benchmarks": ("Benchmarks", "Not measured yet: ``make bench`` writes it."),
    "performance": ("Performance", "Not measured yet: ``make bench-speed`` writes it."),
    "reliability": ("Reliability", "Not written yet."),
    "scaling": ("Scaling out", "Not written yet."),
}


def _placeholder_for_missing_page(app, docname, source):
    if docname not in _MARKDOWN_PAGES:
        return
    markdown = DOCS / f"{docname}.md"
    # Rebuild the page when the Markdown file appears, changes or goes away.
    app.env.note_dependency(str(markdown))
    if not markdown.exists():
        title, note = _MARKDOWN_PAGES[docname]
        source[0] = f"{title}\n{'=' * len(title)}\n\n{note} (``docs/{docname}.md``)\n"


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_request_methods)
    app.connect("source-read", _placeholder_for_missing_page)
