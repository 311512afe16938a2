"""ASGI entry point (`linewatch serve`, `linewatch demo`)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linewatch.settings")
application = get_asgi_application()
