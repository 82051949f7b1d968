"""``python -m theorylab``: the same command line as ``theorylab``."""

import sys

from theorylab.cli import main

sys.exit(main())
