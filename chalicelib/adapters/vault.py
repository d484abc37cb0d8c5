"""KMS envelope encryption of face templates: a fresh AES-256-GCM data key per template, the data
key encrypted by the biometric KMS key under an encryption context naming the employee, and the
NIP as additional authenticated data, so a template cannot be read back as anyone else's."""
from __future__ import annotations

import json
import os
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chalicelib.adapters import aws
from chalicelib.common.errors import Internal, JsonObject
from chalicelib.services.records import SealedTemplate

_INTEGRITY = "InvalidCiphertextException"  # KMS: wrong context (another NIP) or altered key


class BiometricVaultError(Internal):
    code = "biometric_vault_error"


def _context(nip: str) -> dict[str, str]:
    return {"purpose": "face-template", "nip": nip}


def integrity_error() -> BiometricVaultError:
    """Altered at rest, or stored under another NIP."""
    return BiometricVaultError("The stored template failed its integrity check",
                               details={"reason": "integrity"})


class KmsVault:
    """TemplateVault over KMS (``kms_client_provider`` returns the boto3 client; ``key_id`` is the
    biometric key's id, ARN or alias)."""

    def __init__(self, kms_client_provider: Callable[[], Any], key_id: str):
        self._kms = kms_client_provider
        self.key_id = key_id

    def seal(self, nip: str, template: JsonObject) -> SealedTemplate:
        """Encrypt ``template`` under a new data key bound to ``nip``."""
        try:
            dk = self._kms().generate_data_key(KeyId=self.key_id, KeySpec="AES_256",
                                               EncryptionContext=_context(nip))
        except (ClientError, BotoCoreError) as exc:
            aws.log_aws_failure(exc, BiometricVaultError.code)
            raise BiometricVaultError("The template could not be encrypted") from exc
        nonce = os.urandom(12)
        plaintext = json.dumps(template, separators=(",", ":")).encode()
        ciphertext = AESGCM(dk["Plaintext"]).encrypt(nonce, plaintext, nip.encode())
        return SealedTemplate(ciphertext=ciphertext, encrypted_key=dk["CiphertextBlob"], nonce=nonce,
                              key_id=dk["KeyId"], model_version=str(template.get("model_version", "")))

    def unseal(self, nip: str, sealed: SealedTemplate) -> JsonObject:
        """The template; BiometricVaultError ``{"reason": "integrity"}`` if it was altered or is
        not ``nip``'s, other details if KMS failed."""
        try:
            key = self._kms().decrypt(CiphertextBlob=bytes(sealed.encrypted_key),
                                      EncryptionContext=_context(nip))["Plaintext"]
        except ClientError as exc:
            if aws.error_code(exc) == _INTEGRITY:
                raise integrity_error() from exc
            aws.log_aws_failure(exc, BiometricVaultError.code)
            raise BiometricVaultError("The template could not be decrypted") from exc
        except BotoCoreError as exc:
            aws.log_aws_failure(exc, BiometricVaultError.code)
            raise BiometricVaultError("The template could not be decrypted") from exc
        try:
            plaintext = AESGCM(key).decrypt(bytes(sealed.nonce), bytes(sealed.ciphertext), nip.encode())
        except InvalidTag as exc:
            raise integrity_error() from exc
        return json.loads(plaintext)
