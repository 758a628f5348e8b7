"""Recurrent networks: the Elman RNN, the LSTM and the GRU, as cells and as whole sequences.

With x_t the input at step t, h_{t-1} the previous hidden state and σ the logistic sigmoid
(PyTorch's equations, gate order and parameter layout):

RNN   h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)            (or relu)

LSTM  i = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)                 input gate
      f = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)                 forget gate
      g = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)              candidate cell
      o = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)                 output gate
      c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)
      W_ih = [W_ii; W_if; W_ig; W_io] of shape (4H, I), W_hh likewise (4H, H)

GRU   r = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)                 reset gate
      z = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)                 update gate
      n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))        candidate
      h_t = (1 - z) * n + z * h_{t-1}
      W_ih = [W_ir; W_iz; W_in] of shape (3H, I), W_hh likewise (3H, H)

How it is computed. One ``Function`` runs one layer in one direction over the whole sequence:
the input projection W_ih x_t + b for all T steps is one matrix product, ``[x_t, 1] @ [W_ih, b]^T`` (the
column of ones brings in the bias; the backward's ``[dL/dW_ih, dL/db_ih]`` is one product with it too);
the Python loop over time does only the recurrent product h_{t-1} W_hh^T and the elementwise gate
math, on arrays. Its backward (backpropagation through time) loops over the steps in reverse, again
on arrays, collecting dL/d(pre-activations) for all steps; the weight gradients are then one matrix
product each (dL/dW_hh = Σ_t dG_t^T h_{t-1}). No graph node per step is made, so long sequences cost no
recursion and little bookkeeping. The backward is computed on saved arrays, so these functions
are ``once_differentiable``. (A fused per-step cell Function looped in Python was measured too:
1.6-1.9 times slower on row-MNIST LSTM shapes, from the per-step graph nodes and the T separate
dL/dW_hh products.) The cells are the same function on a sequence of length 1.

Measured on row-MNIST shapes (28 steps, batch 100, hidden 128), and why the loops look as they do:
h_{t-1} times a contiguous copy of W_hh^T is a faster OpenBLAS product than the transposed view;
memory traffic counts more than arithmetic, so the LSTM makes its backward factors inside the
forward loop while the step is in cache, and its backward writes dG over them in place; and one
gate's slice of an (N, 4H) row block is strided, which NumPy handles about three times slower than
a contiguous block, so the factors come from whole-row operations (see ``_LSTM._factors``).

With numba installed (``compiled``), the LSTM's loops do the elementwise work of a step in three
compiled calls (``numba_kernels.lstm_cell``, ``lstm_output``, ``lstm_step_backward``) instead of
about twenty NumPy calls over strided gate slices: the same operations in the same order, so the
results equal the NumPy path's to the bit (tests/nn/test_compiled.py).

For reading first: ``nnscratch.functional.reference.lstm_cell`` is one LSTM step written gate by
gate with basic tensor operations (autograd differentiates it); unrolled over the steps it gives
what ``lstm`` gives, and tests/nn/test_reference.py checks the outputs and gradients of both here.

A Function has one output, so the sequence function returns one packed array (see
``_Recurrence``) that ``_run_layer`` slices into the outputs, h_n and c_n.

Truncated backpropagation through time: carry the state between chunks with ``.detach()``:
``out, (h, c) = lstm(chunk, (h.detach(), c.detach()))``.
"""

from typing import NamedTuple

import numpy as np

from .. import backend
from ..tensor import Function, ShapeError, Tensor, is_grad_enabled
from . import compiled
from .layers import dropout as _dropout
from .ops import as_tensor, concat, stack

# σ(a) = (1 + tanh(a / 2)) / 2: one tanh over all four LSTM gates computes σ for i, f, o and tanh for
# g with per-gate scales: gates = scale · tanh(scale · a) + shift (the inner scale is folded into
# the weights, see _LSTM).
_LSTM_SCALE = np.array([0.5, 0.5, 1.0, 0.5])
_LSTM_SHIFT = np.array([0.5, 0.5, 0.0, 0.5])


def _row_sum(a2):
    """Σ over the rows of a 2-D array, as one BLAS product (faster than a.sum(0) for tall arrays)."""
    return np.ones(a2.shape[0], a2.dtype) @ a2


# The internal arrays of the functions below (the forward pass saves several (T, N, 4H) arrays for
# the backward pass, which makes as many more) come from ``backend``'s array pool and go back to it
# when a function is done with them: after its backward, or at the end of a forward that records no graph.
_take, _give = backend.take_array, backend.give_arrays
clear_workspace = backend.clear_array_pool  # its name when the pool lived here


# ----------------------------------------------------------------------------- whole-sequence functions

class _Recurrence(Function):
    """One recurrent layer in one direction over a whole sequence.

    Inputs: x (T, N, I), h0 (N, H), [c0 (N, H) for the LSTM], W_ih (G·H, I), W_hh (G·H, H) and
    optionally b_ih, b_hh (G·H,); ``reverse=True`` runs from step T-1 down to 0.

    Output: one packed array Y of shape (T + 1, N, H), or (T + 2, N, H) for the LSTM, in time
    order; ``new`` = 1 (forward) or 0 (reverse) and ``old`` = 1 - new:
        Y[t + new] = h_t          (so the outputs are Y[new : new + T])
        Y[t + old] = h_{t-1} of step t in the direction of travel (Y[old + T - 1] .. h0)
        Y[T + 1]   = c_n          (LSTM only)
    h0 is stored in the slot the outputs leave free, so the previous states of all steps are the
    contiguous block Y[old : old + T] and dL/dW_hh is one matrix product.

    Subclasses set ``gates`` (G) and ``has_cell`` and implement ``_loop_weights`` (the weights the
    loop uses, possibly rescaled), ``_steps`` (the forward loop: it gets the input projection xw to
    use or give back and w = w_h^T, and sets ``self.saved`` to the arrays its backward needs) and
    ``_steps_backward`` (the reverse loop).
    """

    once_differentiable = True
    gates = 1
    has_cell = False

    def forward(self, x, h0, *rest, reverse=False, **options):
        if self.has_cell:
            c0, rest = rest[0], rest[1:]
        w_ih, w_hh = rest[0], rest[1]
        T, N, I = x.shape
        H, GH = w_hh.shape[1], self.gates * w_hh.shape[1]
        dtype = np.result_type(x, w_ih, w_hh)
        self.reverse, self.options, self.has_bias = reverse, options, len(rest) == 4
        self.new, self.old = (0, 1) if reverse else (1, 0)
        self.steps = range(T - 1, -1, -1) if reverse else range(T)
        self.recording = is_grad_enabled() and any(self.needs_input_grad)   # will a backward come?
        b_ih, b_hh = rest[2:] if self.has_bias else (np.zeros(GH, dtype),) * 2
        w_x, b_x, w_h = self._loop_weights(w_ih, w_hh, b_ih, b_hh)
        # The input projection of all steps, bias included, as one product: [x_t, 1] [W_x, b_x]^T.
        # The backward reuses x1 = [x, 1]: x1^T dL/d(projection) is [dL/dW_ih, dL/db_ih].
        x1 = _take((T, N, I + 1), dtype)
        x1[..., :I] = x
        x1[..., I] = 1
        xw = _take((T, N, GH), dtype)
        np.matmul(x1.reshape(T * N, I + 1), np.concatenate([w_x, b_x[:, None]], axis=1).T,
                  out=xw.reshape(T * N, GH))
        y = np.empty((T + 1 + self.has_cell, N, H), dtype)
        y[T if reverse else 0] = h0
        # the loop's product h_{t-1} w_h^T, with w_h^T contiguous: faster in OpenBLAS than the transposed view
        self._steps(xw, y, np.ascontiguousarray(w_h.T), b_hh, *((c0,) if self.has_cell else ()))
        self.y = y
        if self.recording:
            self.saved += (x1,)
        else:
            _give(x1, *self.saved)
            self.saved = ()
        return y

    def backward(self, gy):
        inputs, need = self.inputs, self.needs_input_grad
        x1, w_ih = self.saved[-1], inputs[2 + self.has_cell].data
        T, N, I = x1.shape[0], x1.shape[1], x1.shape[2] - 1
        d_xw, d_hw, dh0, dc0, scratch = self._steps_backward(gy.data)  # dL/d(x-, h-side pre-activations)
        same = d_xw is d_hw                                              # RNN, LSTM: the same array
        d_xw = d_xw.reshape(T * N, -1)
        d_hw = d_xw if same else d_hw.reshape(T * N, -1)
        h_prev = self.y[self.old:self.old + T].reshape(T * N, -1)
        k = 2 + self.has_cell
        dw_ih = db_ih = db_hh = None
        if need[k] or (self.has_bias and (need[k + 2] or need[k + 3])):
            dwb = d_xw.T @ x1.reshape(T * N, I + 1)                     # [dL/dW_ih, dL/db_ih]
            dw_ih = np.ascontiguousarray(dwb[:, :I]) if need[k] else None
            db_ih = dwb[:, I].copy()
        grads = [
            (d_xw @ w_ih).reshape(T, N, I) if need[0] else None,   # dL/dx
            dh0 if need[1] else None,                                # dL/dh0
        ]
        if self.has_cell:
            grads.append(dc0 if need[2] else None)                   # dL/dc0
        grads.append(dw_ih)                                          # dL/dW_ih
        grads.append(d_hw.T @ h_prev if need[k + 1] else None)       # dL/dW_hh
        if self.has_bias:
            if need[k + 3]:                                          # dL/db_hh
                db_hh = db_ih if same else _row_sum(d_hw)
            grads += [db_ih if need[k + 2] else None, db_hh]
        _give(*scratch)
        return tuple(None if g is None else Tensor._wrap(g) for g in grads)

    def release(self):
        _give(*self.__dict__.get("saved", ()))
        super().release()


class _RNN(_Recurrence):
    """h_t = φ(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), φ = tanh or relu;
    dL/da_t = dL/dh_t · φ'(a_t) with φ' = 1 - h_t² (tanh) or [h_t > 0] (relu)."""

    def _loop_weights(self, w_ih, w_hh, b_ih, b_hh):
        return w_ih, b_ih + b_hh, w_hh

    def _steps(self, xw, y, w, b_hh):
        new, old = self.new, self.old
        relu = self.options["nonlinearity"] == "relu"
        for t in self.steps:
            a = y[t + new]
            np.matmul(y[t + old], w, out=a)
            a += xw[t]
            if relu:
                np.maximum(a, 0, out=a)
            else:
                np.tanh(a, out=a)
        _give(xw)
        self.saved = ()

    def _steps_backward(self, gy):
        y, new, w_hh = self.y, self.new, self.inputs[3].data
        T = len(self.steps)
        h = y[new:new + T]
        slope = _take(h.shape, h.dtype)                    # φ'(a_t)
        if self.options["nonlinearity"] == "relu":
            np.greater(h, 0, out=slope)
        else:
            np.multiply(h, h, out=slope)
            np.subtract(1, slope, out=slope)
        da = _take(h.shape, h.dtype)
        dh_rec = 0
        for t in reversed(self.steps):
            d = da[t]
            np.add(gy[t + new], dh_rec, out=d)   # dL/dh_t: from the output and from step t+1
            d *= slope[t]
            dh_rec = d @ w_hh
        return da, da, dh_rec, None, (slope, da)


class _LSTM(_Recurrence):
    """The LSTM layer (equations in the module docstring). Backward, with dh_t the gradient
    reaching h_t (from the output and from step t+1) and dc_t the one reaching c_t from step t+1:
    dc = dc_t + dh · o · (1 - tanh²c_t);  dG_i = dc · g · i(1-i),  dG_f = dc · c_{t-1} · f(1-f),
    dG_g = dc · i · (1-g²),  dG_o = dh · tanh c_t · o(1-o);
    dh_{t-1} = dG W_hh,  dc_{t-1} = dc · f.

    σ(a) = ½ tanh(a/2) + ½, so one tanh over all four gates does: the rows of W_ih, W_hh and the
    biases of i, f, o are pre-scaled by ½, and after the tanh the gates are scaled and shifted.
    The gates of step t are made in place in xw[t], the step's input projection."""

    gates, has_cell = 4, True

    def _scale(self, H, dtype):
        return np.repeat(_LSTM_SCALE, H).astype(dtype)

    def _loop_weights(self, w_ih, w_hh, b_ih, b_hh):
        s = self._scale(w_hh.shape[1], w_hh.dtype)
        return w_ih * s[:, None], (b_ih + b_hh) * s, w_hh * s[:, None]

    def _steps(self, xw, y, w, b_hh, c0):
        T, N, H = len(self.steps), y.shape[1], y.shape[2]
        dtype = y.dtype
        scale, shift = self._scale(H, dtype), np.repeat(_LSTM_SHIFT, H).astype(dtype)
        gates = xw                                # activated i, f, g, o: made in place of the projection
        c = _take((T + 1, N, H), dtype)           # cell states, in the slots used for h in y
        tanh_c, X, hw = _take((N, H), dtype), _take((N, 4 * H), dtype), _take((N, 4 * H), dtype)
        x_ig, x_fc, x_g, x_h = X[:, :H], X[:, H:2 * H], X[:, 2 * H:3 * H], X[:, 3 * H:]
        if self.recording:
            p, k = _take((T, N, 4 * H), dtype), _take((T, N, H), dtype)
            self.p_spent = False                  # the backward overwrites p with dG
        c[T if self.reverse else 0] = c0
        new, old = self.new, self.old
        fused = compiled.kernels()                # one compiled call for most of a step's elementwise work
        if fused is not None:
            one = np.ones(1, dtype)
            if not self.recording:
                p, k = np.empty((T, 1, 1), dtype), np.empty((T, 1, 1), dtype)
        for t in self.steps:
            a = gates[t]
            a += np.matmul(y[t + old], w, out=hw)
            np.tanh(a, out=a)                     # tanh(a/2) for i, f, o (pre-scaled), tanh(a) for g
            if fused is not None:                 # the same numbers as the NumPy lines below
                fused.lstm_cell(a, scale, shift, c[t + old], c[t + new])
                np.tanh(c[t + new], out=tanh_c)
                fused.lstm_output(a, c[t + old], tanh_c, y[t + new], p[t], k[t], self.recording, one[0])
                continue
            a *= scale
            a += shift
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            c_t, h_t = c[t + new], y[t + new]
            np.multiply(i, g, out=x_ig)
            np.multiply(f, c[t + old], out=x_fc)
            np.add(x_fc, x_ig, out=c_t)
            np.tanh(c_t, out=tanh_c)
            np.multiply(o, tanh_c, out=h_t)
            if self.recording:  # the backward's factors, made while the step is in cache
                # X = (i g, f c_{t-1}, i (1 + g), h), see _factors
                np.add(i, x_ig, out=x_g)
                x_h[...] = h_t
                self._factors(a, X, h_t, tanh_c, p[t], k[t])
        y[T + 1] = c[0 if self.reverse else T]
        _give(tanh_c, X, hw)
        self.saved = (gates, p, k, c) if self.recording else (gates, c)

    @staticmethod
    def _factors(a, X, h, tanh_c, p, k):
        """The factors of the backward, dG = (dc, dc, dc, dh) · p and dc += dh · k, for one step
        (arrays (N, 4H), (N, H)) or all (a leading T axis). With the gates a = (i, f, g, o),
        h = o · tanh c_t and X = (i g, f c_{t-1}, i (1 + g), h):
        p = X · (1 - a) = (g · i(1-i), c_{t-1} · f(1-f), i · (1-g²), tanh c_t · o(1-o)),
        k = o - h · tanh c_t = o · (1 - tanh² c_t)."""
        o = a[..., 3 * k.shape[-1]:]
        np.subtract(1, a, out=p)
        p *= X
        np.subtract(o, np.multiply(h, tanh_c, out=k), out=k)

    def _steps_backward(self, gy):
        gates, p, k, c = self.saved[:4]
        T, N, H = k.shape
        dtype, new, old, w_hh = gates.dtype, self.new, self.old, self.inputs[4].data
        if self.p_spent:                                    # a second backward (retain_graph): p anew
            i, f, g = gates[..., :H], gates[..., H:2 * H], gates[..., 2 * H:3 * H]
            h = self.y[new:new + T]
            X = np.concatenate([i * g, f * c[old:old + T], i * (1 + g), h], axis=-1)
            self._factors(gates, X, h, np.tanh(c[new:new + T]), p, k)
        self.p_spent = True
        f = gates[..., H:2 * H]
        dG = p.reshape(T, N, 4, H)                          # dG_t overwrites p_t (less memory traffic)
        dh, dh_k = _take((N, H), dtype), _take((N, H), dtype)
        dc = gy[T + 1].copy()                               # dL/dc_n
        dh_rec = 0
        first, (need_h0, need_c0) = self.steps[0], self.needs_input_grad[1:3]
        fused = compiled.kernels()
        if fused is not None:
            dh_rec = np.zeros((N, H), dtype)
        for t in reversed(self.steps):
            if fused is not None:                           # the same numbers as the NumPy lines below
                fused.lstm_step_backward(gy[t + new], dh_rec, k[t], p[t], dc, f[t], dh, t != first or need_c0)
                if t != first or need_h0:
                    dh_rec = p[t] @ w_hh
                continue
            np.add(gy[t + new], dh_rec, out=dh)
            dc += np.multiply(dh, k[t], out=dh_k)
            d = dG[t]
            d[:, :3] *= dc[:, None, :]
            d[:, 3] *= dh
            if t != first or need_h0:                       # at the first step: only for dL/dh0
                dh_rec = d.reshape(N, 4 * H) @ w_hh
            if t != first or need_c0:
                dc *= f[t]
        return dG, dG, dh_rec, dc, (dh, dh_k)


class _GRU(_Recurrence):
    """The GRU layer (equations in the module docstring). Backward, with dh the gradient reaching
    h_t and a_n = W_in x + b_in + r · hn, hn = W_hn h_{t-1} + b_hn:
    da_n = dh · (1-z) · (1-n²);  dG_r = da_n · hn · r(1-r);  dG_z = dh · (h_{t-1} - n) · z(1-z);
    d(hn) = da_n · r;  dh_{t-1} = [dG_r, dG_z, d(hn)] W_hh + dh · z.
    The x side gets [dG_r, dG_z, da_n], the h side [dG_r, dG_z, d(hn)].

    The rows of r and z in W_ih, W_hh and the biases are pre-scaled by ½ so that σ(a) = ½ tanh(a/2) + ½
    is one tanh, a scale and a shift."""

    gates = 3

    def _scale(self, H, dtype):
        return np.repeat(np.array([0.5, 0.5, 1.0]), H).astype(dtype)

    def _loop_weights(self, w_ih, w_hh, b_ih, b_hh):
        H = w_hh.shape[1]
        s = self._scale(H, w_hh.dtype)
        b = b_ih.copy()
        b[:2 * H] += b_hh[:2 * H]                 # b_hn stays inside r · (W_hn h + b_hn)
        return w_ih * s[:, None], b * s, w_hh * s[:, None]

    def _steps(self, xw, y, w, b_hh):
        T, N, H = len(self.steps), y.shape[1], y.shape[2]
        dtype = y.dtype
        b_hn = b_hh[2 * H:]
        rz, n, hn = _take((T, N, 2 * H), dtype), _take((T, N, H), dtype), _take((T, N, H), dtype)
        hw, one_minus_z = _take((N, 3 * H), dtype), _take((N, H), dtype)
        if self.recording:                        # the backward's factors, made while the step is in cache
            pn, pr, pz = (_take((T, N, H), dtype) for _ in range(3))
        new, old = self.new, self.old
        for t in self.steps:
            h_prev = y[t + old]
            np.matmul(h_prev, w, out=hw)
            a = rz[t]
            np.add(xw[t, :, :2 * H], hw[:, :2 * H], out=a)
            np.tanh(a, out=a)                    # σ(a) = ½ tanh(a/2) + ½ (rows pre-scaled by ½)
            a *= 0.5
            a += 0.5
            r, z = a[:, :H], a[:, H:]
            np.add(hw[:, 2 * H:], b_hn, out=hn[t])
            n_t = n[t]
            np.multiply(r, hn[t], out=n_t)
            n_t += xw[t, :, 2 * H:]
            np.tanh(n_t, out=n_t)
            h_t = y[t + new]                     # h_t = n + z · (h_{t-1} - n)
            np.subtract(h_prev, n_t, out=h_t)
            if self.recording:                   # pn = (1-z)(1-n²), pr = hn r(1-r), pz = (h_{t-1}-n) z(1-z)
                np.subtract(1, z, out=one_minus_z)
                np.multiply(n_t, n_t, out=pn[t])
                np.subtract(1, pn[t], out=pn[t])
                pn[t] *= one_minus_z
                np.subtract(1, r, out=pr[t])
                pr[t] *= r
                pr[t] *= hn[t]
                np.multiply(z, one_minus_z, out=pz[t])
                pz[t] *= h_t
            h_t *= z
            h_t += n_t
        _give(xw, hw, one_minus_z, n, hn)
        self.saved = (rz, pn, pr, pz) if self.recording else (rz,)

    def _steps_backward(self, gy):
        rz, pn, pr, pz, _ = self.saved
        T, N, H = pn.shape
        dtype, new, w_hh = pn.dtype, self.new, self.inputs[3].data
        r, z = rz[..., :H], rz[..., H:]
        d_hw = _take((T, N, 3 * H), dtype)        # [dG_r, dG_z, d(hn)]
        d_xw = _take((T, N, 3 * H), dtype)        # [dG_r, dG_z, da_n]
        dh, dh_z = _take((N, H), dtype), _take((N, H), dtype)
        dh_rec = 0
        for t in reversed(self.steps):
            np.add(gy[t + new], dh_rec, out=dh)
            an, d = d_xw[t, :, 2 * H:], d_hw[t]
            np.multiply(dh, pn[t], out=an)
            np.multiply(an, pr[t], out=d[:, :H])
            np.multiply(dh, pz[t], out=d[:, H:2 * H])
            np.multiply(an, r[t], out=d[:, 2 * H:])
            dh_rec = d @ w_hh
            dh_rec += np.multiply(dh, z[t], out=dh_z)
        d_xw[..., :2 * H] = d_hw[..., :2 * H]
        return d_xw, d_hw, dh_rec, None, (d_hw, d_xw, dh, dh_z)


# ----------------------------------------------------------------------------- the kinds

class RecurrentKind(NamedTuple):
    """One kind of recurrent layer: PyTorch's ``name`` (the cell is ``name + "Cell"``), the
    ``Function`` that runs one layer over a sequence, and the options it takes (the RNN's
    nonlinearity). ``gates`` (G: W_ih is (G·H, I)) and ``has_cell`` (an LSTM's c) come from it."""

    name: str
    function: type
    options: dict

    @property
    def gates(self):
        return self.function.gates

    @property
    def has_cell(self):
        return self.function.has_cell


KINDS = {
    "rnn_tanh": RecurrentKind("RNN", _RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": RecurrentKind("RNN", _RNN, {"nonlinearity": "relu"}),
    "lstm": RecurrentKind("LSTM", _LSTM, {}),
    "gru": RecurrentKind("GRU", _GRU, {}),
}


def rnn_kind(nonlinearity):
    """The kind of an Elman RNN with ``nonlinearity`` 'tanh' or 'relu' ('rnn_tanh', 'rnn_relu')."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return "rnn_" + nonlinearity


def _run_layer(kind, x, h0, c0, weights, reverse=False):
    """One layer, one direction: (outputs (T, N, H), h_n (N, H), c_n (N, H) or None)."""
    spec = KINDS[kind]
    T = x.shape[0]
    state = (h0, c0) if spec.has_cell else (h0,)
    y = spec.function.apply(x, *state, *weights, reverse=reverse, **spec.options)
    new = 0 if reverse else 1
    out = y[new:new + T]
    h_n = y[0] if reverse else y[T]
    c_n = y[T + 1] if spec.has_cell else None
    return out, h_n, c_n


def _check_weights(kind, weights, num_layers, directions):
    per_layer = len(weights) / (num_layers * directions)
    if per_layer not in (2, 4):
        raise ValueError(f"{KINDS[kind].name}: expected 2 (weights) or 4 (weights and biases) tensors per layer and "
                         f"direction, i.e. {2 * num_layers * directions} or {4 * num_layers * directions}, "
                         f"got {len(weights)}")
    return int(per_layer)


def _zeros_state(shape, like):
    return Tensor._wrap(np.zeros(shape, like.dtype))


def _check_state(name, state, expected, what):
    if state is not None and tuple(state.shape) != expected:
        raise ShapeError(f"{name}: expected {what} of shape {expected} (num_layers * num_directions, batch, "
                         f"hidden_size), got {tuple(state.shape)}")


def recurrent(kind, input, weights, hx=None, num_layers=1, bidirectional=False, batch_first=False,
              dropout=0.0, training=False):
    """A stack of recurrent layers (``kind`` 'rnn_tanh', 'rnn_relu', 'lstm' or 'gru') over a sequence,
    with PyTorch's calling convention.

    - ``input``: (T, N, I), (N, T, I) with ``batch_first``, or unbatched (T, I).
    - ``weights``: PyTorch's flat weight list, for each layer and then each direction:
      W_ih, W_hh[, b_ih, b_hh] (the reverse direction's come right after the forward one's).
    - ``hx``: the initial hidden state (L·D, N, H) — for the LSTM a pair (h0, c0) — or None for zeros.
    - ``dropout``: applied to the outputs of every layer but the last, when ``training``.

    Layer l > 0 reads the outputs of layer l - 1, both directions concatenated (2H features).
    Returns (output, h_n), or (output, (h_n, c_n)) for the LSTM: output (T, N, D·H) (batch_first:
    (N, T, D·H)) holds the last layer's h_t; h_n and c_n (L·D, N, H) hold each layer's and
    direction's final state, index l·D + d.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown recurrent kind {kind!r}; choose one of {', '.join(KINDS)}")
    name, is_lstm = KINDS[kind].name, KINDS[kind].has_cell
    directions = 2 if bidirectional else 1
    per = _check_weights(kind, weights, num_layers, directions)
    x = as_tensor(input)
    given_shape = x.shape
    H, in_features = weights[1].shape[1], weights[0].shape[1]
    if x.ndim not in (2, 3):
        layout = "(N, T, input_size)" if batch_first else "(T, N, input_size)"
        raise ShapeError(f"{name}: expected input of shape {layout} or unbatched (T, input_size), got shape {tuple(x.shape)}")
    if x.shape[-1] != in_features:
        raise ShapeError(f"{name}: input has {x.shape[-1]} features (shape {tuple(x.shape)}) but input_size is "
                         f"{in_features}")
    batched = x.ndim == 3
    if not batched:
        x = x.reshape(x.shape[0], 1, x.shape[1])
    elif batch_first:
        x = x.swapaxes(0, 1)
    T, N = x.shape[0], x.shape[1]
    if T == 0:
        raise ShapeError(f"{name}: the input sequence is empty (shape {given_shape})")

    h0, c0 = (hx if is_lstm and hx is not None else (hx, None))
    if is_lstm and hx is not None and not isinstance(hx, (tuple, list)):
        raise TypeError("LSTM: the initial state must be a tuple (h0, c0)")
    states = []
    for label, s in (("h0", h0), ("c0", c0)):
        if s is not None:
            s = as_tensor(s)
            expected = (num_layers * directions, N, H) if batched else (num_layers * directions, H)
            _check_state(name, s, expected, f"{label}" if is_lstm else "the initial hidden state hx")
            if not batched:
                s = s.reshape(s.shape[0], 1, H)
        states.append(s)
    h0, c0 = states

    layer_in, h_n, c_n = x, [], []
    for layer in range(num_layers):
        outs = []
        for d in range(directions):
            k = layer * directions + d
            h = h0[k] if h0 is not None else _zeros_state((N, H), x)
            c = None
            if is_lstm:
                c = c0[k] if c0 is not None else _zeros_state((N, H), x)
            out, hk, ck = _run_layer(kind, layer_in, h, c, weights[k * per:(k + 1) * per], reverse=d == 1)
            outs.append(out)
            h_n.append(hk)
            c_n.append(ck)
        layer_in = outs[0] if directions == 1 else concat(outs, axis=2)
        if dropout and training and layer < num_layers - 1:
            layer_in = _dropout(layer_in, dropout, True)

    output = layer_in
    h_n = stack(h_n, axis=0)
    c_n = stack(c_n, axis=0) if is_lstm else None
    if not batched:
        output, h_n = output.reshape(T, -1), h_n.reshape(h_n.shape[0], H)
        c_n = c_n.reshape(c_n.shape[0], H) if is_lstm else None
    elif batch_first:
        output = output.swapaxes(0, 1)
    return (output, (h_n, c_n)) if is_lstm else (output, h_n)


def rnn(input, weights, hx=None, num_layers=1, nonlinearity="tanh", bidirectional=False, batch_first=False,
        dropout=0.0, training=False):
    """Elman RNN over a sequence, h_t = tanh (or relu)(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh);
    returns (output, h_n). Arguments as in ``recurrent``."""
    return recurrent(rnn_kind(nonlinearity), input, weights, hx, num_layers, bidirectional, batch_first,
                     dropout, training)


def lstm(input, weights, hx=None, num_layers=1, bidirectional=False, batch_first=False, dropout=0.0,
         training=False):
    """LSTM over a sequence (gate equations in the module docstring); ``hx`` = (h0, c0) or None;
    returns (output, (h_n, c_n)). Arguments as in ``recurrent``."""
    return recurrent("lstm", input, weights, hx, num_layers, bidirectional, batch_first, dropout, training)


def gru(input, weights, hx=None, num_layers=1, bidirectional=False, batch_first=False, dropout=0.0,
        training=False):
    """GRU over a sequence (gate equations in the module docstring); returns (output, h_n).
    Arguments as in ``recurrent``."""
    return recurrent("gru", input, weights, hx, num_layers, bidirectional, batch_first, dropout, training)


# ----------------------------------------------------------------------------- cells: one step

def _cell(kind, input, state, w_ih, w_hh, b_ih, b_hh):
    """One step of a recurrent layer: the sequence function on a sequence of length 1."""
    name = KINDS[kind].name + "Cell"
    x = as_tensor(input)
    H, I = w_hh.shape[1], w_ih.shape[1]
    if x.ndim not in (1, 2) or x.shape[-1] != I:
        raise ShapeError(f"{name}: expected input of shape (N, {I}) or unbatched ({I},), got shape {tuple(x.shape)}")
    batched = x.ndim == 2
    N = x.shape[0] if batched else 1
    states = []
    for s in state:
        if s is None:
            s = _zeros_state((N, H), x)
        else:
            s = as_tensor(s)
            expected = (N, H) if batched else (H,)
            if tuple(s.shape) != expected:
                raise ShapeError(f"{name}: expected a state of shape {expected} for input of shape {tuple(x.shape)}, "
                                 f"got {tuple(s.shape)}")
            s = s.reshape(N, H)
        states.append(s)
    weights = (w_ih, w_hh) if b_ih is None else (w_ih, w_hh, b_ih, b_hh)
    _, h, c = _run_layer(kind, x.reshape(1, N, I), states[0], states[1] if len(states) > 1 else None, weights)
    if not batched:
        h = h.reshape(H)
        c = None if c is None else c.reshape(H)
    return h if c is None else (h, c)


def rnn_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """h' = tanh (or relu)(W_ih x + b_ih + W_hh h + b_hh) for x (N, I) or (I,); hx None means zeros."""
    return _cell(rnn_kind(nonlinearity), input, (hx,), w_ih, w_hh, b_ih, b_hh)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: (h', c') from x and hx = (h, c) (None means zeros);
    c' = f * c + i * g, h' = o * tanh(c') with the gates of the module docstring (read gate by gate
    in ``reference.lstm_cell``)."""
    h, c = (None, None) if hx is None else hx
    return _cell("lstm", input, (h, c), w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step: h' = (1 - z) * n + z * h with r, z, n of the module docstring; hx None means zeros."""
    return _cell("gru", input, (hx,), w_ih, w_hh, b_ih, b_hh)
