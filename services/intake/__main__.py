"""`python -m services.intake partners create --id X --name Y [--webhook URL]`."""

import sys

from services.intake.cli import main

sys.exit(main())
