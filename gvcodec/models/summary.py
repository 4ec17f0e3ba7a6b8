"""Model introspection for `gvcodec info --model`: parameter counts per component."""

from __future__ import annotations

from torch import nn


def count_parameters(module: nn.Module) -> dict[str, int]:
    """Count parameters per top-level child, plus the total.

    Works on models built on the meta device (counts need only shapes).

    Args:
        module: e.g. a `Vae3d` (children encoder, conv1, conv2, decoder).

    Returns:
        {child name: parameter count, ..., "total": sum}, children in registration order;
        parameters held directly by `module` are counted under "(own)".
    """
    counts = {name: sum(p.numel() for p in child.parameters()) for name, child in module.named_children()}
    own = sum(p.numel() for p in module.parameters(recurse=False))
    if own:
        counts["(own)"] = own
    counts["total"] = sum(p.numel() for p in module.parameters())
    return counts
