"""``python -m loadtests --profile NAME --out DIR`` (see :mod:`loadtests.cli`)."""

import sys

from loadtests.cli import main

sys.exit(main())
