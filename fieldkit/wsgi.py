import os

from django.apps import apps
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldkit.settings")
application = get_wsgi_application()

# Apps that work beside the requests start that work now, once per serving process: without
# a broker, odk_forms processes submissions in a thread, and started now it finds the work a
# previous run left before the first new submission arrives. Found on the app configs, not
# imported: the ground imports no app.
for config in apps.get_app_configs():
    start_serving = getattr(config, "start_serving", None)
    if start_serving is not None:
        start_serving()
