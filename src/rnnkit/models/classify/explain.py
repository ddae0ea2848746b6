"""Show which words an attention classifier looked at: each token on a background whose strength
is its attention weight (Yang et al. 2016 draw their Figure 5 the same way)."""

from __future__ import annotations

from rich.text import Text

from rnnkit.models.classify.artifact import Prediction

__all__ = ["explain_numbers", "explain_text"]

# The background goes from the terminal's own (weight 0) to this colour (the largest weight).
_HOT = (230, 120, 0)


def explain_text(prediction: Prediction) -> Text:
    """``label (p)  token token …`` with each token shaded by its attention weight.

    Without attention (pooling other than ``"attention"``, or a hierarchical model without
    token weights) the tokens are printed plain.
    """
    prob = prediction.probabilities[prediction.label]
    out = Text(f"{prediction.label} ({prob:.2f})  ", style="bold")
    weights = prediction.attention
    if weights is None or not weights:
        out.append(" ".join(prediction.tokens))
        return out
    top = max(weights) or 1.0
    for i, (token, weight) in enumerate(zip(prediction.tokens, weights, strict=True)):
        level = weight / top
        r, g, b = (round(c * level) for c in _HOT)
        fg = "black" if level > 0.5 else "default"
        out.append(token, style=f"{fg} on rgb({r},{g},{b})" if level > 0.05 else "")
        if i + 1 < len(prediction.tokens):
            out.append(" ")
    return out


def explain_numbers(prediction: Prediction) -> str:
    """``label (p)<TAB>token:weight token:weight …``: the weights as numbers, for output that
    is not a terminal (a file, a pipe); without attention, the tokens alone."""
    prob = prediction.probabilities[prediction.label]
    weights = prediction.attention
    if not weights:
        return f"{prediction.label} ({prob:.2f})\t" + " ".join(prediction.tokens)
    pairs = zip(prediction.tokens, weights, strict=True)
    return f"{prediction.label} ({prob:.2f})\t" + " ".join(f"{t}:{w:.3f}" for t, w in pairs)
