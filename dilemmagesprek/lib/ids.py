import secrets

# 72 random bits in 12 URL-safe characters: opaque in URLs and not enumerable.
PUBLIC_ID_LENGTH = 12


def new_public_id() -> str:
    # One id in 64 would begin with "-", which a command line reads as an option
    # (`dilemmagesprek export -x…` fails); drawing again costs almost no randomness.
    while True:
        public_id = secrets.token_urlsafe(9)
        if not public_id.startswith("-"):
            return public_id


def new_token() -> str:
    """An invite token: 256 random bits; only its hash is stored."""
    return secrets.token_urlsafe(32)
