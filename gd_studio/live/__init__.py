"""The live run without Qt: one object owns a run's engine state and builds what the window shows from it."""
