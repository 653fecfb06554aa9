import cProfile
import os
import pstats
import sys

os.environ["AIDCASES_TESTING"] = "true"
os.environ["DJANGO_SETTINGS_MODULE"] = "aidcases.settings"
os.environ["TEST_DATABASE_NAME"] = "aidcases_bench"
import django

django.setup()
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

setup_test_environment()
connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)
from aidcases.models import User  # noqa: E402

c = Client()
c.force_login(User.objects.get(username=sys.argv[2] if len(sys.argv) > 2 else "admin"))
c.get(sys.argv[1])
import gc  # noqa: E402

gc.freeze()  # as the bench and each gunicorn worker do
pr = cProfile.Profile()
pr.enable()
for _ in range(3):
    c.get(sys.argv[1])
pr.disable()
pstats.Stats(pr).sort_stats("cumulative").print_stats(35)
