"""``python -m valuechain`` is the ``valuechain`` command."""

import sys

from .cli import main

sys.exit(main())
