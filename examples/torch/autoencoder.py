"""A fully connected autoencoder on MNIST that saves grids of originals and reconstructions
with torchvision's save_image (plain PyTorch code).

Runs with PyTorch (`python autoencoder.py`) and on nnscratch unmodified (`nnscratch as-torch
autoencoder.py`). --train-size/--epochs limit the work; --out is where the PNG grids go.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms
from torchvision.utils import save_image


class Autoencoder(nn.Module):
    def __init__(self, code_size=32):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(28 * 28, 128),
            nn.ReLU(True),
            nn.Linear(128, code_size),
        )
        self.decoder = nn.Sequential(
            nn.Linear(code_size, 128),
            nn.ReLU(True),
            nn.Linear(128, 28 * 28),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def main():
    parser = argparse.ArgumentParser(description="An MNIST autoencoder that saves image grids")
    parser.add_argument("--data", default="data", help="dataset root (torchvision layout: ROOT/MNIST/raw)")
    parser.add_argument("--out", default="autoencoder_images", help="folder for the PNG grids")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-init", help="save the initial weights to this .npz file")
    parser.add_argument("--init-weights", help="start from the weights in this .npz file")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    dataset = datasets.MNIST(args.data, train=True, download=True, transform=transforms.ToTensor())
    if args.train_size:
        dataset = Subset(dataset, range(args.train_size))
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=False)

    model = Autoencoder()
    if args.init_weights:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in np.load(args.init_weights).items()})
    if args.save_init:
        np.savez(args.save_init, **{k: v.detach().numpy() for k, v in model.state_dict().items()})
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=1e-5)

    for epoch in range(args.epochs):
        total = 0.0
        for img, _ in loader:
            img = img.view(img.size(0), -1)
            output = model(img)
            loss = criterion(output, img)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * img.size(0)
        print(f"epoch [{epoch + 1}/{args.epochs}], loss: {total / len(dataset):.6f}")
        with torch.no_grad():
            pic = torch.cat([img[:8], output[:8]]).view(-1, 1, 28, 28)
        save_image(pic, os.path.join(args.out, f"image_{epoch + 1}.png"), nrow=8)


if __name__ == "__main__":
    main()
