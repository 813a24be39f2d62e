"""Password hashing (argon2id) and the strength rule."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from app.accounts.errors import WeakPassword

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)  # argon2id by default


def hasher() -> PasswordHasher:
    cfg = current_app.config
    return _hasher(cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        hasher().hash(password)  # same work whether or not the account has a password
        return False
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text().splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip())


def check_password_strength(password: str, *, email: str = "", display_name: str = "") -> None:
    """Raise WeakPassword with a reason the user can act on."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise WeakPassword(f"Use at least {minimum} characters.", field="password")
    lowered = password.lower()
    if lowered in common_passwords():
        raise WeakPassword("This password is too common. Choose another.", field="password")
    local_part = email.split("@")[0].lower()
    if (local_part and len(local_part) >= 4 and lowered == local_part) or (
            display_name and lowered == display_name.lower()):
        raise WeakPassword("Don't use your e-mail or name as your password.", field="password")
