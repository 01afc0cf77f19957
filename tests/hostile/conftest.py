"""Hostile-input tests: FIFOs, device nodes, symlinks and address-space limits are POSIX features."""
import os

collect_ignore = [] if os.name == "posix" else [
    "test_corpus.py", "test_writes.py", "test_scenario_data.py", "test_data_consent_ui.py",
]
