"""An LSTM that reads an MNIST image row by row (28 steps of 28 pixels) and classifies the digit
from its last hidden state (plain PyTorch code).

Runs with PyTorch (`python lstm_rows.py`) and on nnscratch unmodified (`nnscratch as-torch
lstm_rows.py`). --train-size/--test-size/--epochs limit the work; --save-init/--init-weights
let two engines start from the same weights.
"""
import argparse

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms


class RowLSTM(nn.Module):
    def __init__(self, input_size=28, hidden_size=64, num_layers=1, num_classes=10):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        x = x.squeeze(1)              # (batch, 1, 28, 28) -> (batch, 28 rows, 28 pixels)
        out, (h_n, c_n) = self.lstm(x)
        return self.fc(out[:, -1, :])  # the output after the last row


def main():
    parser = argparse.ArgumentParser(description="LSTM over MNIST image rows")
    parser.add_argument("--data", default="data", help="dataset root (torchvision layout: ROOT/MNIST/raw)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--test-size", type=int, default=None)
    parser.add_argument("--log-interval", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-init", help="save the initial weights to this .npz file")
    parser.add_argument("--init-weights", help="start from the weights in this .npz file")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train_set = datasets.MNIST(args.data, train=True, download=True, transform=transform)
    test_set = datasets.MNIST(args.data, train=False, download=True, transform=transform)
    if args.train_size:
        train_set = Subset(train_set, range(args.train_size))
    if args.test_size:
        test_set = Subset(test_set, range(args.test_size))
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=False)
    test_loader = DataLoader(test_set, batch_size=args.batch_size)

    model = RowLSTM(hidden_size=args.hidden)
    if args.init_weights:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in np.load(args.init_weights).items()})
    if args.save_init:
        np.savez(args.save_init, **{k: v.detach().numpy() for k, v in model.state_dict().items()})
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    for epoch in range(args.epochs):
        model.train()
        for i, (images, labels) in enumerate(train_loader):
            outputs = model(images)
            loss = criterion(outputs, labels)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
            optimizer.step()
            if i % args.log_interval == 0:
                print(f"Epoch [{epoch + 1}/{args.epochs}], Step [{i + 1}/{len(train_loader)}], Loss: {loss.item():.6f}")

        model.eval()
        correct = total = 0
        test_loss = 0.0
        with torch.no_grad():
            for images, labels in test_loader:
                outputs = model(images)
                test_loss += criterion(outputs, labels).item() * labels.size(0)
                _, predicted = torch.max(outputs, 1)
                total += labels.size(0)
                correct += (predicted == labels).sum().item()
        print(f"Test Accuracy: {100 * correct / total:.2f} %, Test loss: {test_loss / total:.6f}")


if __name__ == "__main__":
    main()
