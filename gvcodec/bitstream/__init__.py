"""The .gvc container: declared syntax, a writer and a reader that mirror each other."""
