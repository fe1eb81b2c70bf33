"""`python -m tracecot.server ...` is the `tracecot` command (the editor runs `... serve`)."""

import sys

from .cli import main

sys.exit(main())
