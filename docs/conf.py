"""Sphinx configuration of the sculpt-sklearn documentation (``make docs``)."""

import os
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))

# The gallery runs every script in examples/ at build time. The fast flag
# trains for fewer epochs so the whole site builds in a few minutes; unset it
# (SCULPT_EXAMPLES_FAST=0 make docs) to render the full-length runs.
os.environ.setdefault("SCULPT_EXAMPLES_FAST", "1")
# One torch thread per process: small networks train fastest that way.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings(
    "ignore", message="Matplotlib is currently using agg", category=UserWarning
)

import sculpt_sklearn  # noqa: E402

project = "sculpt-sklearn"
author = "sculpt-sklearn developers"
copyright = "sculpt-sklearn developers"  # noqa: A001
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
exclude_patterns = ["_build", "gen_modules/backreferences", "**/*.md"]
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
    "within_subsection_order": "FileNameSortKey",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("sculpt_sklearn",),
    "reference_url": {"sculpt_sklearn": None},
    "plot_gallery": "True",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "show_memory": False,
    "min_reported_time": 1,
}
