"""`python -m gradcalc` is the `gradcalc` command."""

from gradcalc.cli import main

import sys

sys.exit(main())
