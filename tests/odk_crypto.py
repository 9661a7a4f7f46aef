"""The device side of ODK submission encryption, for tests only: what Collect or Enketo do
when finalising a record of an encrypted form (https://getodk.github.io/xforms-spec/encryption).

Written independently of odk_forms.encryption (its own IV and signature code) so that a
round trip checks the decryptor against the specification, not against itself.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as symmetric_padding
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

try:
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:  # cryptography < 47
    from cryptography.hazmat.primitives.ciphers.modes import CFB

COLLECT_NS = "http://www.opendatakit.org/xforms/encrypted"
OPENROSA_NS = "http://openrosa.org/xforms"

# Java "RSA/NONE/OAEPWithSHA256AndMGF1Padding": Bouncy Castle, as in Collect (SHA-256 mask),
# or the JDK's provider and Enketo (SHA-1 mask).
OAEP_BOUNCY_CASTLE = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
OAEP_JDK = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA256(), label=None)  # noqa: S303


def md5(data: bytes):  # type: ignore[no-untyped-def]
    return hashlib.md5(data)  # noqa: S324 - fixed by the specification


@dataclass(frozen=True)
class KeyPair:
    private_pem: bytes
    public_key: rsa.RSAPublicKey

    @property
    def base64_public_key(self) -> str:
        """The value of the form's base64RsaPublicKey: DER SubjectPublicKeyInfo in base64."""
        der = self.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode("ascii")


def make_key_pair(bits: int = 2048, password: bytes | None = None) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    return KeyPair(private_pem=pem, public_key=key.public_key())


@dataclass(frozen=True)
class EncryptedSubmission:
    envelope: bytes  # what the device posts as xml_submission_file
    files: dict[str, bytes]  # the .enc attachments, by name


def encrypt_submission(
    public_key: rsa.RSAPublicKey,
    xml: bytes,
    instance_id: str,
    form_id: str = "ranger_patrol",
    version: str | None = "2025061501",
    media: dict[str, bytes] | None = None,
    oaep: padding.OAEP = OAEP_BOUNCY_CASTLE,
    aes_key: bytes | None = None,
) -> EncryptedSubmission:
    media = media or {}
    aes_key = aes_key or os.urandom(32)
    encrypted_key = base64.b64encode(public_key.encrypt(aes_key, oaep)).decode("ascii")

    seed = list(md5(instance_id.encode() + aes_key).digest())
    files: dict[str, bytes] = {}
    signed = [form_id, *([version] if version is not None else []), encrypted_key, instance_id]
    for counter, (name, data) in enumerate([*media.items(), ("submission.xml", xml)]):
        seed[counter % 16] = (seed[counter % 16] + 1) % 256
        padder = symmetric_padding.PKCS7(128).padder()
        encryptor = Cipher(algorithms.AES(aes_key), CFB(bytes(seed))).encryptor()
        padded = padder.update(data) + padder.finalize()
        files[f"{name}.enc"] = encryptor.update(padded) + encryptor.finalize()
        signed.append(f"{name}::{md5(data).hexdigest()}")
    digest = md5(("\n".join(signed) + "\n").encode()).digest()
    signature = base64.b64encode(public_key.encrypt(digest, oaep)).decode("ascii")

    # Laid out as Collect writes it: key, meta, one <media> per file, XML file, signature.
    version_attr = f" version={quoteattr(version)}" if version is not None else ""
    media_xml = "".join(f"<media><file>{escape(name)}.enc</file></media>\n" for name in media)
    envelope = (
        f'<data id={quoteattr(form_id)}{version_attr} encrypted="yes" xmlns="{COLLECT_NS}">'
        f"<base64EncryptedKey>{encrypted_key}</base64EncryptedKey>"
        f'<orx:meta xmlns:orx="{OPENROSA_NS}">'
        f"<orx:instanceID>{escape(instance_id)}</orx:instanceID></orx:meta>\n"
        f"{media_xml}"
        f"<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"
        f"<base64EncryptedElementSignature>{signature}</base64EncryptedElementSignature></data>"
    )
    return EncryptedSubmission(envelope=envelope.encode("utf-8"), files=files)
