"""The background worker: processes what the web app queued, one deal at a time.

The queue is the database: a source waits in stage ``pending`` (or at the stage a
killed run reached), so a restarted worker carries on where the last one stopped and
nothing lives only in memory. One worker per home, held by the ``worker`` lease; it
lowers its own priority, because transcription takes every core and the web pages
must stay quick beside it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from handover import pipeline
from handover.blobs import BlobStore
from handover.config import Settings
from handover.errors import Conflict, HandoverError
from handover.store import Store

LOCK = "worker"
NICENESS = 10
RETRY_AFTER = 60.0  # seconds before a deal whose run raised is tried again

log = logging.getLogger("handover.worker")


@dataclass(slots=True)
class WorkerStats:
    deals: int = 0  # deal runs completed
    failed_sources: int = 0
    busy_skips: int = 0  # deals skipped because a CLI `process` held them
    errors: int = 0  # deal runs that raised; the deal rests for RETRY_AFTER seconds
    resting: dict[int, float] = field(default_factory=dict)  # deal id → monotonic time


def lower_priority(increment: int = NICENESS) -> None:
    """Nice this process so the web server (and the person at the machine) go first."""
    try:
        os.nice(increment)
    except OSError:  # not permitted in some containers; running at normal priority is fine
        log.debug("could not lower the worker's priority")


def run_once(store: Store, blobs: BlobStore, settings: Settings, stats: WorkerStats) -> bool:
    """Process every deal that has work now; returns whether any was taken up."""
    clock = time.monotonic()
    deals = [d for d in store.deals_with_work() if stats.resting.get(d["id"], 0.0) <= clock]
    for deal in deals:
        try:
            result = pipeline.process_deal(store, blobs, settings, deal, retry_failed=False)
        except Conflict as exc:  # `handover process` is on it; come back later
            stats.busy_skips += 1
            log.info("%s: %s", deal["slug"], exc.message)
            continue
        except HandoverError as exc:  # a model is missing, say: the same next time
            stats.errors += 1
            stats.resting[deal["id"]] = clock + RETRY_AFTER
            log.error("%s: %s", deal["slug"], exc.message)
            continue
        except Exception:  # a bug must not stop every other deal's processing
            stats.errors += 1
            stats.resting[deal["id"]] = clock + RETRY_AFTER
            log.exception("%s: processing failed", deal["slug"])
            continue
        stats.deals += 1
        stats.failed_sources += len(result.failed)
        for source in result.failed:
            log.warning("%s: source %s failed: %s", deal["slug"], source.source_id, source.error)
        log.info("%s: %d source(s) processed", deal["slug"], len(result.sources))
    return bool(deals)


def run(
    settings: Settings,
    *,
    once: bool = False,
    poll: float = 1.0,
    should_stop: Callable[[], bool] = lambda: False,
) -> WorkerStats:
    """Poll the queue until stopped (SIGTERM, SIGINT or ``should_stop``); with
    ``once``, return as soon as the queue is empty."""
    store = Store.open(settings.db_path)
    blobs = BlobStore(settings.blob_dir)
    stats = WorkerStats()
    stopping = [False]

    def stop(signum: int, _frame: object) -> None:
        stopping[0] = True
        raise KeyboardInterrupt  # leave a transcription at once; the queue keeps its place

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        # Not allowed outside the main thread; tests run the worker in a thread.
        with contextlib.suppress(ValueError):
            previous[sig] = signal.signal(sig, stop)
    try:
        store.acquire_lock(LOCK)  # Conflict: another worker has this home
    except Conflict:
        store.close()
        raise
    log.info("started for %s (pid %d)", settings.home, os.getpid())
    try:
        while not (stopping[0] or should_stop()):
            had_work = run_once(store, blobs, settings, stats)
            if once and not had_work:
                break
            if not had_work:
                time.sleep(poll)
    except KeyboardInterrupt:
        if not stopping[0]:
            raise
    finally:
        store.release_lock(LOCK)
        store.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return stats
