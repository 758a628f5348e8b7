"""Data: datasets, the DataLoader, MNIST-family files, toy sets and batch augmentation."""

from .dataset import Dataset, Subset, TensorDataset, random_split
from .loader import DataLoader
from .idx import DataFileError, read_idx, write_idx
from .mnist import (DATASETS, ChecksumError, DatasetNotFoundError, FashionMNIST, MNIST, dataset_status, fetch,
                    load_fashion_mnist, load_mnist, search_locations, verify)
from .sequence import SequenceDataset, adding_problem, seasonal_series
from .toy import circles, logic_gate, moons, sine_sequences, spirals
from .transforms import (Compose, GaussianNoise, Normalize, RandomErasing, RandomRotation, RandomShift,
                         rotate_images, shift_images)
