"""A pretend accelerator on the CPU that catches device mixing (tests/test_devices.py, bin/gpu-run.sh --dry-run).

`VirtualDevice()` is a dispatch mode under which the device ``meta`` stands for an accelerator
whose tensors hold real values: `.to("meta")`, `module.to("meta")` and factory calls with
``device=<meta>`` give `DevTensor`s (CPU data, reporting device meta), every op on them runs on
their CPU data, and an op that meets a DevTensor together with a plain CPU tensor of more than
one element raises `DeviceMix` - exactly the calls that fail on CUDA ("Expected all tensors to
be on the same device"). 0-dim CPU tensors mix freely, as CUDA allows. `.cpu()` / `.to("cpu")`
/ `.numpy()` after `.cpu()` work as on a GPU. So CPU-only code paths that would mix devices on a
real GPU (integer twins left on the CPU, a `torch.from_numpy` result meeting model tensors,
`torch.tensor(...)` without a device) fail here, with real values, including the exact
entropy-coding paths that the `meta` device alone cannot run (they need data).

A factory call with a CPU generator and device meta also raises, as it does on CUDA.
"""

from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode, return_and_correct_aliasing
from torch.utils._pytree import tree_flatten, tree_map

DEV = torch.device("meta")


class DeviceMix(RuntimeError):
    """A CPU tensor met a (pretend) accelerator tensor in one op."""


class DevTensor(torch.Tensor):
    """CPU data that reports device meta (the pretend accelerator)."""

    elem: torch.Tensor
    __slots__ = ["elem"]

    @staticmethod
    def __new__(cls, elem: torch.Tensor, requires_grad: bool = False):
        r = torch.Tensor._make_wrapper_subclass(
            cls, elem.size(), strides=elem.stride(), storage_offset=elem.storage_offset(),
            dtype=elem.dtype, layout=elem.layout, device=DEV, requires_grad=requires_grad)
        r.elem = elem
        return r

    def __repr__(self):  # pragma: no cover - debugging aid
        return f"DevTensor({self.elem!r})"

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        # Only reached outside VirtualDevice (e.g. a tensor that escaped the test's `with`).
        raise DeviceMix(f"{func}: pretend-device tensor used outside VirtualDevice")


def _is_dev(d) -> bool:
    return d is not None and torch.device(d).type == "meta"


class _DataConstructors(TorchFunctionMode):
    # torch.tensor(data, device=meta) copies its data past the dispatcher: make it on the CPU, then move.
    _FUNCS = {torch.tensor, torch.as_tensor, torch.asarray, torch.Tensor.new_tensor}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func in self._FUNCS and _is_dev(kwargs.get("device")):
            kwargs["device"] = "cpu"
            return func(*args, **kwargs).to(DEV)
        return func(*args, **kwargs)


ACTIVE = [0]  # VirtualDevice modes entered and not left: while > 0, `--Device=meta` is accepted by the options


class VirtualDevice(TorchDispatchMode):
    """Dispatch mode making ``meta`` a pretend accelerator with real (CPU) values."""

    def __init__(self, allow=()):
        super().__init__()
        self.ops = 0
        self.allow = set(allow)
        self._functions = _DataConstructors()

    def __enter__(self):
        self._functions.__enter__()
        ACTIVE[0] += 1
        return super().__enter__()

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        finally:
            ACTIVE[0] -= 1
            self._functions.__exit__(*exc)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        self.ops += 1
        flat, _ = tree_flatten((args, kwargs))
        tensors = [t for t in flat if isinstance(t, torch.Tensor)]
        dev_in = any(isinstance(t, DevTensor) for t in tensors)
        plain = [t for t in tensors if not isinstance(t, DevTensor) and t.device.type == "cpu" and t.dim() > 0]
        name = func.overloadpacket.__name__
        to_dev = _is_dev(kwargs.get("device"))
        to_host = "device" in kwargs and kwargs["device"] is not None and not to_dev
        if name in ("_to_copy", "to", "copy_", "_copy_from", "_copy_from_and_resize") or name in self.allow:
            pass  # explicit moves between host and device are what the code must do
        elif dev_in and plain:
            shapes = [tuple(t.shape) for t in plain]
            raise DeviceMix(f"{func}: CPU tensor(s) {shapes} meet a device tensor")
        elif to_dev and isinstance(kwargs.get("generator"), torch.Generator) \
                and kwargs["generator"].device.type == "cpu":
            raise DeviceMix(f"{func}: CPU generator for a device tensor")
        if to_dev:
            kwargs["device"] = torch.device("cpu")
        # meta tensors made elsewhere (none should exist under the mode) have no data: refuse.
        for t in tensors:
            if not isinstance(t, DevTensor) and t.device.type == "meta":
                raise DeviceMix(f"{func}: a real meta tensor (no data) under VirtualDevice")
        u_args = tree_map(lambda t: t.elem if isinstance(t, DevTensor) else t, args)
        u_kwargs = tree_map(lambda t: t.elem if isinstance(t, DevTensor) else t, kwargs)
        out = func(*u_args, **u_kwargs)
        if name.endswith("_") and args and isinstance(args[0], torch.Tensor):
            return args[0]  # in-place: the (wrapped or plain) input itself
        wrap_out = (dev_in and not to_host) or to_dev
        if not wrap_out:
            return out
        wrapped = tree_map(lambda t: DevTensor(t) if isinstance(t, torch.Tensor) and not isinstance(t, DevTensor)
                           else t, out)
        return return_and_correct_aliasing(func, args, kwargs, wrapped)
