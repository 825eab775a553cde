import secrets

# 72 random bits in 12 URL-safe characters: opaque in URLs and not enumerable.
PUBLIC_ID_LENGTH = 12


def new_public_id() -> str:
    return secrets.token_urlsafe(9)


def new_token() -> str:
    """An invite token: 256 random bits; only its hash is stored."""
    return secrets.token_urlsafe(32)
