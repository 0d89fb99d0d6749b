import sys

from kmssmt.cli import main

sys.exit(main())
