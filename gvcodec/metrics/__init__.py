"""Quality metrics and rate-distortion summaries.

Modules (imported explicitly, so that loading one does not pull in the others' dependencies):

* :mod:`gvcodec.metrics.psnr` - HM-exact per-plane, YUV and sequence PSNR, plus RGB PSNR.
* :mod:`gvcodec.metrics.msssim` - MS-SSIM through pytorch-msssim, small pictures included.
* :mod:`gvcodec.metrics.vmaf` - VMAF through the optional imageio-ffmpeg static ffmpeg (libvmaf).
* :mod:`gvcodec.metrics.bdrate` - results CSV I/O and Bjontegaard-delta tables.
* :mod:`gvcodec.metrics.ewarp` - warping error E_warp (DIS optical flow of the original, no weights).
* :mod:`gvcodec.metrics.lpips`, :mod:`gvcodec.metrics.dists` - LPIPS (alex, vgg) and DISTS on
  :mod:`gvcodec.metrics.backbones` (AlexNet/VGG16 trunks in torchvision's key layout).
* :mod:`gvcodec.metrics.clip` - CLIP ViT image encoder for CLIP-F; :mod:`gvcodec.metrics.fvd` - I3D and
  the Fréchet distance.
* :mod:`gvcodec.metrics.weight_files` - where weight files are looked for, and reading them.
* :mod:`gvcodec.metrics.video` - the temporal/learned metrics as frame-by-frame accumulators for
  `gvcodec metrics` (docs/metrics.md).
"""
