"""What the instructor's processes do first: skip an import that costs a second and serves nothing here.

Every ``course`` command and every nbval run the grader starts imports ``nbformat``, which imports
``jsonschema``. jsonschema's format checkers import ``rfc3987_syntax`` when it is installed (JupyterLab's
``jupyter-events`` asks for it, through ``jsonschema[format-nongpl]``), and that module compiles 39 Earley
grammars as it loads: about 1 s of CPU per process on a 2-core AMD EPYC, so a class of 200 notebooks pays
200 s for nothing (python-jsonschema/jsonschema#1428). Nothing in these processes checks an IRI: nbformat
validates notebooks without a format checker, so no ``format`` keyword is ever asserted. Marking the module
absent before jsonschema loads makes jsonschema leave its IRI checks out, as on an install without the
extra. JupyterLab, which may use them, runs in its own process and is not touched.
"""
from __future__ import annotations

import sys

SKIPPED = "rfc3987_syntax"


def skip_iri_grammars() -> None:
    """Keep jsonschema from importing ``rfc3987_syntax`` in this process (too late once jsonschema has loaded it)."""
    sys.modules.setdefault(SKIPPED, None)   # `import rfc3987_syntax` now raises ImportError, which jsonschema expects
