"""`python3 -m simulator.preview`: the same as `sim preview`."""

import sys

from simulator.preview.main import main

sys.exit(main())
