"""Pages and files of forms outside the OpenRosa protocol: a collector's web forms (the
page at their token URL) and the files of a stored record, for its edit in Enketo."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from accounts import access, openrosa_auth
from fieldkit.errors import Problem
from odk_forms import queries, webforms
from odk_forms.models import Attachment, Submission


# The token is the credential, as on the OpenRosa endpoints it comes from.
@access.policy("openrosa")
@never_cache
def collector_web_forms(request: HttpRequest, token: str) -> HttpResponse:
    """The page at a collector's token URL: each form they may fill, with its online and
    offline links and a QR code of the offline one. The links go through the same token
    URL, so Enketo asks for no password; whoever holds the token holds the page, as with
    the Collect QR code it comes from."""
    try:
        user = openrosa_auth.authenticate(request, token)
    except Problem as problem:
        return render(request, "odk_forms/web_forms.html", {"problem": problem}, status=problem.status)
    rows = []
    if webforms.enabled():
        server_url = webforms.token_server_url(token)
        failed = ""
        for form in queries.listed_forms(user):
            version = form.current_version
            assert version is not None
            # After one failure the page shows what is known without waiting again per form.
            found = webforms.links(version, server_url, fetch=not failed)
            assert found is not None
            failed = failed or found.error
            if failed and not found.url:
                found = webforms.WebFormLinks(error=failed)
            qr = webforms.qr_svg_data_uri(found.offline_url) if found.offline_url else ""
            rows.append({"form": form, "links": found, "qr": qr})
    context = {"enabled": webforms.enabled(), "rows": rows, "collector": user}
    response = render(request, "odk_forms/web_forms.html", context)
    # The page's address is a credential: never sent on as a Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response


# Those who may edit the record (odk_forms.queries.may_edit_submission); 404 for others.
@access.policy("capability:edit_records")
@login_required
def submission_attachment(request: HttpRequest, pk: int, name: str) -> HttpResponseBase:
    """A file of a stored record, for those who may edit it: Enketo's edit view loads the
    record's photos from here, in the editor's browser, signed in to fieldkit."""
    record = get_object_or_404(Submission.objects.select_related("form"), pk=pk)
    if not queries.may_edit_submission(request.user, record):
        raise Http404
    attachment = get_object_or_404(Attachment, submission=record, name=name)
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type or "application/octet-stream",
        filename=attachment.name,
    )
    response["Cache-Control"] = "private, no-store"
    return response
