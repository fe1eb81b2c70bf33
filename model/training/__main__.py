"""`python -m tracecot.model.training` (e.g. under `accelerate launch -m ...`)."""

import sys

from . import main

sys.exit(main())
