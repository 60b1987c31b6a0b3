"""The failure of a step of the browser's SSO flow: shown to a person on an error page."""


class SsoError(Exception):
    """``message`` is safe to show (no secrets, no provider internals); ``status`` the HTTP one."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status
