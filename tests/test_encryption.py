"""Decryption of ODK encrypted submissions: round trips through a test encryptor written from
the specification, and the real encrypted submissions from onadata's test fixtures."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import tempfile
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from defusedxml.ElementTree import fromstring
from django.conf import settings
from django.core.management import CommandError, call_command

from odk_forms import publishing, receiving, storage
from odk_forms.encryption import (
    CorruptedFileError,
    Envelope,
    EnvelopeError,
    MissingFileError,
    PrivateKeyError,
    RecordMismatchError,
    WrongKeyError,
    check_record,
    decrypt_file,
    decrypt_submission,
    decrypt_symmetric_key,
    file_ivs,
    load_private_key,
    parse_envelope,
)
from odk_forms.models import ProcessingState, Submission
from tests.base import BaseTestCase
from tests.builders import SHARED_DATA
from tests.odk_crypto import OAEP_JDK, EncryptedSubmission, KeyPair, encrypt_submission, make_key_pair

INSTANCE_ID = "uuid:6f1c1c1e-3b7e-4a43-9d53-1f6f0c3d2a10"
XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<data id="ranger_patrol" version="2025061501" xmlns:orx="http://openrosa.org/xforms">'
    b"<sighting>Pesquet\xe2\x80\x99s parrot</sighting><photo>nest.jpg</photo><call>call.m4a</call>"
    b"<orx:meta><orx:instanceID>" + INSTANCE_ID.encode() + b"</orx:instanceID></orx:meta></data>"
)
MEDIA = {"nest.jpg": b"\xff\xd8\xff\xe0 not really a jpeg " * 300, "call.m4a": b"\x00\x00\x00\x18ftypM4A "}

ONADATA = SHARED_DATA / "submissions" / "onadata_fixtures"
TUTORIAL = ONADATA / "logger" / "fixtures" / "tutorial_encrypted" / "instances"
TRANSPORTATION = ONADATA / "main" / "tests" / "fixtures" / "transportation" / "instances_encrypted"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return make_key_pair()


@pytest.fixture(scope="module")
def other_keys() -> KeyPair:
    return make_key_pair()


def encrypted(keys: KeyPair, **kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("media", MEDIA)
    return encrypt_submission(keys.public_key, XML, INSTANCE_ID, **kwargs)


def fixture_files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in directory.glob("*.enc")}


# --- round trip -------------------------------------------------------------------------


def test_it_decrypts_xml_and_media(keys: KeyPair) -> None:
    sent = encrypted(keys)
    envelope = parse_envelope(sent.envelope)

    result = decrypt_submission(envelope, sent.files, keys.private_pem)

    assert result.xml == XML
    assert result.media == MEDIA
    assert list(result.media) == ["nest.jpg", "call.m4a"]
    assert result.signature_valid


def test_it_decrypts_the_sha1_mask_variant(keys: KeyPair) -> None:
    # Enketo, and Collect on phones whose provider is not Bouncy Castle.
    sent = encrypted(keys, oaep=OAEP_JDK)

    result = decrypt_submission(parse_envelope(sent.envelope), sent.files, keys.private_pem)

    assert result.xml == XML
    assert result.signature_valid


def test_it_decrypts_without_media_and_without_version(keys: KeyPair) -> None:
    sent = encrypted(keys, media={}, version=None)
    envelope = parse_envelope(sent.envelope)

    result = decrypt_submission(envelope, sent.files, keys.private_pem)

    assert envelope.version is None
    assert result.xml == XML
    assert result.media == {}
    assert result.signature_valid


def test_it_reads_a_password_protected_key() -> None:
    keys = make_key_pair(password=b"kokoda")
    sent = encrypted(keys)

    result = decrypt_submission(parse_envelope(sent.envelope), sent.files, keys.private_pem, b"kokoda")

    assert result.xml == XML


def test_iv_bytes_wrap_and_move_on_per_file() -> None:
    # 17 files: the 17th increments byte 0 a second time.
    ivs = file_ivs("uuid:x", b"k" * 32, 17)

    assert len(set(ivs)) == 17
    assert ivs[16][0] == (ivs[0][0] + 1) % 256
    assert ivs[15][1:] == ivs[16][1:]


# --- tampering and wrong input ----------------------------------------------------------


def test_a_changed_media_byte_invalidates_the_signature(keys: KeyPair) -> None:
    sent = encrypted(keys)
    files = dict(sent.files)
    data = bytearray(files["nest.jpg.enc"])
    data[100] ^= 0x01
    files["nest.jpg.enc"] = bytes(data)

    result = decrypt_submission(parse_envelope(sent.envelope), files, keys.private_pem)

    assert result.media["nest.jpg"] != MEDIA["nest.jpg"]
    assert result.xml == XML
    assert not result.signature_valid


def test_a_changed_last_byte_is_reported_as_corruption(keys: KeyPair) -> None:
    sent = encrypted(keys)
    files = dict(sent.files)
    data = bytearray(files["call.m4a.enc"])
    data[-1] ^= 0xFF
    files["call.m4a.enc"] = bytes(data)

    with pytest.raises(CorruptedFileError, match=r"call\.m4a\.enc is corrupted: the padding"):
        decrypt_submission(parse_envelope(sent.envelope), files, keys.private_pem)


def test_a_truncated_file_is_reported_as_corruption(keys: KeyPair) -> None:
    sent = encrypted(keys)
    files = {**sent.files, "submission.xml.enc": sent.files["submission.xml.enc"][:-5]}

    with pytest.raises(CorruptedFileError, match=r"submission\.xml\.enc is corrupted: .*truncated"):
        decrypt_submission(parse_envelope(sent.envelope), files, keys.private_pem)


def test_a_changed_envelope_field_invalidates_the_signature(keys: KeyPair) -> None:
    sent = encrypted(keys)
    envelope = parse_envelope(sent.envelope.replace(b'version="2025061501"', b'version="2025061502"'))

    result = decrypt_submission(envelope, sent.files, keys.private_pem)

    assert result.xml == XML
    assert not result.signature_valid


def test_a_missing_signature_is_not_valid(keys: KeyPair) -> None:
    sent = encrypted(keys)
    start = sent.envelope.index(b"<base64EncryptedElementSignature>")
    end = sent.envelope.index(b"</data>")
    envelope = parse_envelope(sent.envelope[:start] + sent.envelope[end:])

    result = decrypt_submission(envelope, sent.files, keys.private_pem)

    assert envelope.signature is None
    assert result.xml == XML
    assert not result.signature_valid


def test_it_names_the_wrong_key(keys: KeyPair, other_keys: KeyPair) -> None:
    sent = encrypted(keys)

    with pytest.raises(WrongKeyError, match=f"wrong private key: it cannot open submission {INSTANCE_ID}"):
        decrypt_submission(parse_envelope(sent.envelope), sent.files, other_keys.private_pem)


def test_it_names_a_key_of_another_size(keys: KeyPair) -> None:
    sent = encrypted(keys)
    small = make_key_pair(bits=1024)

    with pytest.raises(WrongKeyError, match="2048-bit RSA key, this private key is 1024-bit"):
        decrypt_submission(parse_envelope(sent.envelope), sent.files, small.private_pem)


def test_it_lists_missing_files(keys: KeyPair) -> None:
    sent = encrypted(keys)
    files = {name: data for name, data in sent.files.items() if name == "nest.jpg.enc"}

    with pytest.raises(MissingFileError) as raised:
        decrypt_submission(parse_envelope(sent.envelope), files, keys.private_pem)

    assert raised.value.names == ("call.m4a.enc", "submission.xml.enc")
    assert "call.m4a.enc, submission.xml.enc" in str(raised.value)


@pytest.mark.parametrize(
    ("pem", "password", "message"),
    [
        (b"not a key", None, "not a PEM private key"),
        (None, None, "protected by a password; supply it"),
        (None, b"wrong", "password is wrong"),
    ],
)
def test_it_explains_unusable_keys(keys: KeyPair, pem, password, message) -> None:  # type: ignore[no-untyped-def]
    protected = make_key_pair(bits=1024, password=b"kokoda")
    sent = encrypted(keys)

    with pytest.raises(PrivateKeyError, match=message):
        decrypt_submission(parse_envelope(sent.envelope), sent.files, pem or protected.private_pem, password)


def test_it_refuses_a_password_for_an_unprotected_key(keys: KeyPair) -> None:
    sent = encrypted(keys)

    with pytest.raises(PrivateKeyError, match="not password-protected"):
        decrypt_submission(parse_envelope(sent.envelope), sent.files, keys.private_pem, b"kokoda")


# --- envelope parsing -------------------------------------------------------------------


def test_it_reads_the_specification_layout() -> None:
    # The specification's namespace, meta last, several <file> in one <media>.
    envelope = parse_envelope(
        b'<data xmlns="http://opendatakit.org/submissions" id="mysurvey" encrypted="yes" version="7">'
        b"<base64EncryptedKey>AAAA</base64EncryptedKey>"
        b"<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"
        b"<media><file>a.jpg.enc</file><file>b.mp3.enc</file></media>"
        b'<meta xmlns="http://openrosa.org/xforms"><instanceID>uuid:1</instanceID></meta></data>'
    )

    assert envelope.form_id == "mysurvey"
    assert envelope.version == "7"
    assert envelope.instance_id == "uuid:1"
    assert envelope.media_files == ("a.jpg.enc", "b.mp3.enc")
    assert envelope.encrypted_files == ("a.jpg.enc", "b.mp3.enc", "submission.xml.enc")
    assert envelope.signature is None


VALID_PARTS = (
    b"<base64EncryptedKey>AAAA</base64EncryptedKey>"
    b'<meta xmlns="http://openrosa.org/xforms"><instanceID>uuid:1</instanceID></meta>'
)


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"<data", "not well-formed"),
        (
            b'<!DOCTYPE data [<!ENTITY a "aaaaaaaaaa">]><data id="f" encrypted="yes">&a;</data>',
            "declares a DTD or entities",
        ),
        (b'<data id="f">' + VALID_PARTS + b"</data>", 'not marked encrypted="yes"'),
        (b'<data encrypted="yes">' + VALID_PARTS + b"</data>", "no form id"),
        (
            b'<data id="f" encrypted="yes"><base64EncryptedKey>AAAA</base64EncryptedKey>'
            b"<encryptedXmlFile>submission.xml.enc</encryptedXmlFile></data>",
            "exactly one <meta>",
        ),
        (
            b'<data id="f" encrypted="yes"><base64EncryptedKey>not base64!</base64EncryptedKey></data>',
            "not valid base64",
        ),
        (b'<data id="f" encrypted="yes">' + VALID_PARTS + b"</data>", "no <encryptedXmlFile>"),
        (
            b'<data id="f" encrypted="yes">'
            + VALID_PARTS
            + b"<media><file>../../settings.py.enc</file></media>"
            b"<encryptedXmlFile>submission.xml.enc</encryptedXmlFile></data>",
            "invalid encrypted file name",
        ),
        (
            b'<data id="f" encrypted="yes">' + VALID_PARTS + b"<media><file>photo.jpg</file></media>"
            b"<encryptedXmlFile>submission.xml.enc</encryptedXmlFile></data>",
            "invalid encrypted file name",
        ),
        (
            b'<data id="f" encrypted="yes">' + VALID_PARTS + b"<media><file>submission.xml.enc</file></media>"
            b"<encryptedXmlFile>submission.xml.enc</encryptedXmlFile></data>",
            "same encrypted file twice",
        ),
    ],
)
def test_it_rejects_bad_envelopes(xml: bytes, message: str) -> None:
    with pytest.raises(EnvelopeError, match=message):
        parse_envelope(xml)


# --- a real submission encrypted by ODK Collect (test data of ODK Central) -------------


def collect_vector() -> dict:  # type: ignore[type-arg]
    return json.loads((FIXTURES / "collect_1_22_4_vector.json").read_text())


def vector_envelope(part: dict) -> Envelope:  # type: ignore[type-arg]
    return Envelope(
        form_id="encrypted",
        version="working3",
        base64_encrypted_key=part["base64_encrypted_key"],
        instance_id=part["instance_id"],
        media_files=(),
        encrypted_xml_file="submission.xml.enc",
        signature=None,
    )


def test_it_recovers_an_aes_key_encrypted_by_collect() -> None:
    part = collect_vector()["iv_generation"]
    key = load_private_key((FIXTURES / "odk_central_test_private_key.pem").read_bytes())

    aes_key = decrypt_symmetric_key(vector_envelope(part), key)

    assert aes_key == base64.b64decode(part["aes_key_base64"])


def test_ivs_match_known_answers() -> None:
    part = collect_vector()["iv_generation"]

    ivs = file_ivs(part["instance_id"], base64.b64decode(part["aes_key_base64"]), 32)

    assert {str(n): ivs[int(n)].hex() for n in part["ivs_hex"]} == part["ivs_hex"]


def test_it_decrypts_xml_encrypted_by_collect() -> None:
    part = collect_vector()["end_to_end"]
    key = load_private_key((FIXTURES / "odk_central_test_private_key.pem").read_bytes())
    aes_key = decrypt_symmetric_key(vector_envelope(part), key)
    iv = file_ivs(part["instance_id"], aes_key, part["xml_file_index"] + 1)[-1]

    xml = decrypt_file("submission.xml.enc", base64.b64decode(part["ciphertext_base64"]), aes_key, iv)

    assert xml.decode("utf-8") == part["plaintext"]


# --- real submissions from onadata's fixtures -------------------------------------------


def test_it_reads_onadata_tutorial_envelope() -> None:
    envelope = parse_envelope((TUTORIAL / "tutorial_encrypted.xml").read_bytes())

    assert envelope.form_id == "tutorial_encrypted"
    assert envelope.version == "201701031234"
    assert envelope.instance_id == "uuid:f8971231-f3b8-4b2b-8c35-d95fa207d937"
    assert envelope.media_files == ("1483528430996.jpg.enc", "1483528445767.jpg.enc")
    assert envelope.encrypted_xml_file == "submission.xml.enc"
    assert envelope.signature is not None
    assert len(base64.b64decode(envelope.base64_encrypted_key)) == 256  # a 2048-bit key
    assert set(envelope.encrypted_files) == set(fixture_files(TUTORIAL))


def test_it_reads_onadata_transportation_envelope() -> None:
    envelope = parse_envelope((TRANSPORTATION / "submission.xml").read_bytes())

    assert envelope.form_id == "transportation_encrypted"
    assert envelope.version == "2025051326"
    assert envelope.instance_id == "uuid:c15252fe-b6f3-4853-8f04-bf89dc73985a"
    assert envelope.media_files == ()
    assert envelope.encrypted_files == ("submission.xml.enc",)
    assert set(envelope.encrypted_files) == set(fixture_files(TRANSPORTATION))


@pytest.mark.parametrize(
    ("directory", "envelope_name"),
    [(TUTORIAL, "tutorial_encrypted.xml"), (TRANSPORTATION, "submission.xml")],
)
def test_onadata_submissions_refuse_an_unrelated_key(
    directory: Path, envelope_name: str, other_keys: KeyPair
) -> None:
    # The private keys these were encrypted for are not published; what can be checked is
    # that the files are whole AES blocks and that another key is recognised as wrong.
    envelope = parse_envelope((directory / envelope_name).read_bytes())
    files = fixture_files(directory)

    assert all(len(data) % 16 == 0 for data in files.values())
    with pytest.raises(WrongKeyError):
        decrypt_submission(envelope, files, other_keys.private_pem)


def test_decrypted_xml_is_the_record_the_envelope_announced(keys: KeyPair) -> None:
    sent = encrypted(keys)
    envelope = parse_envelope(sent.envelope)

    record = fromstring(decrypt_submission(envelope, sent.files, keys.private_pem).xml)

    instance_id = record.find("{http://openrosa.org/xforms}meta/{http://openrosa.org/xforms}instanceID")
    assert instance_id is not None
    assert instance_id.text == envelope.instance_id
    assert record.get("id") == envelope.form_id


def test_check_record_accepts_the_announced_record(keys: KeyPair) -> None:
    sent = encrypted(keys)
    envelope = parse_envelope(sent.envelope)

    check_record(envelope, decrypt_submission(envelope, sent.files, keys.private_pem).xml)


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"<data", "not well-formed"),
        (b'<data id="other"><meta><instanceID>uuid:1</instanceID></meta></data>', "for form 'other'"),
        (b'<data id="ranger_patrol"><meta><instanceID>uuid:2</instanceID></meta></data>', "is uuid:2"),
        (b'<data id="ranger_patrol"><name>x</name></data>', "instanceID is none"),
    ],
)
def test_check_record_refuses_another_record(xml: bytes, message: str) -> None:
    envelope = Envelope("ranger_patrol", None, "AAAA", "uuid:1", (), "submission.xml.enc", None)

    with pytest.raises(RecordMismatchError, match=message):
        check_record(envelope, xml)


# --- decrypt_submissions command --------------------------------------------------------


def encrypted_xform(base64_public_key: str) -> bytes:
    return f"""<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
        xmlns:orx="http://openrosa.org/xforms">
  <h:head>
    <h:title>Ranger patrol</h:title>
    <model>
      <instance>
        <data id="ranger_patrol" version="2025061501">
          <sighting/><photo/><call/><orx:meta><orx:instanceID/></orx:meta>
        </data>
      </instance>
      <bind nodeset="/data/sighting" type="string"/>
      <bind nodeset="/data/photo" type="binary"/>
      <bind nodeset="/data/call" type="binary"/>
      <bind nodeset="/data/meta/instanceID" type="string" readonly="true()"/>
      <submission method="post" base64RsaPublicKey="{base64_public_key}"/>
    </model>
  </h:head>
  <h:body>
    <input ref="/data/sighting"><label>Sighting</label></input>
    <upload ref="/data/photo" mediatype="image/*"><label>Photo</label></upload>
    <upload ref="/data/call" mediatype="audio/*"><label>Call</label></upload>
  </h:body>
</h:html>""".encode()


class DecryptSubmissionsTestCase(BaseTestCase):
    keys: KeyPair

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.keys = make_key_pair()
        cls.version = publishing.publish_form_version(
            "ranger_patrol.xml",
            encrypted_xform(cls.keys.base64_public_key),
            area_ids=[cls.area.id],
            validate=False,
        )

    def setUp(self) -> None:
        self.key_dir = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.key_dir)
        self.key_file = self.write_key(self.keys.private_pem)

    def write_key(self, pem: bytes, name: str = "private.pem") -> Path:
        path = self.key_dir / name
        path.write_bytes(pem)
        return path

    def receive(self, sent: EncryptedSubmission, leave_out: str = "") -> Submission:
        parts = {name: BytesIO(data) for name, data in sent.files.items() if name != leave_out}
        with self.captureOnCommitCallbacks(execute=True):
            received = receiving.receive_submission(sent.envelope, parts, user=self.collector)
        return Submission.objects.get(pk=received.submission.pk)

    def decrypt(self, *args: str, stdin: str = "") -> tuple[str, str]:
        out, err = StringIO(), StringIO()
        with self.captureOnCommitCallbacks(execute=True):
            call_command("decrypt_submissions", *args, stdout=out, stderr=err, stdin=StringIO(stdin))
        return out.getvalue(), err.getvalue()

    def test_it_decrypts_stored_submissions(self) -> None:
        sent = encrypted(self.keys)
        submission = self.receive(sent)
        self.assertEqual(submission.state, ProcessingState.NEEDS_KEY)

        out, err = self.decrypt("ranger_patrol", "--private-key", str(self.key_file))

        self.assertIn("ranger_patrol: decrypted 1, failed 0, signature mismatches 0", out)
        self.assertEqual(err, "")
        submission.refresh_from_db()
        self.assertIs(submission.signature_valid, True)
        self.assertEqual(storage.read_bytes(submission.decrypted_xml.name), XML)
        self.assertEqual(storage.read_bytes(submission.xml_file.name), sent.envelope)
        stored = {a.name: storage.read_bytes(a.file.name) for a in submission.attachments.all()}
        self.assertEqual(stored, {**sent.files, **MEDIA})
        for attachment in submission.attachments.all():
            content = storage.read_bytes(attachment.file.name)
            self.assertEqual(attachment.sha256, hashlib.sha256(content).hexdigest(), attachment.name)
        photo = submission.attachments.get(name="nest.jpg")
        self.assertEqual(photo.content_type, "image/jpeg")
        self.assertEqual(photo.size, len(MEDIA["nest.jpg"]))
        # Processing ran on the decrypted record and found both media files.
        self.assertEqual(submission.state, ProcessingState.PROCESSED)
        self.assertEqual(submission.metadata["attachments_missing"], [])
        self.assertEqual(submission.metadata["attachments_present"], 2)

    def test_a_second_run_has_nothing_to_do(self) -> None:
        submission = self.receive(encrypted(self.keys))
        self.decrypt("ranger_patrol", "--private-key", str(self.key_file))

        out, _ = self.decrypt("ranger_patrol", "--private-key", str(self.key_file))

        self.assertIn("decrypted 0, failed 0", out)
        self.assertEqual(submission.attachments.count(), 5)

    def test_it_reads_the_password_from_stdin(self) -> None:
        protected = make_key_pair(password=b"kokoda track")
        self.version.base64_rsa_public_key = protected.base64_public_key
        self.version.save()
        submission = self.receive(encrypted(protected))
        key_file = self.write_key(protected.private_pem, "protected.pem")

        out, _ = self.decrypt(
            "ranger_patrol", "--private-key", str(key_file), "--password-stdin", stdin="kokoda track\n"
        )

        self.assertIn("decrypted 1", out)
        submission.refresh_from_db()
        self.assertEqual(storage.read_bytes(submission.decrypted_xml.name), XML)

    def test_it_stops_on_a_wrong_password(self) -> None:
        protected = make_key_pair(bits=1024, password=b"kokoda track")
        key_file = self.write_key(protected.private_pem, "protected.pem")

        with self.assertRaisesMessage(CommandError, "password is wrong"):
            self.decrypt("ranger_patrol", "--private-key", str(key_file), "--password-stdin", stdin="nope\n")

    def test_it_reports_a_wrong_key_and_keeps_the_submission(self) -> None:
        submission = self.receive(encrypted(self.keys))
        other = self.write_key(make_key_pair().private_pem, "other.pem")

        with self.assertRaisesMessage(CommandError, "1 submission(s) could not be decrypted"):
            self.decrypt("ranger_patrol", "--private-key", str(other))

        submission.refresh_from_db()
        self.assertFalse(submission.decrypted_xml)
        self.assertEqual(submission.state, ProcessingState.NEEDS_KEY)
        self.assertEqual(submission.attachments.count(), 3)

    def test_it_explains_each_failure(self) -> None:
        self.receive(encrypted(self.keys), leave_out="call.m4a.enc")
        other = self.write_key(make_key_pair().private_pem, "other.pem")
        out, err = StringIO(), StringIO()

        with self.assertRaises(CommandError):
            call_command(
                "decrypt_submissions", "ranger_patrol", "--private-key", str(other), stdout=out, stderr=err
            )

        self.assertIn("does not belong to the public key of any version of ranger_patrol", err.getvalue())
        self.assertIn(
            f"failed {INSTANCE_ID}: encrypted file(s) named in the envelope were not received: call.m4a.enc",
            err.getvalue(),
        )
        self.assertIn("decrypted 0, failed 1, signature mismatches 0", out.getvalue())

    def test_it_reports_signature_mismatches(self) -> None:
        sent = encrypted(self.keys)
        data = bytearray(sent.files["nest.jpg.enc"])
        data[100] ^= 0x01
        submission = self.receive(
            EncryptedSubmission(sent.envelope, {**sent.files, "nest.jpg.enc": bytes(data)})
        )

        out, err = self.decrypt("ranger_patrol", "--private-key", str(self.key_file))

        self.assertIn("decrypted 1, failed 0, signature mismatches 1", out)
        self.assertIn(f"signature mismatch {INSTANCE_ID}", err)
        submission.refresh_from_db()
        self.assertTrue(submission.decrypted_xml)
        self.assertIs(submission.signature_valid, False)

    def test_it_requires_a_known_form(self) -> None:
        with self.assertRaisesMessage(CommandError, "no form with ID 'elephants'"):
            self.decrypt("elephants", "--private-key", str(self.key_file))

    def test_the_key_is_not_stored(self) -> None:
        self.receive(encrypted(self.keys))
        self.decrypt("ranger_patrol", "--private-key", str(self.key_file))
        secret = self.keys.private_pem.split(b"\n")[1]

        for path in Path(settings.MEDIA_ROOT).rglob("*"):
            if path.is_file():
                self.assertNotIn(secret, path.read_bytes())
