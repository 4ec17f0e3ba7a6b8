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


def format_table(name: str, rows: list[tuple[str, str, int]], seed_counts: dict | None = None) -> str:
    """The per-module table printed by `gvcodec info --model` (like the seed's Table 2).

    `seed_counts` maps module names (and "total") to the seed's figures (none: no seed column)."""
    refs = seed_counts or {}
    lines = [f"model {name}", f"{'module':<26} {'component':<22} {'parameters':>15} {'M':>10} {'seed (M)':>10}"]
    for module, part, n in rows:
        if part:
            lines.append(f"{'':<26} {part:<22} {n:>15,} {n / 1e6:>10.2f}")
        else:
            seed = refs.get(module)
            ref = f"{seed / 1e6:>10.1f}" if seed else ""
            lines.append(f"{module:<26} {'(all)':<22} {n:>15,} {n / 1e6:>10.2f} {ref}")
    return "\n".join(lines)
