"""Features built on the window: study tools (step back, ghosts, validation, cyclical), scenarios, exports.

Each is independent of the others (an import-linter contract); they share only the window's AppState,
its worker controller and its action registry.
"""
