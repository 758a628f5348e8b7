"""Restricted Boltzmann machines (RBM) and deep belief networks (DBN).

An RBM has a visible layer v and a hidden layer h with connections only between the layers,
weights W of shape (n_hidden, n_visible) as ``nn.Linear`` stores them, and biases b (visible) and
c (hidden). Its energy and the probability it gives a configuration are

    Bernoulli visible units:  E(v, h) = -b·v - c·h - hᵀW v
    Gaussian visible units:   E(v, h) = ½‖v - b‖² - c·h - hᵀW v      (unit variance)
    p(v, h) = exp(-E(v, h)) / Z

and because no unit talks to another of its own layer, each layer given the other factorises:

    p(h_j = 1 | v) = σ(c_j + W_j· v)
    p(v_i = 1 | h) = σ(b_i + (Wᵀh)_i)         Bernoulli,   or   v | h ~ N(b + Wᵀh, 1)   Gaussian

so one matrix product gives a whole layer for a whole batch. Training follows the gradient of
the log-likelihood, ⟨v hᵀ⟩_data - ⟨v hᵀ⟩_model, whose second term is estimated from Gibbs chains:
contrastive divergence CD-k starts them at the data and runs k steps; persistent CD (PCD) keeps
them running from one mini-batch to the next. The update is computed directly with NumPy (not by
autograd), with learning rate, momentum and L2 weight decay.

A DBN stacks RBMs and trains them greedily, one at a time, each on the hidden probabilities of
the one below (no labels needed); ``DBN.to_mlp`` turns the stack into an ordinary sigmoid MLP
with those weights, to be fine-tuned with backpropagation.
"""

import math
import time

import numpy as np

from .. import backend
from .. import functional as F
from ..tensor import Tensor
from .containers import ModuleList
from .mlp import MLP
from .module import Module, Parameter

VISIBLE_UNITS = ("bernoulli", "gaussian")


def _sigmoid(x):
    """σ(x) in place on a float array, as ½(1 + tanh(x/2)): no overflow warnings for large |x|."""
    x *= 0.5
    np.tanh(x, out=x)
    x += 1
    x *= 0.5
    return x


def _bernoulli(p, rng):
    """0/1 samples with P(1) = p, in p's dtype."""
    return (rng.random(p.shape, dtype=p.dtype) < p).astype(p.dtype)


def _units_to_flip(random_state, n_samples, n_units):
    """One unit index per sample: from ``random_state`` (an int or a numpy RandomState) drawn exactly
    as scikit-learn's ``score_samples`` draws them, or from nnscratch's generator when None."""
    if random_state is None:
        return backend.generator().integers(0, n_units, n_samples)
    if not isinstance(random_state, np.random.RandomState):
        random_state = np.random.RandomState(random_state)
    return random_state.randint(0, n_units, n_samples)


def _states(n):
    """All 2**n binary vectors of length n, as the rows of a float64 array."""
    return ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1).astype(np.float64)


class RBM(Module):
    """``RBM(n_visible, n_hidden, visible='bernoulli'|'gaussian')``: a restricted Boltzmann machine.

    Parameters (a Module, so ``state_dict``/``ns.save`` work): ``weight`` (n_hidden, n_visible)
    drawn from N(0, init_std²) with the generator ``ns.manual_seed`` seeds, ``h_bias`` (n_hidden)
    and ``v_bias`` (n_visible), both zero. Gaussian visible units assume data standardised to unit
    variance per pixel. Methods take arrays (or Tensors) of shape (N, n_visible) — or (N, ...) that
    flattens to it — and return float32 arrays; calling the module gives p(h | v) as a Tensor.
    """

    def __init__(self, n_visible, n_hidden, visible="bernoulli", init_std=0.01):
        super().__init__()
        if visible not in VISIBLE_UNITS:
            raise ValueError(f"visible must be one of {', '.join(VISIBLE_UNITS)}, got {visible!r}")
        if n_visible < 1 or n_hidden < 1:
            raise ValueError(f"an RBM needs at least one visible and one hidden unit, got {n_visible} and {n_hidden}")
        dtype = backend.get_default_dtype()
        self.n_visible, self.n_hidden, self.visible = int(n_visible), int(n_hidden), visible
        self.weight = Parameter(backend.generator().normal(0.0, init_std, (n_hidden, n_visible)).astype(dtype))
        self.h_bias = Parameter(np.zeros(n_hidden, dtype))
        self.v_bias = Parameter(np.zeros(n_visible, dtype))
        self.persistent_chain = None  # hidden states of the PCD chains, kept between mini-batches
        self._velocity = None

    # -- conditionals: one matrix product each
    def _as_visible(self, v):
        v = v.data if isinstance(v, Tensor) else np.asarray(v)
        if v.ndim == 1:
            v = v[None]
        if v.size != len(v) * self.n_visible:
            raise ValueError(f"the RBM has {self.n_visible} visible units but got input of shape {tuple(v.shape)}; "
                             f"pass (N, {self.n_visible})")
        return v.reshape(len(v), self.n_visible).astype(self.weight.dtype, copy=False)

    def prob_h_given_v(self, v):
        """p(h = 1 | v) = σ(v Wᵀ + c), shape (N, n_hidden)."""
        v = self._as_visible(v)
        return _sigmoid(v @ self.weight.data.T + self.h_bias.data)

    def prob_v_given_h(self, h):
        """The mean of p(v | h): σ(h W + b) for Bernoulli units, h W + b for Gaussian ones."""
        mean = np.asarray(h, self.weight.dtype) @ self.weight.data + self.v_bias.data
        return _sigmoid(mean) if self.visible == "bernoulli" else mean

    def sample_h_given_v(self, v):
        """Binary hidden states drawn from p(h | v)."""
        return _bernoulli(self.prob_h_given_v(v), backend.generator())

    def sample_v_given_h(self, h):
        """Visible states drawn from p(v | h): 0/1 for Bernoulli units, mean + N(0, 1) for Gaussian."""
        return self._sample_visible(self.prob_v_given_h(h))

    def _sample_visible(self, mean):
        rng = backend.generator()
        if self.visible == "bernoulli":
            return _bernoulli(mean, rng)
        return mean + rng.standard_normal(mean.shape, dtype=mean.dtype)

    def gibbs(self, v, k=1):
        """k steps of block Gibbs sampling v → h → v from ``v``; returns the last visible sample."""
        v = self._as_visible(v)
        for _ in range(k):
            v = self.sample_v_given_h(self.sample_h_given_v(v))
        return v

    # -- energies and likelihood
    def _visible_term(self, v):
        """-b·v (Bernoulli) or ½‖v - b‖² (Gaussian): the part of the energy without h."""
        if self.visible == "bernoulli":
            return -(v @ self.v_bias.data)
        return 0.5 * ((v - self.v_bias.data) ** 2).sum(axis=1)

    def energy(self, v, h):
        """E(v, h) per sample: -b·v - c·h - hᵀWv (Bernoulli), ½‖v - b‖² - c·h - hᵀWv (Gaussian)."""
        v, h = self._as_visible(v), np.asarray(h, self.weight.dtype).reshape(-1, self.n_hidden)
        return self._visible_term(v) - h @ self.h_bias.data - ((h @ self.weight.data) * v).sum(axis=1)

    def free_energy(self, v):
        """F(v) = -log Σ_h exp(-E(v, h)) = -b·v - Σ_j softplus(c_j + W_j·v) (Bernoulli; the first
        term is ½‖v - b‖² for Gaussian units), so p(v) = exp(-F(v)) / Z."""
        v = self._as_visible(v)
        return self._visible_term(v) - np.logaddexp(0, v @ self.weight.data.T + self.h_bias.data).sum(axis=1)

    def log_partition(self):
        """log Z by exact enumeration, in float64 (tiny RBMs only: 2**20 states at most). Sums over
        the hidden states, or for Bernoulli units over the visible ones when there are fewer."""
        W, b, c = (p.data.astype(np.float64) for p in (self.weight, self.v_bias, self.h_bias))
        n = self.n_visible if self.visible == "bernoulli" and self.n_visible < self.n_hidden else self.n_hidden
        if n > 20:
            raise ValueError(f"log_partition enumerates 2**{n} states; it is meant for RBMs with at most 20 units "
                             "in the smaller layer")
        if self.visible == "bernoulli" and self.n_visible < self.n_hidden:
            v = _states(n)
            terms = v @ b + np.logaddexp(0, v @ W.T + c).sum(axis=1)
        else:
            h = _states(n)
            a = b + h @ W  # the visible units' total input for each hidden state
            if self.visible == "bernoulli":
                terms = h @ c + np.logaddexp(0, a).sum(axis=1)
            else:  # ∫ exp(-½‖v-b‖² + vᵀWᵀh) dv = (2π)^(n/2) exp(½‖b + Wᵀh‖² - ½‖b‖²)
                terms = h @ c + 0.5 * (a ** 2).sum(axis=1) - 0.5 * b @ b + 0.5 * self.n_visible * math.log(2 * math.pi)
        top = terms.max()
        return float(top + np.log(np.exp(terms - top).sum()))

    def log_likelihood(self, v):
        """log p(v) = -F(v) - log Z per sample, exactly (tiny RBMs only; see ``log_partition``)."""
        v = self._as_visible(v).astype(np.float64)
        saved = self.weight.data, self.v_bias.data, self.h_bias.data
        try:  # the free energy in float64 too
            self.weight.data, self.v_bias.data, self.h_bias.data = (a.astype(np.float64) for a in saved)
            free = self.free_energy(v)
        finally:
            self.weight.data, self.v_bias.data, self.h_bias.data = saved
        return -free - self.log_partition()

    def pseudo_likelihood(self, v, random_state=None):
        """The pseudo-likelihood of binary ``v``, computed as scikit-learn's
        ``BernoulliRBM.score_samples``: one randomly chosen unit i of each sample is flipped (v → ṽ)
        and the score is n_visible · log σ(F(ṽ) - F(v)), an estimate of Σ_i log p(v_i | v_-i).
        ``random_state`` (an int or a numpy RandomState) picks the units exactly as scikit-learn
        does, so the same weights and state give the same numbers; None uses nnscratch's generator."""
        if self.visible != "bernoulli":
            raise ValueError("pseudo_likelihood is defined for binary (bernoulli) visible units only")
        v = self._as_visible(v)
        flip = (np.arange(len(v)), _units_to_flip(random_state, v.shape[0], v.shape[1]))
        flipped = v.copy()
        flipped[flip] = 1 - flipped[flip]
        return -v.shape[1] * np.logaddexp(0, -(self.free_energy(flipped) - self.free_energy(v)))

    # -- using a trained RBM
    def forward(self, v):
        """p(h = 1 | v) as a Tensor (differentiable): sigmoid(v Wᵀ + c)."""
        return F.sigmoid(F.linear(v, self.weight, self.h_bias))

    def transform(self, v):
        """The features of ``v``: hidden probabilities p(h = 1 | v), shape (N, n_hidden)."""
        return self.prob_h_given_v(v)

    def reconstruct(self, v):
        """One deterministic pass down and up: the mean of p(v | h) at h = p(h = 1 | v)."""
        return self.prob_v_given_h(self.prob_h_given_v(v))

    def reconstruction_error(self, v):
        """Mean over samples of the squared error Σ_i (v_i - v̂_i)² of ``reconstruct(v)``."""
        v = self._as_visible(v)
        return float(((v - self.reconstruct(v)) ** 2).sum(axis=1).mean())

    # -- training
    def contrastive_divergence(self, v, k=1, persistent=False):
        """The CD-k (or, with ``persistent``, PCD-k) estimate of the log-likelihood gradient for a
        mini-batch: (dW, dc, db) = (⟨h vᵀ⟩_data - ⟨h vᵀ⟩_model, ⟨h⟩_data - ⟨h⟩_model,
        ⟨v⟩_data - ⟨v⟩_model), averaged over the batch and over the chains. The data side uses
        p(h | v); the model side runs k Gibbs steps from the data (CD) or from the chains of the
        previous batch (PCD: ``persistent_chain`` keeps the chains' hidden states, as scikit-learn's
        ``h_samples_``) and uses the last visible sample and p(h | that sample), so that as k grows
        the estimate tends to the exact gradient."""
        v = self._as_visible(v)
        if int(k) < 1:
            raise ValueError(f"k (Gibbs steps) must be at least 1, got {k}")
        rng = backend.generator()
        h_data = self.prob_h_given_v(v)
        if persistent and self.persistent_chain is not None:
            h = self.persistent_chain
        else:  # CD, and the first PCD batch: the chains start at the data
            h = _bernoulli(h_data, rng)
        for step in range(int(k)):
            v_model = self.sample_v_given_h(h)
            h_model = self.prob_h_given_v(v_model)
            if step < k - 1 or persistent:
                h = _bernoulli(h_model, rng)
        if persistent:
            self.persistent_chain = h
        dW = h_data.T @ v
        dW /= len(v)
        dW -= (h_model.T @ v_model) / len(v_model)
        return dW, h_data.mean(axis=0) - h_model.mean(axis=0), v.mean(axis=0) - v_model.mean(axis=0)

    def partial_fit(self, v, lr=0.1, k=1, persistent=False, momentum=0.0, weight_decay=0.0):
        """One update on the mini-batch ``v``: velocity ← momentum · velocity + lr · (gradient -
        weight_decay · W) (no decay on biases), then parameters += velocity. Returns self."""
        dW, dc, db = self.contrastive_divergence(v, k=k, persistent=persistent)
        if weight_decay:
            dW -= weight_decay * self.weight.data
        grads = (dW, dc, db)
        if self._velocity is None:
            self._velocity = [np.zeros_like(g) for g in grads]
        for velocity, grad, param in zip(self._velocity, grads, (self.weight, self.h_bias, self.v_bias)):
            velocity *= momentum
            velocity += lr * grad
            param.data += velocity
        return self

    def fit(self, x, epochs=10, batch_size=100, lr=0.1, k=1, persistent=False, momentum=0.0, weight_decay=0.0,
            shuffle=True, verbose=False, log=print, name="RBM"):
        """Train on ``x`` (N, n_visible) by CD-k, or PCD-k with ``persistent=True``, for ``epochs``
        passes over mini-batches of ``batch_size`` (shuffled each epoch from the seedable generator).
        ``momentum`` may be a number or a function of the epoch (1, 2, ...). Returns the per-epoch
        history: a list of dicts with epoch, reconstruction_error (after the epoch, on the first
        2,000 samples at most) and seconds (of training, without that measurement)."""
        x = self._as_visible(x)
        if batch_size < 1 or epochs < 0:
            raise ValueError(f"batch_size must be at least 1 and epochs at least 0, got {batch_size} and {epochs}")
        history = []
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            order = backend.generator().permutation(len(x)) if shuffle else np.arange(len(x))
            m = momentum(epoch) if callable(momentum) else momentum
            for i in range(0, len(x), batch_size):
                self.partial_fit(x[order[i:i + batch_size]], lr=lr, k=k, persistent=persistent, momentum=m,
                                 weight_decay=weight_decay)
            seconds = time.perf_counter() - start
            row = {"epoch": epoch, "reconstruction_error": self.reconstruction_error(x[:2000]), "seconds": seconds}
            history.append(row)
            if verbose:
                log(f"{name} epoch {epoch}/{epochs}: reconstruction error {row['reconstruction_error']:.4f} "
                    f"({row['seconds']:.1f} s)")
        return history

    def extra_repr(self):
        return f"n_visible={self.n_visible}, n_hidden={self.n_hidden}, visible={self.visible!r}"


class DBN(Module):
    """``DBN([784, 500, 500, 2000])``: a deep belief network, a stack of RBMs (``self.rbms``) with
    sizes[i] visible and sizes[i+1] hidden units; the first may have Gaussian visible units.

    ``pretrain(x)`` trains them greedily without labels: RBM 1 on x, RBM k on the hidden
    probabilities of RBM k-1. ``to_mlp(n_classes)`` returns ``nn.MLP(sizes + [n_classes],
    activation='sigmoid')`` whose hidden layers hold exactly the RBMs' weights and hidden biases,
    ready for fine-tuning by backpropagation.
    """

    def __init__(self, sizes, visible="bernoulli", init_std=0.01):
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"a DBN needs at least a visible and a hidden layer size, got {sizes}")
        self.sizes = sizes
        self.rbms = ModuleList(RBM(n_in, n_out, visible if i == 0 else "bernoulli", init_std)
                               for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])))

    def forward(self, v):
        """The top layer's hidden probabilities as a Tensor (each RBM's p(h | v) in turn)."""
        for rbm in self.rbms:
            v = rbm(v)
        return v

    def transform(self, v, layers=None):
        """Hidden probabilities after the first ``layers`` RBMs (all by default), as an array."""
        for rbm in list(self.rbms)[:layers]:
            v = rbm.transform(v)
        return v

    def pretrain(self, x, epochs=10, batch_size=100, lr=0.1, k=1, persistent=False, momentum=0.0,
                 weight_decay=0.0, verbose=True, log=print, **kwargs):
        """Greedy layer-wise training: each RBM is fit (``RBM.fit`` with these settings; ``epochs``
        and ``lr`` may be lists, one per layer) on the hidden probabilities of the layer below, then
        the data moves up one layer. Returns one history per layer."""
        n = len(self.rbms)
        epochs = list(epochs) if isinstance(epochs, (list, tuple)) else [epochs] * n
        lrs = list(lr) if isinstance(lr, (list, tuple)) else [lr] * n
        if len(epochs) != n or len(lrs) != n:
            raise ValueError(f"epochs and lr lists need one value per RBM ({n}), got {len(epochs)} and {len(lrs)}")
        data, histories = x, []
        for i, rbm in enumerate(self.rbms):
            name = f"pre-training layer {i + 1}/{n} ({rbm.n_visible}-{rbm.n_hidden})"
            histories.append(rbm.fit(data, epochs=epochs[i], batch_size=batch_size, lr=lrs[i], k=k,
                                     persistent=persistent, momentum=momentum, weight_decay=weight_decay,
                                     verbose=verbose, log=log, name=name, **kwargs))
            if i < n - 1:
                data = rbm.transform(data)
        return histories

    def to_mlp(self, n_classes, dropout=0.0):
        """``nn.MLP(sizes + [n_classes], activation='sigmoid', dropout=dropout)`` with each hidden
        Linear layer's weight and bias copied from the RBMs' ``weight`` and ``h_bias``; the output
        layer keeps its fresh (Xavier) initialisation."""
        mlp = MLP(self.sizes + [int(n_classes)], activation="sigmoid", dropout=dropout, init="xavier")
        linears = [m for m in mlp if type(m).__name__ == "Linear"]
        for linear, rbm in zip(linears, self.rbms):
            linear.weight.data[...] = rbm.weight.data
            linear.bias.data[...] = rbm.h_bias.data
        return mlp

    def sample(self, n=None, gibbs_steps=200, start=None):
        """Samples of the visible layer drawn from the model: a Gibbs chain of ``gibbs_steps`` in
        the top RBM — started from the top-layer features of ``start`` (data) or, without it, from
        ``n`` random binary states — then one pass down through the lower RBMs' p(v | h) means.
        Returns (N, sizes[0])."""
        top = self.rbms[len(self.rbms) - 1]
        if start is not None:
            v = _bernoulli(self.transform(start, len(self.rbms) - 1), backend.generator()) \
                if len(self.rbms) > 1 else self.rbms[0]._as_visible(start)
        else:
            if n is None:
                raise ValueError("sample needs n (how many samples) or start (data to start the chains from)")
            v = _bernoulli(np.full((n, top.n_visible), 0.5, self.rbms[0].weight.dtype), backend.generator())
        h = top.prob_h_given_v(top.gibbs(v, gibbs_steps)) if gibbs_steps else top.prob_h_given_v(v)
        v = top.prob_v_given_h(h)
        for rbm in reversed(list(self.rbms)[:-1]):
            v = rbm.prob_v_given_h(v)
        return v

    def extra_repr(self):
        return f"sizes={self.sizes}"
