"""app: the Celery application stations send with and workers consume with.

Every setting here is a finding of the prototype (issue 17), each with its reason:
messages are JSON only, both ways; a job is acknowledged only after it returned, so a worker
killed mid-job loses nothing (late acks, reject on worker lost, prefetch 1); the visibility
timeout (checked to exceed the time limit when cluster.yaml is read) redelivers what a dead
machine held; every Redis socket operation is bounded, so a station never blocks on a dead
broker, while workers retry the broker forever. No result is stored in Redis: the spool
bundle is the result.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu import Exchange, Queue  # type: ignore[attr-defined]

from studiocut.cluster.config import Cluster

TASK_NAME = "studiocut.cutout"
EXCHANGE = "studiocut"


def make(cluster: Cluster, *, consume: Any = None) -> Celery:
    """The Celery app for ``cluster``. ``consume``, on workers only, is the function the
    task runs: ``consume(request, relative, recipe, key, name, keep) -> dict``."""
    transport = {
        # an unacknowledged delivery older than this goes back to its queue
        "visibility_timeout": cluster.visibility_timeout,
        # kombu >= 5.6 sweeps for those only every interval x throttle s (10 x 10 by default)
        "unacked_restore_interval": cluster.restore_interval,
        "unacked_restore_throttle": 1,
        # a vanished broker cannot hang a send
        "socket_timeout": cluster.socket_timeout,
        "socket_connect_timeout": cluster.socket_connect_timeout,
    }
    app = Celery("studiocut", set_as_current=False)
    exchange = Exchange(EXCHANGE, type="direct")  # type: ignore[no-untyped-call]
    first = next(iter(cluster.queues))
    app.conf.update(
        broker_url=cluster.broker,
        broker_transport_options=transport,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # a photo past its hard time limit goes back to the queue: the attempt count, not a
        # station's deadline, decides when it is poison; the soft limit records why first
        task_acks_on_failure=True,
        task_acks_on_timeout=False,
        worker_lost_wait=cluster.worker_lost_wait,
        task_time_limit=cluster.task_time_limit,
        task_soft_time_limit=round(cluster.task_time_limit * 0.9, 3),
        task_ignore_result=True,
        task_queues=[Queue(name, exchange, routing_key=name)  # type: ignore[no-untyped-call]
                     for name in cluster.queues],
        task_default_queue=first,
        task_default_exchange=EXCHANGE,
        task_default_routing_key=first,
        task_create_missing_queues=False,
        # stations: one quick reconnect, then the caller hears of the failure
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0,
                                   "interval_step": 0.2, "interval_max": 0.2},
        # workers: wait for the broker forever, at start and after a loss
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_connection_timeout=cluster.socket_connect_timeout,
        broker_channel_error_retry=True,
        # a running photo keeps running when the broker drops: its bundle still lands
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_proc_alive_timeout=cluster.model_load_timeout,
        worker_hijack_root_logger=False,
    )

    if consume is not None:
        @app.task(name=TASK_NAME, bind=True)  # type: ignore[untyped-decorator]
        def cutout(self: Any, relative: str, recipe: dict[str, Any], key: str, name: str,
                   keep: bool) -> dict[str, Any]:
            result: dict[str, Any] = consume(self.request, relative, recipe, key, name, keep)
            return result

    return app
