"""Module: the base of every layer and network, with its parameters, buffers and sub-modules.

A module registers what is assigned to it: ``self.weight = Parameter(...)`` becomes a parameter,
``self.fc = Linear(...)`` a sub-module, ``self.register_buffer("running_mean", ...)`` a buffer
(state that is saved but not trained). Everything is kept in definition order, so
``parameters()`` and ``state_dict()`` list the same names in the same order in every process.
"""

import numpy as np

from ..tensor import Tensor, _to_array


class Parameter(Tensor):
    """A tensor that is a trainable weight of a module (``requires_grad=True`` by default)."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        array = data.data if isinstance(data, Tensor) else _to_array(data, copy=False)
        Tensor.__init__(self, array, requires_grad=requires_grad, dtype=array.dtype)
        self.data = array  # share, as torch.nn.Parameter(tensor) does

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)


def _array(value):
    """A NumPy array from a Tensor, an array, a number or a PyTorch tensor."""
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


class Module:
    """Base class of layers and networks: subclasses set attributes in ``__init__`` and define
    ``forward``; calling the module calls ``forward``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() before "
                               f"assigning attributes (here: {name!r})")
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name, value, persistent=True):
        """Keep ``value`` (a tensor or array) as state of the module: saved in ``state_dict``
        (unless persistent=False) but not a parameter."""
        if value is not None and not isinstance(value, Tensor):
            value = Tensor(value, dtype=np.asarray(value).dtype)
        object.__setattr__(self, name, value)
        self._buffers[name] = value
        if not persistent:
            self.__dict__.setdefault("_non_persistent", set()).add(name)

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent one such as bias=False)."""
        if param is None:
            object.__setattr__(self, name, None)
            self._parameters[name] = None
        else:
            setattr(self, name, param)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- walking the tree
    def named_children(self):
        """(name, module) for each direct sub-module, in definition order."""
        return iter(self._modules.items())

    def children(self):
        """Each direct sub-module, in definition order."""
        return (m for _, m in self.named_children())

    def named_modules(self, prefix=""):
        """(dotted name, module) for this module and every module below it, depth first."""
        seen, stack = set(), [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m) for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        """This module and every module below it."""
        return (m for _, m in self.named_modules())

    def _named(self, registry, recurse):
        seen = set()
        modules = self.named_modules() if recurse else [("", self)]
        for prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self, recurse=True):
        """(dotted name, parameter) in definition order; a parameter shared by two layers appears once."""
        return self._named("_parameters", recurse)

    def parameters(self, recurse=True):
        """Every parameter, in definition order (what an optimizer needs)."""
        return (p for _, p in self.named_parameters(recurse))

    def named_buffers(self, recurse=True):
        """(dotted name, buffer) in definition order."""
        return self._named("_buffers", recurse)

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse))

    def num_parameters(self, trainable_only=False):
        """The number of scalar weights (all parameters, or only those that require grad)."""
        return int(sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only))

    # -- modes and gradients
    def train(self, mode=True):
        """Training mode (dropout active, batch norm uses and updates batch statistics)."""
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Forget the gradients of every parameter."""
        for p in self.parameters():
            p.grad = None if set_to_none or p.grad is None else Tensor._wrap(np.zeros_like(p.data))

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze every parameter."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def apply(self, fn):
        """Call ``fn(module)`` for every module below and including this one (e.g. to initialise)."""
        for m in self.modules():
            fn(m)
        return self

    # -- state
    def state_dict(self):
        """{dotted name: tensor} of every parameter and persistent buffer, in definition order.
        The tensors share memory with the module (copy them to keep a snapshot)."""
        state = {}
        for prefix, module in self.named_modules():
            hidden = module.__dict__.get("_non_persistent", ())
            for registry in (module._parameters, module._buffers):
                for name, value in registry.items():
                    if value is not None and name not in hidden:
                        state[f"{prefix}.{name}" if prefix else name] = value.detach()
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy the values of ``state_dict`` into this module's parameters and buffers, in place.

        Values may be tensors, arrays or anything array-like (a PyTorch CPU tensor works). With
        ``strict=True`` missing and unexpected keys are errors; a shape mismatch always is.
        Returns (missing_keys, unexpected_keys).
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict for {type(self).__name__}: missing keys {missing}, "
                           f"unexpected keys {unexpected}; pass strict=False to load the matching ones")
        values = {k: _array(v) for k, v in state_dict.items() if k in own}
        mismatched = [f"{k}: checkpoint has shape {tuple(v.shape)}, the model has {tuple(own[k].shape)}"
                      for k, v in values.items() if v.shape != own[k].shape]
        if mismatched:
            raise ValueError("load_state_dict: shape mismatch for " + "; ".join(mismatched))
        for key, value in values.items():
            own[key].data[...] = value
        return missing, unexpected

    # -- devices and dtypes
    def to(self, *args, **kwargs):
        """Convert the floating-point parameters and buffers (and their gradients) to a dtype, in
        place, and return self, as ``torch.nn.Module.to``: ``to(dtype)``, ``to(device)``,
        ``to(device, dtype)``, ``to(tensor)`` (its dtype), ``to(device=..., dtype=...)``. The
        parameters stay the same objects, so an optimizer made before still updates them.

        nnscratch computes on the CPU: 'cpu' is accepted; 'cuda', 'mps' and other devices raise an
        error naming the fix (device='cpu'). float16/bfloat16 are refused: nnscratch's math is float32
        and float64."""
        device, dtype = _parse_to(args, kwargs)
        check_device(device, f"{type(self).__name__}.to")
        if dtype is None:
            return self
        if dtype.kind not in "fc":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
        return self._cast(check_float_dtype(dtype, f"{type(self).__name__}.to"))

    def _cast(self, dtype):
        """Every floating-point parameter, buffer and gradient to ``dtype``, in place."""
        for module in self.modules():
            for registry in (module._parameters, module._buffers):
                for value in registry.values():
                    if value is None or value.data.dtype.kind != "f" or value.data.dtype == dtype:
                        continue
                    value.data = value.data.astype(dtype)
                    if value.grad is not None:
                        value.grad = Tensor._wrap(value.grad.data.astype(dtype))
        return self

    def float(self):
        """Floating-point parameters and buffers to float32; returns self."""
        return self._cast(np.dtype(np.float32))

    def double(self):
        """Floating-point parameters and buffers to float64; returns self."""
        return self._cast(np.dtype(np.float64))

    def half(self):
        """Refused: nnscratch has no float16 arithmetic (use float() or double())."""
        check_float_dtype(np.dtype(np.float16), f"{type(self).__name__}.half")

    def bfloat16(self):
        """Refused: nnscratch has no bfloat16 arithmetic (use float() or double())."""
        raise TypeError(f"{type(self).__name__}.bfloat16(): bfloat16 is not supported by nnscratch, which "
                        "computes in float32 or float64; use model.float() (or leave the model as it is)")

    def type(self, dst_type):
        """Floating-point parameters and buffers to ``dst_type``; returns self."""
        return self.to(dst_type)

    def cpu(self):
        """Return self: nnscratch keeps everything on the CPU."""
        return self

    def cuda(self, device=None):
        """Refused with a clear message: CUDA is not available in nnscratch."""
        check_device("cuda" if device is None else device, f"{type(self).__name__}.cuda")

    # -- building
    def add_module(self, name, module):
        """Register ``module`` (or None) as the sub-module ``name`` (``self.name = module``)."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"module name must be a non-empty string without '.', got {name!r}")
        if module is None:
            object.__setattr__(self, name, None)
            self._modules[name] = None
        elif not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        else:
            setattr(self, name, module)

    register_module = add_module

    def get_submodule(self, target):
        """The sub-module at the dotted path ``target`` ('' is self)."""
        module = self
        for name in target.split(".") if target else ():
            if name not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no sub-module {name!r} (looking for {target!r})")
            module = module._modules[name]
        return module

    # -- printing
    def extra_repr(self):
        """The layer's settings, shown in ``repr`` (e.g. 'in_features=784, out_features=100')."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        """PyTorch's layout: ``Name(extra)`` for a leaf, otherwise one indented ``(name): child`` line
        per sub-module (see ``summary()`` for the same with parameter counts)."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + repr(module).replace("\n", "\n  ") for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"

    def summary(self):
        """The structure as ``repr`` shows it, with the number of weights of each layer and the total."""
        return self._summary(top=True)

    def _summary(self, top=False):
        head = f"{self._get_name()}({self.extra_repr()}"
        if not self._modules:
            n = sum(p.size for p in self._parameters.values() if p is not None)
            text = head + ")" + (f"  # {n:,} parameters" if n else "")
        else:
            lines = [head]
            for name, module in self._modules.items():
                child = module._summary() if module is not None else "None"
                lines.append(f"  ({name}): " + child.replace("\n", "\n  "))
            text = "\n".join(lines) + "\n)"
        if top and self._modules:
            text += f"  # {self.num_parameters():,} parameters in total"
        return text


def _parse_to(args, kwargs):
    """(device, dtype) from the arguments of ``to`` as PyTorch accepts them."""
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(unknown)}")
    device, dtype = kwargs.get("device"), kwargs.get("dtype")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, bool):
            continue  # non_blocking
        elif isinstance(arg, (str, int)) or hasattr(arg, "type") and not isinstance(arg, type):
            if _as_dtype(arg) is not None and not isinstance(arg, (str, int)):
                dtype = arg
            else:
                device = arg
        else:
            dtype = arg
    return device, (None if dtype is None else _as_dtype(dtype, strict=True))


def _as_dtype(value, strict=False):
    """A NumPy dtype from a NumPy dtype or type, or a dtype object named like 'torch.float32'."""
    try:
        return np.dtype(value)
    except TypeError:
        pass
    name = str(value).replace("torch.", "")
    try:
        return np.dtype({"half": "float16", "float": "float32", "double": "float64", "long": "int64"}.get(name, name))
    except TypeError:
        if strict:
            raise TypeError(f"{value!r} is not a dtype") from None
        return None


def check_device(device, where="nnscratch"):
    """Accept the CPU (None, 'cpu', a device of type 'cpu'); refuse any other device clearly."""
    if device is None:
        return
    kind = "cuda" if isinstance(device, int) else str(getattr(device, "type", device)).split(":")[0]
    if kind != "cpu":
        raise RuntimeError(f"{where}: device {str(getattr(device, 'type', device))!r} is not available: nnscratch "
                           f"runs on the CPU only (CUDA is not available in nnscratch). Use device='cpu', e.g. "
                           f"device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')")


def apply_factory_arguments(module, device=None, dtype=None):
    """PyTorch's ``device=`` / ``dtype=`` constructor arguments of a layer: the CPU only, a float dtype."""
    check_device(device, type(module).__name__)
    if dtype is not None:
        module.to(dtype=dtype)


def check_float_dtype(dtype, where="nnscratch"):
    """``dtype`` if nnscratch computes in it (float32, float64); a clear error for float16 and others."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{where}: {dtype} is not supported by nnscratch, which computes in float32 or float64 "
                        f"(no half precision); use float32 (model.float()) or float64 (model.double())")
    return dtype
