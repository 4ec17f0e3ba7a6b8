"""The command line: a thin Typer layer; each command parses options and calls the pipeline."""
