"""run_encode / run_decode: reader -> engine -> writer -> report, one way through."""
