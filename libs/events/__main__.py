"""`python -m libs.events <command>`: the operator CLI without the services (see libs/events/cli.py)."""

from libs.events.cli import main

if __name__ == "__main__":
    main()
