"""``python -m corpus inspect [DIR]``."""

import sys

from corpus.cli import main

sys.exit(main())
