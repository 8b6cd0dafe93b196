"""The WSGI entry point (gunicorn ``commonground.site.wsgi``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commonground.site.settings")
application = get_wsgi_application()
