"""PyTorch's quickstart: an MLP on Fashion-MNIST (plain PyTorch code).

Runs with PyTorch (`python quickstart_fashion_mnist.py`) and on nnscratch unmodified
(`nnscratch as-torch quickstart_fashion_mnist.py`). Limit the work with --train-size/--test-size
and --epochs; --save-init/--init-weights write/read the initial weights (.npz) so two engines
can start from the same network.
"""
import argparse

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets
from torchvision.transforms import ToTensor


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def train(dataloader, model, loss_fn, optimizer, device, log_interval):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)

        # Compute prediction error
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % log_interval == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test(dataloader, model, loss_fn, device):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")


def main():
    parser = argparse.ArgumentParser(description="PyTorch quickstart: an MLP on Fashion-MNIST")
    parser.add_argument("--data", default="data", help="dataset root (torchvision layout: ROOT/FashionMNIST/raw)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--train-size", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--test-size", type=int, default=None, help="use only the first N test images")
    parser.add_argument("--log-interval", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-init", help="save the initial weights to this .npz file")
    parser.add_argument("--init-weights", help="start from the weights in this .npz file")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    training_data = datasets.FashionMNIST(root=args.data, train=True, download=True, transform=ToTensor())
    test_data = datasets.FashionMNIST(root=args.data, train=False, download=True, transform=ToTensor())
    if args.train_size:
        training_data = Subset(training_data, range(args.train_size))
    if args.test_size:
        test_data = Subset(test_data, range(args.test_size))

    train_dataloader = DataLoader(training_data, batch_size=args.batch_size)
    test_dataloader = DataLoader(test_data, batch_size=args.batch_size)
    for X, y in test_dataloader:
        print(f"Shape of X [N, C, H, W]: {X.shape}")
        print(f"Shape of y: {y.shape} {y.dtype}")
        break

    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"Using {device} device")
    model = NeuralNetwork().to(device)
    if args.init_weights:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in np.load(args.init_weights).items()})
    if args.save_init:
        np.savez(args.save_init, **{k: v.detach().numpy() for k, v in model.state_dict().items()})
    print(model)

    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    for t in range(args.epochs):
        print(f"Epoch {t+1}\n-------------------------------")
        train(train_dataloader, model, loss_fn, optimizer, device, args.log_interval)
        test(test_dataloader, model, loss_fn, device)
    print("Done!")


if __name__ == "__main__":
    main()
