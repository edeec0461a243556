"""hotfolder: the daemon: its lifecycle, the profiles it runs, intake and folder watching,
the workers, the executor that runs the pipeline for them, publishing, and its status.

The names code outside the package uses: ``Daemon`` and its ``Options``, ``run`` (with the
signal handlers), ``AlreadyRunning`` and ``is_running`` (the state folder's lock), the state
folder's ``STATUS_FILE`` and ``JOURNAL_FILE``, and the executor seam (``Executor``, ``Work``,
``Result``, ``LocalExecutor``). ``status.collect`` reports on a daemon from another process.
"""

from studiocut.hotfolder.daemon import Daemon, Options, run
from studiocut.hotfolder.executor import Executor, LocalExecutor, Result, Work
from studiocut.hotfolder.lock import AlreadyRunning, is_running
from studiocut.hotfolder.status import JOURNAL_FILE, STATUS_FILE

__all__ = [
    "JOURNAL_FILE",
    "STATUS_FILE",
    "AlreadyRunning",
    "Daemon",
    "Executor",
    "LocalExecutor",
    "Options",
    "Result",
    "Work",
    "is_running",
    "run",
]
