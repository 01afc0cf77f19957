"""Entry script of the frozen build: the same ``main()`` as the ``gd-studio`` command."""
import multiprocessing
import sys

from gd_studio.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # harmless unless something spawns worker processes
    sys.exit(main())
