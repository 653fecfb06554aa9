import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aidcases.settings")
application = get_wsgi_application()

# What a worker has loaded by now lives as long as the worker: move it out of
# the cyclic collector's reach, so that a full collection scans only what
# requests allocate. Without it, full collections over the ~300,000 objects of
# a loaded Django app paused pages that allocate a lot (a province's area
# pickers, a whole school roster) for ~100 ms at their p95 (make bench).
gc.freeze()
