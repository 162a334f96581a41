"""The field teams' HTTP client: one login per demo user, requests as that user, pages walked to the end.

The drill talks to the platform only through its API, as the teams' phones and the lab's upload would.
Sessions expire on the simulated clock too; a team whose session ran out logs in again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

PAGE_SIZE = 200


class FieldError(RuntimeError):
    """The platform refused a field team's request: the drill stops and says which and why."""


class Field:
    """Requests as the demo users (lab, investigator, transfer, site-manager, community-worker, commander)."""

    def __init__(self, client: TestClient, password: str) -> None:
        self.client, self.password = client, password
        self._tokens: dict[str, str] = {}
        self.requests = 0

    def _login(self, user: str) -> str:
        answer = self.client.post("/api/auth/login", json={"username": user, "password": self.password})
        if answer.status_code != 200:
            raise FieldError(f"{user} cannot log in: {answer.status_code} {answer.text}")
        self._tokens[user] = answer.json()["token"]
        return self._tokens[user]

    def call(self, user: str, method: str, path: str, *, ok: tuple[int, ...] = (200, 201), **kwargs: Any) -> Any:
        """One request as the user: its JSON body, or None for a refusal listed in `ok`; any other refusal
        stops the drill naming the request."""
        token = self._tokens.get(user) or self._login(user)
        self.requests += 1
        answer = self.client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        if answer.status_code == 401:
            token = self._login(user)
            answer = self.client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        if answer.status_code not in ok:
            raise FieldError(f"{user}: {method} {path} answered {answer.status_code}: {answer.text[:500]}")
        if answer.status_code == 204 or answer.status_code >= 400 or not answer.content:
            return None  # nothing, or a refusal the caller accepts (listed in `ok`)
        return answer.json()

    def get(self, user: str, path: str, **params: Any) -> Any:
        return self.call(user, "GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, user: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        if body is not None:
            kwargs["json"] = body
        return self.call(user, "POST", path, **kwargs)

    def pages(self, user: str, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every row of a paged list (``{"data": [...], "count": n}``), page after page."""
        page = 1
        while True:
            body = self.get(user, path, page=page, page_size=PAGE_SIZE, **params)
            rows = body["data"]
            yield from rows
            if len(rows) < PAGE_SIZE:
                return
            page += 1
