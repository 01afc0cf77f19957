"""``python -m gd_studio`` runs the same entry point as the ``gd-studio`` command."""
import sys

from gd_studio.cli import main

sys.exit(main())
