"""Classical anchors through PyAV (x264, x265, SVT-AV1) in low-delay P."""
