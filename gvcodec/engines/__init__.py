"""Codec engines: the Engine protocol, the registry and the engines themselves."""
