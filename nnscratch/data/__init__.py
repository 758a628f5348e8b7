"""Data: datasets, the DataLoader, MNIST-family files, toy sets and batch augmentation."""

from .dataset import Dataset, Subset, TensorDataset, random_split
from .loader import DataLoader
