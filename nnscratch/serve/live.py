"""LiveFeed: the events of a training run, kept in order for every page that asks.

The training loop publishes events (dicts with a "type": "run", "begin", "batch", "epoch", "end",
"done"); each gets a sequence number ``seq``. A page streams them with server-sent events from
``/api/live`` (all past events first, then new ones as they come) or polls
``/api/live/events?since=SEQ``.
"""

import threading

MAX_BATCH_EVENTS = 2000  # older per-batch events are dropped; per-epoch events are all kept


class LiveFeed:
    """A thread-safe, append-only log of training events with blocking reads."""

    def __init__(self):
        self._events = []
        self._next = 0
        self._changed = threading.Condition()
        self.closed = False

    def publish(self, event):
        """Append ``event`` (a JSON-able dict) with the next sequence number; wakes waiting readers."""
        with self._changed:
            self._events.append({**event, "seq": self._next})
            self._next += 1
            batches = [i for i, e in enumerate(self._events) if e.get("type") == "batch"]
            if len(batches) > MAX_BATCH_EVENTS:
                del self._events[batches[0]]
            self._changed.notify_all()

    def since(self, seq=0, timeout=None):
        """The events numbered ``seq`` and later; with a ``timeout``, wait up to that many seconds
        for one to arrive (an empty list when none did or the feed is closed)."""
        with self._changed:
            if timeout:
                self._changed.wait_for(lambda: self._next > seq or self.closed, timeout)
            return [e for e in self._events if e["seq"] >= seq]

    def close(self):
        """Wake every reader for good (the server is stopping)."""
        with self._changed:
            self.closed = True
            self._changed.notify_all()
