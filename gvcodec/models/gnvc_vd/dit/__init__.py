"""GNVC-VD's VideoDiT in the Wan2.1 layout with the VACE adapter: `config` (size), `rope`, `layers`
(attention blocks and head), `vace` (adapter blocks and hints), `model` (`VideoDiT`)."""
