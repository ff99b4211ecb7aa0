"""`python -m gradcalc` is the `gradcalc` command."""

import sys

from gradcalc.cli import main

sys.exit(main())
