"""The side panels: model and data settings, the narration, the timeline bar."""
