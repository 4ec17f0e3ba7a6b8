"""`python -m gvcodec` runs the command line."""

from gvcodec.cli.app import main

if __name__ == "__main__":
    main()
