"""The GIViC engine (see engine.py and docs/givic.md)."""
