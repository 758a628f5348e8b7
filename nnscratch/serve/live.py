"""LiveFeed: the events of a training run, kept in order for every page that asks.

The training loop publishes events (dicts with a "type": "run", "begin", "batch", "epoch", "end",
"done"); each gets a sequence number ``seq``. A page streams them with server-sent events from
``/api/live`` (all past events first, then new ones as they come) or polls
``/api/live/events?since=SEQ``. The training thread publishes; the server's event loop learns of
new events from a listener (``listen``), so no server thread waits on the feed.
"""

import threading

MAX_BATCH_EVENTS = 2000  # older per-batch events are dropped; per-epoch events are all kept


class LiveFeed:
    """A thread-safe, append-only log of training events that tells its listeners of each one."""

    def __init__(self):
        self._events = []
        self._next = 0
        self._lock = threading.Lock()
        self._listeners = []
        self.closed = False

    def listen(self, callback):
        """Call ``callback()`` (in the publishing thread) after each event and when the feed closes."""
        self._listeners.append(callback)

    def publish(self, event):
        """Append ``event`` (a JSON-able dict) with the next sequence number and tell the listeners."""
        with self._lock:
            self._events.append({**event, "seq": self._next})
            self._next += 1
            batches = [i for i, e in enumerate(self._events) if e.get("type") == "batch"]
            if len(batches) > MAX_BATCH_EVENTS:
                del self._events[batches[0]]
        self._tell_listeners()

    def since(self, seq=0):
        """The events numbered ``seq`` and later."""
        with self._lock:
            return [e for e in self._events if e["seq"] >= seq]

    def close(self):
        """Mark the feed finished (the server is stopping) and tell the listeners, so streams end."""
        self.closed = True
        self._tell_listeners()

    def _tell_listeners(self):
        for callback in list(self._listeners):
            callback()
