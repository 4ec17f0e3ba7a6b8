"""Quality metrics and rate-distortion summaries.

Modules (imported explicitly, so that loading one does not pull in the others' dependencies):

* :mod:`gvcodec.metrics.psnr` - HM-exact per-plane, YUV and sequence PSNR, plus RGB PSNR.
* :mod:`gvcodec.metrics.msssim` - MS-SSIM through pytorch-msssim, small pictures included.
* :mod:`gvcodec.metrics.vmaf` - VMAF through the optional imageio-ffmpeg static ffmpeg (libvmaf).
* :mod:`gvcodec.metrics.bdrate` - results CSV I/O and Bjontegaard-delta tables.
"""
