"""The live plots, one module per view, and what they share (common.py)."""
