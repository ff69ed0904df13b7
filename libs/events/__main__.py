"""`python -m libs.events <command>`: the operator CLI (see libs/events/cli.py)."""

import sys

from libs.events.cli import main

if __name__ == "__main__":
    if sys.argv[1:2] in (["migrate"], ["downgrade"]):  # schema commands: libs/events/db.py
        from libs.events.db import migration_command
        from libs.events.settings import Settings

        print(migration_command(sys.argv[1:], Settings().database_url))
    else:
        main()
