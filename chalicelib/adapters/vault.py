"""KMS envelope encryption of face templates: a fresh AES-256-GCM data key per template, the data
key encrypted by the biometric KMS key under an encryption context naming the employee, and the
NIP as additional authenticated data, so a template cannot be read back as anyone else's."""
from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chalicelib.adapters import aws
from chalicelib.common.errors import Internal, JsonObject, Kind
from chalicelib.services.records import SealedTemplate

_INTEGRITY = "InvalidCiphertextException"  # KMS: wrong context (another NIP) or altered key


class BiometricVaultError(Internal):
    code = "biometric_vault_error"


def _kind(exc: Exception) -> Kind:
    """KMS throttled, timed out or failed on its side: retry later (503); else misconfigured."""
    return Kind.UNAVAILABLE if aws.transient(exc) else Kind.INTERNAL


def _context(nip: str) -> dict[str, str]:
    return {"purpose": "face-template", "nip": nip}


def integrity_error() -> BiometricVaultError:
    """Altered at rest, or stored under another NIP."""
    return BiometricVaultError("The stored template failed its integrity check",
                               details={"reason": "integrity"})


class DataKeyCache:
    """Decrypted data keys by (NIP, encrypted key), each for at most ``ttl_s`` seconds and at most
    ``max_keys`` of them (least recently used out first), like the AWS Encryption SDK's caching
    CMM: a warm check-in unseals its template without a KMS Decrypt. Only what KMS decrypted
    under the NIP's encryption context is kept, so a hit is as bound to the NIP as a Decrypt."""

    def __init__(self, ttl_s: int, max_keys: int, clock: Callable[[], float] = time.monotonic):
        self.ttl_s, self.max_keys, self._clock = ttl_s, max_keys, clock
        self._keys: OrderedDict[tuple[str, bytes], tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, nip: str, encrypted_key: bytes) -> bytes | None:
        with self._lock:
            hit = self._keys.get((nip, encrypted_key))
            if hit is None or hit[0] <= self._clock():
                self._keys.pop((nip, encrypted_key), None)
                return None
            self._keys.move_to_end((nip, encrypted_key))
            return hit[1]

    def put(self, nip: str, encrypted_key: bytes, key: bytes) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            self._keys[(nip, encrypted_key)] = (self._clock() + self.ttl_s, key)
            self._keys.move_to_end((nip, encrypted_key))
            while len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)


class KmsVault:
    """TemplateVault over KMS (``kms_client_provider`` returns the boto3 client; ``key_id`` is the
    biometric key's id, ARN or alias); ``cache`` keeps decrypted data keys (none: every unseal
    asks KMS)."""

    def __init__(self, kms_client_provider: Callable[[], Any], key_id: str, cache: DataKeyCache | None = None):
        self._kms = kms_client_provider
        self.key_id = key_id
        self.cache = cache or DataKeyCache(0, 1)

    def seal(self, nip: str, template: JsonObject) -> SealedTemplate:
        """Encrypt ``template`` under a new data key bound to ``nip``."""
        try:
            dk = self._kms().generate_data_key(KeyId=self.key_id, KeySpec="AES_256",
                                               EncryptionContext=_context(nip))
        except (ClientError, BotoCoreError) as exc:
            aws.log_aws_failure(exc, BiometricVaultError.code)
            raise BiometricVaultError("The template could not be encrypted", kind=_kind(exc)) from exc
        nonce = os.urandom(12)
        plaintext = json.dumps(template, separators=(",", ":")).encode()
        ciphertext = AESGCM(dk["Plaintext"]).encrypt(nonce, plaintext, nip.encode())
        return SealedTemplate(ciphertext=ciphertext, encrypted_key=dk["CiphertextBlob"], nonce=nonce,
                              key_id=dk["KeyId"], model_version=str(template.get("model_version", "")))

    def unseal(self, nip: str, sealed: SealedTemplate) -> JsonObject:
        """The template; BiometricVaultError ``{"reason": "integrity"}`` if it was altered or is
        not ``nip``'s, other details if KMS failed."""
        key = self.cache.get(nip, bytes(sealed.encrypted_key)) or self._decrypt(nip, sealed)
        try:
            plaintext = AESGCM(key).decrypt(bytes(sealed.nonce), bytes(sealed.ciphertext), nip.encode())
        except InvalidTag as exc:
            raise integrity_error() from exc
        self.cache.put(nip, bytes(sealed.encrypted_key), key)  # only a key that opened the template
        return json.loads(plaintext)

    def _decrypt(self, nip: str, sealed: SealedTemplate) -> bytes:
        """The template's data key from KMS, under the NIP's encryption context."""
        try:
            return self._kms().decrypt(CiphertextBlob=bytes(sealed.encrypted_key),
                                       EncryptionContext=_context(nip))["Plaintext"]
        except ClientError as exc:
            if aws.error_code(exc) == _INTEGRITY:
                raise integrity_error() from exc
            aws.log_aws_failure(exc, BiometricVaultError.code)
            raise BiometricVaultError("The template could not be decrypted", kind=_kind(exc)) from exc
        except BotoCoreError as exc:
            aws.log_aws_failure(exc, BiometricVaultError.code)
            raise BiometricVaultError("The template could not be decrypted", kind=_kind(exc)) from exc
