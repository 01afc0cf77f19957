"""``python -m gd_studio`` runs the same entry point as the ``gd-studio`` command."""
import sys

from gd_studio.cli import main

# guarded: the engine's process (live/host.py) imports the parent's main module, which must not run again
if __name__ == "__main__":
    sys.exit(main())
