"""``python -m paper_checks``: run the papers' claims (see :mod:`paper_checks.cli`)."""

import sys

from paper_checks.cli import checks_main

if __name__ == "__main__":
    sys.exit(checks_main())
