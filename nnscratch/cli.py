"""The ``nnscratch`` command line."""

import argparse
import sys

from . import __version__


def build_parser():
    parser = argparse.ArgumentParser(
        prog="nnscratch",
        description="Deep learning from first principles on NumPy: train networks on MNIST and see how they learn.")
    parser.add_argument("--version", action="version", version=f"nnscratch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = commands.add_parser("check", help="verify autograd on the seeds' simpleNet against numerical gradients")
    check.set_defaults(run=_check)
    return parser


def _check(args):
    """Backprop vs numerical differentiation on the seeds' simpleNet (W 2x3, x = [0.6, 0.9], t = 2)."""
    import numpy as np

    from . import functional as F
    from .gradcheck import numerical_gradient
    from .tensor import tensor

    w = np.array([[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]])
    x = tensor([0.6, 0.9], dtype=np.float64)
    t = 2
    W = tensor(w, requires_grad=True, dtype=np.float64)
    loss = -F.log_softmax(x @ W)[t]
    loss.backward()
    numeric = numerical_gradient(lambda _: -F.log_softmax(x @ W.detach())[t], W.data)
    diff = np.abs(W.grad.data - numeric).max()
    print(f"simpleNet loss {loss.item():.10f}")
    print("backprop gradient dL/dW:\n", np.array2string(W.grad.data, precision=8))
    print("numerical gradient dL/dW:\n", np.array2string(numeric, precision=8))
    print(f"largest difference {diff:.2e}: {'OK' if diff < 1e-6 else 'MISMATCH'}")
    return 0 if diff < 1e-6 else 1


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
