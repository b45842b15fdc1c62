"""Members' personal data at rest (个人信息保护法): phone numbers encrypted, looked up by a keyed hash.

One key from the environment (PERSONAL_DATA_KEY, 32 bytes) gives two sub-keys by HKDF-SHA256: one
encrypts (Fernet: AES-128-CBC with an HMAC-SHA256 tag, a fresh IV per value), one makes the lookup hash
(HMAC-SHA256 of the normalised number) that finds a member by phone — the import's dedup, `member
remove --phone` — without the plaintext being stored or compared. A database dump or backup holds
neither the numbers nor anything that tests a guessed number without the key.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import struct
import time
from collections.abc import Sequence
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NOT_DIGITS = re.compile(r"[\s\-()]")
_BLOCK = 16
_SHA256_BLOCK = 64
_FERNET_VERSION = b"\x80"


class PersonalDataError(ValueError):
    """A stored value does not decrypt with the configured key (the key changed, or the row is damaged)."""


def normalise_phone(phone: str) -> str:
    """The number as compared and stored: spaces, dashes and brackets removed, a +86 prefix dropped."""
    digits = _NOT_DIGITS.sub("", phone.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def mask_phone(phone: str) -> str:
    """138****5678: how a phone number appears in every screen, export and message."""
    digits = phone.replace("-", "")
    return digits[:3] + "*" * max(len(digits) - 7, 0) + digits[-4:] if len(digits) > 7 else "****"


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"nianjian " + purpose).derive(master)


class PersonalDataKey:
    """Encrypts, decrypts and hashes members' phone numbers with sub-keys of PERSONAL_DATA_KEY."""

    def __init__(self, key: str) -> None:
        master = base64.urlsafe_b64decode(key.encode("ascii"))
        if len(master) != 32:
            raise ValueError("PERSONAL_DATA_KEY must decode to 32 bytes")
        fernet_key = _derive(master, b"personal data encryption")
        self._fernet = Fernet(base64.urlsafe_b64encode(fernet_key))
        self._signing = KeyedSha256(fernet_key[:16])
        self._aes = algorithms.AES(fernet_key[16:])
        self._lookup = _derive(master, b"phone lookup")
        self._lookup_mac = KeyedSha256(self._lookup)

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as error:
            raise PersonalDataError("无法解密个人信息：PERSONAL_DATA_KEY 与加密时的不一致") from error

    def encrypt_many(self, values: Sequence[str]) -> list[str]:
        """Fernet tokens of many values at once (each decrypts with ``decrypt``): one random read, one
        XOR with the IVs and one AES pass for all the values that fit one block (a phone number)."""
        plain = [value.encode("utf-8") for value in values]
        ivs = os.urandom(_BLOCK * len(plain))
        short = [i for i, data in enumerate(plain) if len(data) < _BLOCK]
        if len(short) == len(plain):  # the usual case: every value one block, IVs in the same order
            chained = _xor(b"".join(map(_pad, plain)), ivs)
        else:
            chained = _xor(
                b"".join(_pad(plain[i]) for i in short),
                b"".join(ivs[_BLOCK * i : _BLOCK * (i + 1)] for i in short),
            )
        ecb = Cipher(self._aes, modes.ECB()).encryptor()  # CBC of one block: AES(block XOR IV)
        sealed = ecb.update(chained) + ecb.finalize()
        bodies: list[bytes] = [b""] * len(plain)
        for n, i in enumerate(short):
            bodies[i] = sealed[_BLOCK * n : _BLOCK * (n + 1)]
        for i, data in enumerate(plain):
            if len(data) >= _BLOCK:
                cbc = Cipher(self._aes, modes.CBC(ivs[_BLOCK * i : _BLOCK * (i + 1)])).encryptor()
                bodies[i] = cbc.update(_pad(data)) + cbc.finalize()
        stamp = _FERNET_VERSION + struct.pack(">Q", int(time.time()))
        sign, encode = self._signing.digest, base64.urlsafe_b64encode
        tokens = []
        for i, body in enumerate(bodies):
            signed = stamp + ivs[_BLOCK * i : _BLOCK * (i + 1)] + body
            tokens.append(encode(signed + sign(signed)).decode("ascii"))
        return tokens

    def phone_hashes(self, phones: Sequence[str]) -> list[str]:
        """``phone_hash`` of many numbers already normalised (``normalise_phone``), the keyed MAC set
        up once."""
        mac = self._lookup_mac.hexdigest
        return [mac(phone.encode("utf-8")) for phone in phones]

    def phone_hash(self, phone: str) -> str:
        """The keyed hash of a normalised phone number (64 hex characters): equal numbers, equal hashes."""
        return self._lookup_mac.hexdigest(normalise_phone(phone).encode("utf-8"))


def _pad(data: bytes) -> bytes:
    """PKCS7 padding to whole AES blocks, as Fernet pads."""
    fill = _BLOCK - len(data) % _BLOCK
    return data + bytes([fill]) * fill


def _xor(blocks: bytes, ivs: bytes) -> bytes:
    """Two byte strings of one length XORed (as two big integers: one C loop for a whole batch)."""
    return (int.from_bytes(blocks, "big") ^ int.from_bytes(ivs, "big")).to_bytes(len(blocks), "big")


class KeyedSha256:
    """HMAC-SHA256 (RFC 2104) under one key with its padded inner and outer states hashed once: a
    message then costs two copies and two short updates, about half of ``hmac.HMAC.copy()``."""

    def __init__(self, key: bytes) -> None:
        padded = (hashlib.sha256(key).digest() if len(key) > _SHA256_BLOCK else key).ljust(
            _SHA256_BLOCK, b"\0"
        )
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def hexdigest(self, message: bytes) -> str:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


@cache
def personal_data_key(key: str) -> PersonalDataKey:
    """The key object for a configured key (derived once per process)."""
    return PersonalDataKey(key)
