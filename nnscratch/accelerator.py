"""``torch.accelerator``: which accelerator (GPU, MPS ...) is present. With nnscratch, none: the
quickstart's ``torch.accelerator.current_accelerator().type if torch.accelerator.is_available()
else "cpu"`` picks the CPU."""


def is_available():
    """False: nnscratch runs on the CPU."""
    return False


def current_accelerator(check_available=False):
    """None: there is no accelerator."""
    return None


def device_count():
    """0: no accelerator devices."""
    return 0
