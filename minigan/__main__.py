"""``python -m minigan``: the command line (:mod:`minigan.cli`)."""

import sys

from minigan.cli import main

sys.exit(main())
