"""Decrypt the stored encrypted submissions of a form with the operator's private key:

    manage.py decrypt_submissions FORM_ID --private-key PEMFILE [--password-stdin]

For each encrypted submission not decrypted yet, the decrypted XML goes to `decrypted_xml`
and the decrypted media become attachments (their names without ".enc"); the envelope and
the .enc files stay exactly as received. The submission is then queued for processing.
The private key (and its password, read from the first line of stdin) is used for this run
only: it is never written to the database, to disk or to the output.

Prints one line per failure and per signature mismatch, then the counts; exits non-zero
when any submission could not be decrypted.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management.base import BaseCommand, CommandError, CommandParser

from odk_forms import encryption
from odk_forms.decryption import AlreadyDecrypted, decrypt_stored_submission, not_decrypted, requeue_stranded
from odk_forms.models import Form


class Command(BaseCommand):
    help = "Decrypt the stored encrypted submissions of a form with its private key."
    # Lets tests hand the password in without a terminal: call_command(..., stdin=StringIO()).
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("form_id", metavar="FORM_ID", help="The form ID (xml_form_id).")
        parser.add_argument(
            "--private-key", required=True, type=Path, metavar="PEMFILE", help="RSA private key, PEM."
        )
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the private key's password from the first line of standard input.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        form = Form.objects.filter(xml_form_id=options["form_id"]).first()
        if form is None:
            raise CommandError(f"no form with ID {options['form_id']!r}")
        key = self._load_key(options["private_key"], options["password_stdin"], options.get("stdin"))
        self._warn_if_key_matches_no_version(form, key)

        decrypted = failed = mismatches = 0
        for submission in not_decrypted(form.submissions.all()).order_by("id").iterator():
            try:
                outcome = decrypt_stored_submission(submission, key)
            except AlreadyDecrypted:
                continue
            except (encryption.EncryptionError, OSError) as exc:
                failed += 1
                self.stderr.write(f"failed {submission.instance_id}: {_reason(exc)}")
                continue
            decrypted += 1
            if not outcome.signature_valid:
                mismatches += 1
                self.stderr.write(
                    f"signature mismatch {submission.instance_id}: decrypted, but the files are not "
                    "exactly those the device signed (damaged in transit or altered); check its data"
                )
        requeued = requeue_stranded(form)

        summary = (
            f"{form.xml_form_id}: decrypted {decrypted}, failed {failed}, signature mismatches {mismatches}"
        )
        if requeued:
            summary += f", requeued {requeued} already decrypted"
        self.stdout.write(summary)
        if failed:
            raise CommandError(f"{failed} submission(s) could not be decrypted (reasons above)")

    def _load_key(self, path: Path, password_stdin: bool, stdin: Any) -> rsa.RSAPrivateKey:
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read the private key file {path}: {exc.strerror}") from exc
        password = None
        if password_stdin:
            line = (stdin or sys.stdin).readline()
            password = line.rstrip("\r\n").encode("utf-8")
        try:
            return encryption.load_private_key(pem, password or None)
        except encryption.PrivateKeyError as exc:
            raise CommandError(str(exc)) from exc

    def _warn_if_key_matches_no_version(self, form: Form, key: rsa.RSAPrivateKey) -> None:
        # A cheap early hint: compare public keys before opening any submission.
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        ours = base64.b64encode(der).decode("ascii")
        published = {
            "".join(value.split())
            for value in form.versions.exclude(base64_rsa_public_key="").values_list(
                "base64_rsa_public_key", flat=True
            )
        }
        if published and ours not in published:
            self.stderr.write(
                f"warning: this private key does not belong to the public key of any version of "
                f"{form.xml_form_id}; expect 'wrong private key' failures"
            )


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"a stored file cannot be read ({exc.filename}: {exc.strerror})"
    return str(exc)
