"""The background loop of each serving process: deliver pending notifications and look for spikes."""
from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from kb import storage
from suggest.escalation import notify, spikes

log = logging.getLogger(__name__)


def start(app: Flask) -> threading.Thread:
    """Deliver pending notifications and look for spikes in the background of this worker process."""
    interval = float(app.config["NOTIFY_INTERVAL_S"])
    settings = spikes.SpikeSettings(window_minutes=int(app.config["SPIKE_WINDOW_MINUTES"]),
                                    min_count=int(app.config["SPIKE_MIN_COUNT"]),
                                    factor=float(app.config["SPIKE_FACTOR"]))
    senders = notify.senders_for(app.config)

    def loop() -> None:
        last_spike_check = 0.0
        while True:
            try:
                with storage.database(app).session() as s:
                    notify.deliver_pending(session=s, senders=senders)
                    if time.monotonic() - last_spike_check >= 60:
                        spikes.detect(session=s, settings=settings)
                        last_spike_check = time.monotonic()
            except Exception:  # noqa: BLE001 - the loop must outlive a database hiccup; it logs and retries
                log.exception("notification worker failed; retrying")
            time.sleep(interval)

    thread = threading.Thread(target=loop, name="vetted-notify", daemon=True)
    thread.start()
    return thread
