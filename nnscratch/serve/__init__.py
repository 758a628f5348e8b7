"""The playground: a local web page to draw a digit and watch a trained network think.

``nnscratch serve RUN_DIR ...`` starts it (``server``; the endpoints are in ``app``);
``nnscratch train --serve`` streams a run's curves to it live (``live.LiveFeed`` fed by
``train.callbacks.MetricsPublisher``). Starlette on uvicorn, the optional extra
``nnscratch[serve]``, imported only when a server is made; plain HTML/CSS/JS in ``static/``:
nothing to build, nothing fetched from the network.
"""

from .live import LiveFeed

SERVER_NAMES = ("Playground", "announce", "make_server", "serve", "start_in_thread")
WEB_PACKAGES = ("starlette", "pydantic", "pydantic_core", "uvicorn", "h11", "anyio")

__all__ = ["LiveFeed", "ModelStore", *SERVER_NAMES]


def __getattr__(name):
    """The store and the server's names, imported on first use (so ``nnscratch.serve.limits`` is cheap
    for the command line), with a clear message when the extra is missing."""
    if name == "ModelStore":
        from .store import ModelStore
        return ModelStore
    if name not in SERVER_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        from . import server
    except ImportError as e:
        if (e.name or "").split(".")[0] in WEB_PACKAGES:
            raise ImportError(f"the playground needs its web server ({e.name} is missing): "
                              "pip install 'nnscratch[serve]'") from None
        raise
    return getattr(server, name)
