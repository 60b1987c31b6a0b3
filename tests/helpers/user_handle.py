"""A registered user as a test sees it (shared by the fixtures and helper modules).

Its own module, not conftest: tests/conftest.py and the conftest.py of test directories share
the module name ``conftest``, so importing from it is ambiguous."""


class UserHandle:
    """A registered user as a test sees it: ids, token, and request helpers that send it."""

    def __init__(self, client, user_id, access_token, device_id, password):
        self.client = client
        self.user_id = user_id
        self.access_token = access_token
        self.device_id = device_id
        self.password = password

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.access_token}"}

    def request(self, method, path, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)
