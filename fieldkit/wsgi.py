import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldkit.settings")
application = get_wsgi_application()

# Without a broker the server processes submissions itself, in a thread; started now, it
# finds the work a previous run left before the first new submission arrives.
from odk_forms.processing import start_background_worker  # noqa: E402

start_background_worker()
