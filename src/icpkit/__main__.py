import sys

from icpkit.cli import main

sys.exit(main())
