"""KMS envelope encryption of face templates: a fresh AES-256-GCM data key per template, the data
key encrypted by the biometric KMS key under an encryption context naming the employee."""
from __future__ import annotations

import json
import os
from typing import Any

from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chalicelib.adapters import aws
from chalicelib.common.errors import Internal


class BiometricVaultError(Internal):
    code = "biometric_vault_error"


def _context(nip: str) -> dict[str, str]:
    return {"purpose": "face-template", "nip": nip}


def seal(nip: str, template: dict[str, Any], key_id: str) -> dict[str, Any]:
    kms = aws.client("kms")
    try:
        dk = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=_context(nip))
    except ClientError as exc:
        raise BiometricVaultError("The template could not be encrypted",
                                  details={"aws": aws.error_code(exc)}) from exc
    nonce = os.urandom(12)
    plaintext = json.dumps(template, separators=(",", ":")).encode()
    ciphertext = AESGCM(dk["Plaintext"]).encrypt(nonce, plaintext, nip.encode())
    return {"ciphertext": ciphertext, "encrypted_key": dk["CiphertextBlob"], "nonce": nonce,
            "key_id": dk["KeyId"]}


def unseal(nip: str, sealed: dict[str, Any]) -> dict[str, Any]:
    kms = aws.client("kms")
    try:
        key = kms.decrypt(CiphertextBlob=bytes(sealed["encrypted_key"]),
                          EncryptionContext=_context(nip))["Plaintext"]
    except ClientError as exc:
        raise BiometricVaultError("The template could not be decrypted",
                                  details={"aws": aws.error_code(exc)}) from exc
    try:
        plaintext = AESGCM(key).decrypt(bytes(sealed["nonce"]), bytes(sealed["ciphertext"]), nip.encode())
    except InvalidTag as exc:  # altered, or stored under another NIP
        raise BiometricVaultError("The stored template failed its integrity check",
                                  details={"reason": "integrity"}) from exc
    return json.loads(plaintext)
