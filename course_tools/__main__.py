"""``python -m course_tools ...``: the same commands as ``./course run|params|compare|format``."""

import sys

from .cli import main

sys.exit(main())
