"""The playground: a local web page to draw a digit and watch a trained network think.

``nnscratch serve RUN_DIR ...`` starts it (see ``server`` for the endpoints); ``nnscratch train
--serve`` streams a run's curves to it live (``live.LiveFeed`` fed by
``train.callbacks.MetricsPublisher``). Standard library HTTP server, plain HTML/CSS/JS in
``static/``: nothing to build, nothing fetched from the network.
"""

from .live import LiveFeed
from .server import Playground, announce, make_server, serve, start_in_thread
from .store import ModelStore

__all__ = ["LiveFeed", "ModelStore", "Playground", "announce", "make_server", "serve", "start_in_thread"]
