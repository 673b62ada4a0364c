import sys

from architect.cli import main

sys.exit(main())
