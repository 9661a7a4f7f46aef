"""Decryption of ODK encrypted submissions. Pure: bytes in, bytes out, no database.

The scheme is the "Encryption" sub-specification of the ODK XForms specification
(https://getodk.github.io/xforms-spec/encryption). A device finalising a record of a form
that carries `<submission base64RsaPublicKey="…"/>`:

1. draws a random 256-bit AES key and encrypts it with the form's RSA public key (OAEP,
   Java's "RSA/NONE/OAEPWithSHA256AndMGF1Padding"); the result is `base64EncryptedKey`;
2. encrypts every media file, in order, then the submission XML last, with
   "AES/CFB/PKCS5Padding" (CFB with 128-bit segments, PKCS#7 padding to 16 bytes), each
   file with its own IV: the seed is md5(instanceID + AES key), and before each file the
   seed byte at index (file number mod 16) is incremented by one;
3. signs the record: md5 of the text made of form id, version (only if the form has one),
   `base64EncryptedKey`, instanceID, then `name::md5hex` of each original (decrypted) file
   in encryption order, each line ending in "\\n"; that md5 is RSA-encrypted like the key;
4. sends an envelope (the "submission manifest") in place of the XML, and the `.enc` files
   as attachments.

The envelope is stored as received; this module turns it back into the record given the
operator's private key, which it never keeps.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as symmetric_padding
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as parse_xml

from odk_forms import xform

try:
    # CFB is "decrepit" for new designs, but it is what the ODK specification fixed.
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:  # cryptography < 47
    from cryptography.hazmat.primitives.ciphers.modes import CFB

ENC_SUFFIX = ".enc"
AES_KEY_BYTES = 32
BLOCK_BYTES = 16

# The Java name "OAEPWithSHA256AndMGF1Padding" means two different things depending on the
# provider: Bouncy Castle (what Collect gets on Android, and what Briefcase uses) hashes the
# mask with SHA-256 too, while the JDK's own provider keeps MGF1 on SHA-1, and Enketo's
# encryptor explicitly uses SHA-256 with an MGF1-SHA-1 mask. OAEP decoding checks the label
# hash, so the wrong variant fails instead of yielding a wrong key: trying both is safe.
_OAEP_VARIANTS: tuple[padding.OAEP, ...] = (
    padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA256(), label=None),  # noqa: S303
)


class EncryptionError(Exception):
    """Base class: the message is meant for the operator running the decryption."""


class EnvelopeError(EncryptionError):
    """The envelope (submission manifest) is not a well-formed encrypted-submission envelope."""


class PrivateKeyError(EncryptionError):
    """The private key file cannot be used (not an RSA PEM key, or wrong password)."""


class WrongKeyError(EncryptionError):
    """The private key does not match the public key the submission was encrypted with."""


class MissingFileError(EncryptionError):
    """Some encrypted files named in the envelope were not supplied."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        super().__init__(
            "encrypted file(s) named in the envelope were not received: "
            + ", ".join(self.names)
            + " (the device may not have finished uploading them)"
        )


class RecordMismatchError(EncryptionError):
    """The decrypted XML is not the record its envelope announced."""


class CorruptedFileError(EncryptionError):
    """An encrypted file cannot be decrypted: truncated or altered."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        super().__init__(f"{name} is corrupted: {reason}")


@dataclass(frozen=True)
class Envelope:
    form_id: str
    version: str | None
    base64_encrypted_key: str
    instance_id: str
    media_files: tuple[str, ...]  # names as sent, with ".enc", in encryption order
    encrypted_xml_file: str
    signature: str | None  # base64EncryptedElementSignature; optional in the specification

    @property
    def encrypted_files(self) -> tuple[str, ...]:
        """Every encrypted file in encryption order: media first, the XML last."""
        return (*self.media_files, self.encrypted_xml_file)


@dataclass(frozen=True)
class DecryptedSubmission:
    xml: bytes
    media: dict[str, bytes]  # original names (".enc" removed), in envelope order
    # False when the envelope carries no signature, or it does not match the decrypted
    # files: the data decrypted, but cannot be shown to be what the device sent.
    signature_valid: bool


def original_name(encrypted_name: str) -> str:
    """The name the file had on the device: the envelope's name without ".enc"."""
    return encrypted_name.removesuffix(ENC_SUFFIX)


# --- envelope ---------------------------------------------------------------------------


# Collect writes the envelope in "http://www.opendatakit.org/xforms/encrypted", the
# specification and Enketo in "http://opendatakit.org/submissions", and meta/instanceID are
# in the OpenRosa namespace: elements are matched on local names (xform.children), so every
# producer is read alike.


def _text(element: Element, name: str, required: bool = True) -> str | None:
    found = xform.children(element, name)
    if len(found) > 1:
        raise EnvelopeError(f"the envelope has {len(found)} <{name}> elements, expected one")
    value = (found[0].text or "").strip() if found else ""
    if not value:
        if required:
            raise EnvelopeError(f"the envelope has no <{name}>")
        return None
    return value


def _checked_file_name(name: str) -> str:
    # These names become attachment names and keys into the received files: refuse anything
    # that is not a plain file name, so a crafted envelope cannot point elsewhere.
    if (
        not name.endswith(ENC_SUFFIX)
        or name == ENC_SUFFIX
        or any(char in name for char in "/\\\x00")
        or name.startswith(".")
    ):
        raise EnvelopeError(f"invalid encrypted file name in the envelope: {name!r}")
    return name


def parse_envelope(xml_bytes: bytes) -> Envelope:
    """Read an encrypted-submission envelope. Raises EnvelopeError if it is not one."""
    try:
        # defusedxml refuses DTDs, entity declarations and external references, so an
        # envelope from the internet cannot expand entities or make us read files.
        root = parse_xml(xml_bytes, forbid_dtd=True)
    except ParseError as exc:
        raise EnvelopeError(f"the envelope is not well-formed XML: {exc}") from exc
    except DefusedXmlException as exc:
        raise EnvelopeError(f"the envelope declares a DTD or entities, refused: {exc}") from exc

    if root.get("encrypted", "").strip().lower() != "yes":
        raise EnvelopeError('the envelope is not marked encrypted="yes"')
    form_id = (root.get("id") or "").strip()
    if not form_id:
        raise EnvelopeError("the envelope has no form id attribute")
    version = root.get("version")

    key = _text(root, "base64EncryptedKey")
    assert key is not None
    _decode_base64(key, "base64EncryptedKey")

    metas = xform.children(root, "meta")
    if len(metas) != 1:
        raise EnvelopeError("the envelope needs exactly one <meta> with an <instanceID>")
    instance_id = _text(metas[0], "instanceID")
    assert instance_id is not None

    # Collect and Enketo write one <media><file/></media> per file; the specification also
    # allows several <file> in one <media>. Document order is encryption order either way.
    media = [
        _checked_file_name((file.text or "").strip())
        for block in xform.children(root, "media")
        for file in xform.children(block, "file")
    ]
    xml_file = _checked_file_name(_text(root, "encryptedXmlFile") or "")
    names = [*media, xml_file]
    if len(set(names)) != len(names):
        raise EnvelopeError("the envelope names the same encrypted file twice")

    signature = _text(root, "base64EncryptedElementSignature", required=False)
    return Envelope(
        form_id=form_id,
        version=version,
        base64_encrypted_key=key,
        instance_id=instance_id,
        media_files=tuple(media),
        encrypted_xml_file=xml_file,
        signature=signature,
    )


def _decode_base64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EnvelopeError(f"<{what}> is not valid base64") from exc


# --- keys -------------------------------------------------------------------------------


def load_private_key(private_key_pem: bytes, password: bytes | None = None) -> rsa.RSAPrivateKey:
    """Load the operator's RSA private key (PKCS#1 or PKCS#8 PEM, optionally encrypted)."""
    try:
        key = serialization.load_pem_private_key(private_key_pem, password=password)
    except TypeError as exc:
        # cryptography says TypeError both for "needs a password" and "has no password".
        if password is None:
            raise PrivateKeyError("the private key is protected by a password; supply it") from exc
        raise PrivateKeyError("the private key is not password-protected; do not supply a password") from exc
    except ValueError as exc:
        raise PrivateKeyError(
            "cannot read the private key: not a PEM private key, or the password is wrong"
        ) from exc
    except UnsupportedAlgorithm as exc:
        raise PrivateKeyError(f"unsupported private key: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PrivateKeyError("the private key is not an RSA key; ODK encryption uses RSA")
    return key


def _rsa_decrypt(key: rsa.RSAPrivateKey, ciphertext: bytes) -> tuple[bytes, padding.OAEP] | None:
    for variant in _OAEP_VARIANTS:
        try:
            return key.decrypt(ciphertext, variant), variant
        except ValueError:
            continue
    return None


def decrypt_symmetric_key(envelope: Envelope, key: rsa.RSAPrivateKey) -> bytes:
    """The record's AES key, from `base64EncryptedKey` (spec: "Key Encryption")."""
    return _symmetric_key(envelope, key)[0]


def _symmetric_key(envelope: Envelope, key: rsa.RSAPrivateKey) -> tuple[bytes, padding.OAEP]:
    encrypted = _decode_base64(envelope.base64_encrypted_key, "base64EncryptedKey")
    key_bytes = key.key_size // 8
    if len(encrypted) != key_bytes:
        raise WrongKeyError(
            f"wrong private key: submission {envelope.instance_id} was encrypted for a "
            f"{len(encrypted) * 8}-bit RSA key, this private key is {key.key_size}-bit"
        )
    result = _rsa_decrypt(key, encrypted)
    if result is None:
        raise WrongKeyError(
            f"wrong private key: it cannot open submission {envelope.instance_id}, which was "
            f"encrypted with the public key of another key pair (form {envelope.form_id}, "
            f"version {envelope.version or '-'})"
        )
    symmetric, variant = result
    if len(symmetric) != AES_KEY_BYTES:
        raise EnvelopeError(
            f"the decrypted AES key is {len(symmetric)} bytes, the specification requires {AES_KEY_BYTES}"
        )
    return symmetric, variant


# --- files ------------------------------------------------------------------------------


def _md5(data: bytes) -> bytes:
    # md5 is fixed by the specification for the IV seed and the signature; not our choice.
    return hashlib.md5(data).digest()  # noqa: S324


def file_ivs(instance_id: str, symmetric_key: bytes, count: int) -> list[bytes]:
    """The IV of each of `count` files in encryption order (spec: "Initialization Vector")."""
    seed = bytearray(_md5(instance_id.encode("utf-8") + symmetric_key))
    ivs = []
    for index in range(count):
        # Java bytes wrap at 127 -> -128; as unsigned bytes that is a wrap at 255 -> 0.
        seed[index % BLOCK_BYTES] = (seed[index % BLOCK_BYTES] + 1) & 0xFF
        ivs.append(bytes(seed))
    return ivs


def decrypt_file(name: str, data: bytes, symmetric_key: bytes, iv: bytes) -> bytes:
    """Decrypt one file with the record's AES key and that file's IV (see file_ivs)."""
    # Java's CFB with PKCS5Padding pads before encrypting, so every file is whole blocks.
    if not data:
        raise CorruptedFileError(name, "the file is empty")
    if len(data) % BLOCK_BYTES:
        raise CorruptedFileError(
            name, f"{len(data)} bytes is not a multiple of {BLOCK_BYTES} (truncated upload?)"
        )
    decryptor = Cipher(algorithms.AES(symmetric_key), CFB(iv)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = symmetric_padding.PKCS7(BLOCK_BYTES * 8).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise CorruptedFileError(
            name, "the padding is invalid after decryption (altered or truncated file)"
        ) from None


# --- signature --------------------------------------------------------------------------


def signature_text(envelope: Envelope, originals: Sequence[tuple[str, bytes]]) -> str:
    """The text whose md5 the device signs (spec: "Signature").

    `originals` are (original name, decrypted bytes) in encryption order, XML last. md5
    hex digests are lowercase and zero-padded, as Collect writes them.
    """
    lines = [envelope.form_id]
    if envelope.version is not None:
        lines.append(envelope.version)
    lines += [envelope.base64_encrypted_key, envelope.instance_id]
    lines += [f"{name}::{_md5(data).hex()}" for name, data in originals]
    return "\n".join(lines) + "\n"


def _signature_valid(
    envelope: Envelope,
    originals: Sequence[tuple[str, bytes]],
    key: rsa.RSAPrivateKey,
    preferred: padding.OAEP,
) -> bool:
    if envelope.signature is None:
        return False
    try:
        encrypted = _decode_base64(envelope.signature, "base64EncryptedElementSignature")
    except EnvelopeError:
        return False
    # The device signs with the same RSA transformation as the key, so try that one first.
    for variant in (preferred, *(v for v in _OAEP_VARIANTS if v is not preferred)):
        try:
            signed = key.decrypt(encrypted, variant)
        except ValueError:
            continue
        expected = _md5(signature_text(envelope, originals).encode("utf-8"))
        return hmac.compare_digest(signed, expected)
    return False


# --- the whole submission ---------------------------------------------------------------


def decrypt_submission(
    envelope: Envelope,
    files: Mapping[str, bytes],
    private_key_pem: bytes,
    password: bytes | None = None,
) -> DecryptedSubmission:
    """Decrypt an encrypted submission.

    `files` maps the names in the envelope (with ".enc") to the bytes received. Raises
    PrivateKeyError, WrongKeyError, MissingFileError, CorruptedFileError or EnvelopeError;
    a signature that does not match is not an error but `signature_valid=False`.
    """
    return decrypt_with_key(envelope, files, load_private_key(private_key_pem, password))


def decrypt_with_key(
    envelope: Envelope, files: Mapping[str, bytes], key: rsa.RSAPrivateKey
) -> DecryptedSubmission:
    """decrypt_submission with a key already loaded: loading a password-protected key runs
    a deliberately slow key derivation, which a batch should pay once, not per record."""
    missing = [name for name in envelope.encrypted_files if name not in files]
    if missing:
        raise MissingFileError(missing)
    symmetric, variant = _symmetric_key(envelope, key)

    names = envelope.encrypted_files
    ivs = file_ivs(envelope.instance_id, symmetric, len(names))
    originals = [
        (original_name(name), decrypt_file(name, files[name], symmetric, iv))
        for name, iv in zip(names, ivs, strict=True)
    ]
    *media, (_, xml) = originals
    return DecryptedSubmission(
        xml=xml,
        media=dict(media),
        signature_valid=_signature_valid(envelope, originals, key, variant),
    )


def check_record(envelope: Envelope, xml: bytes) -> None:
    """Check that the decrypted XML is the record the envelope announced.

    The server files the submission under the envelope's instanceID, before anyone can read
    the record; a record saying otherwise must not be processed under that identity.
    """
    try:
        root = parse_xml(xml, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise RecordMismatchError(f"the decrypted XML is not well-formed: {exc}") from exc
    form_id = root.get("id")
    if form_id is not None and form_id.strip() != envelope.form_id:
        raise RecordMismatchError(
            f"the decrypted record is for form {form_id!r}, the envelope says {envelope.form_id!r}"
        )
    instance_ids = [
        (element.text or "").strip()
        for meta in xform.children(root, "meta")
        for element in xform.children(meta, "instanceID")
    ]
    if instance_ids != [envelope.instance_id]:
        found = ", ".join(instance_ids) or "none"
        raise RecordMismatchError(
            f"the decrypted record's instanceID is {found}, the envelope says {envelope.instance_id}"
        )
