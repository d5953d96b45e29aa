"""Order of the examples in the gallery: the quick start first, then by file name."""


class QuickstartFirst:
    """sphinx-gallery ``within_subsection_order`` key."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        return (filename != "quickstart.py", filename)
