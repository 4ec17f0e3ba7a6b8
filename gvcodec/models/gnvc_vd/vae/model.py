"""Causal 3D VAE in the Wan2.1 layout, sized by `Vae3dConfig`.

    video N 3 T H W in [-1, 1], T = 1 + 4k
      --encoder (chunks of 1, 4, 4, ... frames, causal caches)--> N 2z 1+k H/8 W/8
      --conv1, keep mu, (mu - mean) / std--> latents N z 1+k H/8 W/8     (normalised, DiT space)
      --* std + mean, conv2--> --decoder (one latent at a time: 1, 4, 4, ... frames)--> clamp

(strides shown for the paper layout; they follow from dim_mult and temporal_downsample.)
Parameter names equal the public Wan2.1 VAE keys, so `Wan2.1_VAE.pth` loads strictly into the
paper config.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import torch
from torch import nn

from gvcodec.models.gnvc_vd.vae.causal import CausalConv3d, RMSNorm, StreamState, run_layers
from gvcodec.models.gnvc_vd.vae.config import Vae3dConfig
from gvcodec.models.gnvc_vd.vae.blocks import AttentionBlock, ResidualBlock, Resample


def _middle(dim: int, dropout: float) -> nn.ModuleList:
    return nn.ModuleList([ResidualBlock(dim, dim, dropout), AttentionBlock(dim), ResidualBlock(dim, dim, dropout)])


def _head(dim: int, out_channels: int) -> nn.ModuleList:
    return nn.ModuleList([RMSNorm(dim), nn.SiLU(), CausalConv3d(dim, out_channels, 3, padding=1)])


class Encoder3d(nn.Module):
    """Pixels N 3 T H W -> N 2z T' H' W' (mean and log-variance halves).

    Args:
        cfg: the VAE size.
    """

    def __init__(self, cfg: Vae3dConfig) -> None:
        super().__init__()
        dims = [cfg.dim * m for m in (1, *cfg.dim_mult)]
        self.conv1 = CausalConv3d(3, dims[0], 3, padding=1)
        layers, scale = [], 1.0
        for stage, (in_dim, out_dim) in enumerate(zip(dims[:-1], dims[1:])):
            for _ in range(cfg.num_res_blocks):
                layers.append(ResidualBlock(in_dim, out_dim, cfg.dropout))
                if scale in cfg.attn_scales:
                    layers.append(AttentionBlock(out_dim))
                in_dim = out_dim
            if stage < len(cfg.dim_mult) - 1:
                layers.append(Resample(out_dim, "downsample3d" if cfg.temporal_downsample[stage] else "downsample2d"))
                scale /= 2.0
        self.downsamples = nn.ModuleList(layers)
        self.middle = _middle(dims[-1], cfg.dropout)
        self.head = _head(dims[-1], 2 * cfg.z_dim)

    def forward(self, x: torch.Tensor, state: StreamState | None = None) -> torch.Tensor:
        """Encode one chunk (the state carries the causal context between chunks)."""
        x = self.conv1(x, state)
        for layers in (self.downsamples, self.middle, self.head):
            x = run_layers(layers, x, state)
        return x


class Decoder3d(nn.Module):
    """Latents N z T' H' W' -> pixels N 3 T H W (unclamped).

    Args:
        cfg: the VAE size.
    """

    def __init__(self, cfg: Vae3dConfig) -> None:
        super().__init__()
        mult = tuple(reversed(cfg.dim_mult))
        dims = [cfg.dim * m for m in (mult[0], *mult)]
        temporal_upsample = tuple(reversed(cfg.temporal_downsample))
        self.conv1 = CausalConv3d(cfg.z_dim, dims[0], 3, padding=1)
        self.middle = _middle(dims[0], cfg.dropout)
        layers, scale = [], 1.0 / 2 ** (len(cfg.dim_mult) - 2)
        for stage, (in_dim, out_dim) in enumerate(zip(dims[:-1], dims[1:])):
            if stage > 0:
                in_dim //= 2  # the previous stage's upsample halved the channels
            for _ in range(cfg.num_res_blocks + 1):
                layers.append(ResidualBlock(in_dim, out_dim, cfg.dropout))
                if scale in cfg.attn_scales:
                    layers.append(AttentionBlock(out_dim))
                in_dim = out_dim
            if stage < len(cfg.dim_mult) - 1:
                layers.append(Resample(out_dim, "upsample3d" if temporal_upsample[stage] else "upsample2d"))
                scale *= 2.0
        self.upsamples = nn.ModuleList(layers)
        self.head = _head(dims[-1], 3)

    def forward(self, z: torch.Tensor, state: StreamState | None = None) -> torch.Tensor:
        """Decode one chunk of latents (the state carries the causal context between chunks)."""
        x = self.conv1(z, state)
        for layers in (self.middle, self.upsamples, self.head):
            x = run_layers(layers, x, state)
        return x


class Vae3d(nn.Module):
    """The causal video VAE: `encode` video to normalised latents, `decode` them back.

    Both directions stream: the encoder takes frames in chunks of 1, s, s, ... (s = temporal
    stride) and the decoder one latent at a time, each keeping a small per-layer cache, so
    memory does not grow with the clip length. Gradients flow if the caller does not disable them.

    Args:
        cfg: the VAE size.
    """

    def __init__(self, cfg: Vae3dConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder3d(cfg)
        self.conv1 = CausalConv3d(2 * cfg.z_dim, 2 * cfg.z_dim, 1)
        self.conv2 = CausalConv3d(cfg.z_dim, cfg.z_dim, 1)
        self.decoder = Decoder3d(cfg)

    def _latent_stats(self, ref: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # Built on the fly from the config: they are not parameters, so public checkpoints stay strict.
        z = self.cfg.z_dim
        mean = torch.tensor(self.cfg.latent_mean or (0.0,) * z, dtype=ref.dtype, device=ref.device)
        std = torch.tensor(self.cfg.latent_std or (1.0,) * z, dtype=ref.dtype, device=ref.device)
        return mean.view(1, z, 1, 1, 1), std.view(1, z, 1, 1, 1)

    def check_video(self, video: torch.Tensor) -> None:
        """Raise ValueError unless video is N 3 T H W with T = 1 + s*k and H, W multiples of the stride."""
        cfg = self.cfg
        if video.dim() != 5 or video.shape[1] != 3:
            raise ValueError(f"video must be N x 3 x T x H x W, got shape {list(video.shape)}")
        t, h, w = video.shape[2:]
        if t < 1 or (t - 1) % cfg.temporal_stride:
            raise ValueError(f"video has {t} frames; the VAE needs 1 + {cfg.temporal_stride}k frames "
                             f"(e.g. {cfg.video_frames(cfg.latent_frames(max(t, 1)))} or "
                             f"{cfg.video_frames(cfg.latent_frames(max(t, 1)) + 1)})")
        if h % cfg.spatial_stride or w % cfg.spatial_stride:
            raise ValueError(f"picture {w}x{h} is not a multiple of {cfg.spatial_stride}; pad it first")

    def encode_chunks(self, chunks: Iterable[torch.Tensor]) -> Iterator[torch.Tensor]:
        """Encode a clip given as consecutive frame chunks, yielding its latents chunk by chunk.

        Args:
            chunks: N 3 t H W pieces of one clip in [-1, 1]; the first has 1 + s*a frames, the
                others s*b frames (s = temporal stride, a >= 0, b >= 1).

        Returns:
            An iterator of normalised latents, 1 + a then b latent frames per chunk.
        """
        state, first_shape = StreamState(), None
        stride = self.cfg.temporal_stride
        for chunk in chunks:
            if first_shape is None:
                self.check_video(chunk)
                first_shape = chunk.shape
            elif chunk.dim() != 5 or chunk.shape[:2] != first_shape[:2] or chunk.shape[3:] != first_shape[3:]:
                raise ValueError(f"chunk of shape {list(chunk.shape)} does not continue a clip of shape "
                                 f"{list(first_shape)}")
            elif chunk.shape[2] == 0 or chunk.shape[2] % stride:
                raise ValueError(f"chunks after the first must have a positive multiple of {stride} frames, "
                                 f"got {chunk.shape[2]}")
            mu = self.conv1(self.encoder(chunk, state))[:, : self.cfg.z_dim]
            mean, std = self._latent_stats(mu)
            yield (mu - mean) / std
        if first_shape is None:
            raise ValueError("no frames to encode")

    def encode(self, video: torch.Tensor, one_pass: bool = False) -> torch.Tensor:
        """Encode a clip to normalised latents, in chunks of 1, s, s, ... frames (Wan's order).

        Args:
            video: N 3 T H W in [-1, 1] with T = 1 + s*k (s = temporal stride, 4 in the Wan layout).
            one_pass: the whole clip as one chunk: the same latents (tests/models/gnvc_vd/test_vae.py)
                from fewer, larger convolutions, at the cost of more peak memory without gradients
                (with them the backward keeps every activation anyway); training uses it on its
                short crops.

        Returns:
            N z (1 + k) H/8 W/8, (mu - mean) / std per channel.
        """
        self.check_video(video)
        if one_pass:
            return next(self.encode_chunks([video]))
        stride = self.cfg.temporal_stride
        chunks = [video[:, :, :1]]
        if video.shape[2] > 1:
            chunks += list(video[:, :, 1:].split(stride, dim=2))
        return torch.cat(list(self.encode_chunks(chunks)), dim=2)

    def decode_chunks(self, chunks: Iterable[torch.Tensor], clamp: bool = True) -> Iterator[torch.Tensor]:
        """Decode a clip's latents given as consecutive chunks, yielding frames chunk by chunk.

        Args:
            chunks: N z t h w pieces of normalised latents, in order (any sizes >= 1).
            clamp: clamp the output to [-1, 1] (turn off for training losses).

        Returns:
            An iterator of N 3 t' H W frames: the first latent gives 1 frame, each later one s.
        """
        state = StreamState()
        for z in chunks:
            if z.dim() != 5 or z.shape[1] != self.cfg.z_dim or z.shape[2] == 0:
                raise ValueError(f"latents must be N x {self.cfg.z_dim} x T x h x w with T >= 1, got {list(z.shape)}")
            mean, std = self._latent_stats(z)
            frames = self.decoder(self.conv2(z * std + mean), state)
            yield frames.clamp(-1.0, 1.0) if clamp else frames

    def decode_iter(self, latents: torch.Tensor, clamp: bool = True) -> Iterator[torch.Tensor]:
        """Decode one latent at a time: latent 0 yields 1 frame, each later latent s frames.

        Args:
            latents: N z T' h w normalised latents.
            clamp: clamp the output to [-1, 1].

        Returns:
            An iterator of frame chunks N 3 t H W.
        """
        return self.decode_chunks(latents.split(1, dim=2), clamp=clamp)

    def decode(self, latents: torch.Tensor, clamp: bool = True, one_pass: bool = False) -> torch.Tensor:
        """Decode normalised latents to a clip (one latent at a time inside, as Wan does).

        Args:
            latents: N z T' h w.
            clamp: clamp the output to [-1, 1].
            one_pass: all latents as one chunk: the same frames from fewer, larger convolutions
                (training; see `encode`).

        Returns:
            N 3 (1 + s*(T' - 1)) 8h 8w.
        """
        if one_pass:
            return next(self.decode_chunks([latents], clamp=clamp))
        return torch.cat(list(self.decode_iter(latents, clamp=clamp)), dim=2)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        """Reconstruct a clip through the latents (mu only, no sampling)."""
        return self.decode(self.encode(video))
