"""The option table and HM-style command-line / cfg-file parsing."""
