"""``torch.backends``: the flags scripts set or query for GPU libraries. nnscratch has none of
them: ``mps.is_available()`` is False, and cuDNN's ``deterministic``/``benchmark`` flags may be
set (nnscratch is deterministic for a given seed anyway) without effect."""

import types

mps = types.SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
cudnn = types.SimpleNamespace(deterministic=False, benchmark=False, enabled=False, is_available=lambda: False)
cuda = types.SimpleNamespace(is_built=lambda: False)
