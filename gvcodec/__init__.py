"""gvcodec: a generative neural video codec toolkit driven like HM/VTM."""

__version__ = "0.1.0"
