"""Video input and output: raw YUV, Y4M, PyAV containers, colour, padding."""
