"""The four live views, by their old address: each lives in its own module in ui/plots/."""
from __future__ import annotations

from .plots.common import (CAPTION_LINES, PRESENTATION_CAPTION_LINES, ArrowsItem, Caption, GatedPlotWidget,
                           HoverReadout, elide_lines, set_caption_inline)
from .plots.data_view import DataView
from .plots.lr_view import NO_DESCENT, LossVsLrView
from .plots.step_view import LossVsStepView
from .plots.weight_view import LossVsWeightView

__all__ = ["Caption", "set_caption_inline", "elide_lines", "DataView", "LossVsWeightView", "LossVsLrView",
           "LossVsStepView", "HoverReadout", "ArrowsItem", "GatedPlotWidget", "NO_DESCENT", "CAPTION_LINES",
           "PRESENTATION_CAPTION_LINES"]
