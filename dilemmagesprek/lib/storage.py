from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed, pre-compressed files once `collectstatic` ran; plain names before that.

    The fallback lets tests and a fresh checkout render pages without collecting first;
    whitenoise then serves the files straight from the apps (WHITENOISE_USE_FINDERS).
    """

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            return name
