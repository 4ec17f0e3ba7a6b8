"""`gvcodec import`: build a GNVC-VD weights file from the public Wan2.1 checkpoints (gvcodec/models/gnvc_vd/public.py)."""

from __future__ import annotations

import sys

import typer

OPTIONS = {
    "Model": "registered GNVC-VD model whose YAML sizes the result (gnvc-vd-paper for the public files)",
    "VaeWeights": "Wan2.1 VAE: Wan2.1_VAE.pth (Wan names) or a Diffusers VAE file or folder",
    "DitWeights": "Wan2.1-T2V-1.3B or Wan2.1-VACE-1.3B: .safetensors, *.safetensors.index.json (shards) or a folder",
    "TextContext": "optional .safetensors with one [L, text_dim] tensor (precomputed umT5 context), stored in the file",
    "OutputFile": "the .safetensors weights file to write (-o)",
}
REQUIRED = ("VaeWeights", "DitWeights", "OutputFile")


def render_help() -> str:
    lines = ["usage: gvcodec import --Model=NAME --VaeWeights=PATH --DitWeights=PATH [--TextContext=FILE] -o OUT.safetensors",
             "", "Options (HM style: --Key=value, the last value wins):"]
    lines += [f"  --{k:<12} {v}" for k, v in OPTIONS.items()]
    lines += ["", "The latent codec has no public weights: it stays at its seeded initialisation (the file says so).",
              "A T2V checkpoint leaves the VACE adapter at its initialisation (a no-op until trained)."]
    return "\n".join(lines)


def parse(argv: list[str]) -> dict[str, str]:
    """--Key=value (keys of OPTIONS, case as written), -o PATH / -o=PATH; unknown or missing keys fail."""
    from gvcodec.errors import OptionError

    values = {"Model": "gnvc-vd-paper"}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "-o" or arg.startswith("-o="):
            if arg == "-o":
                if i + 1 >= len(argv):
                    raise OptionError("-o needs a value")
                i += 1
                values["OutputFile"] = argv[i]
            else:
                values["OutputFile"] = arg[3:]
        elif arg.startswith("--") and "=" in arg:
            key, value = arg[2:].split("=", 1)
            if key not in OPTIONS:
                raise OptionError(f"unknown option `--{key}' for import (known: {', '.join(OPTIONS)})")
            values[key] = value
        else:
            raise OptionError(f"import takes --Key=value options and -o OUT, not `{arg}'")
        i += 1
    missing = [k for k in REQUIRED if not values.get(k)]
    if missing:
        name = "-o" if missing[0] == "OutputFile" else f"--{missing[0]}"
        raise OptionError(f"import needs {name} (see gvcodec import --help)")
    return values


def command(ctx: typer.Context) -> None:
    """Convert public Wan2.1 VAE / DiT checkpoints into one GNVC-VD weights file."""
    argv = list(ctx.args)
    if not argv or "--help" in argv or "-h" in argv:
        sys.stdout.write(render_help() + "\n")
        raise typer.Exit(0)
    values = parse(argv)
    from gvcodec.models.gnvc_vd.public import import_public

    def warn(message: str) -> None:
        sys.stderr.write(f"gvcodec: warning: {message}\n")

    import_public(values["Model"], values["VaeWeights"], values["DitWeights"], values["OutputFile"],
                  text_context=values.get("TextContext") or None, say=print, warn=warn)
