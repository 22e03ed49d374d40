from __future__ import annotations

import sys

from trainlab.cli import main

sys.exit(main())
