"""Django settings for the doccano that start.sh runs: doccano's production settings, with celery
tasks (dataset import and export from doccano's UI) run inside the web request.

doccano queues imports and exports as celery tasks; with no worker running they would wait
forever. The pipeline itself creates examples one by one over REST and never needs a worker.
"""

from config.settings.production import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_STORE_EAGER_RESULT = True
