"""A small client of GitHub's REST API, configured the way GitHub Actions provides it:
``GITHUB_API_URL`` (default https://api.github.com), ``GITHUB_REPOSITORY`` (owner/name),
``GITHUB_TOKEN``. Errors become GitHubError with GitHub's own message, the token never in
it. Sync httpx with a timeout; no retries here (the callers' next run retries)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from jobs.collect.http import error_message, retry_delay
from jobs.errors import ConfigError, MonitoringError
from jobs.notify.senders import is_http_url
from jobs.redact import scrub

DEFAULT_API_URL = "https://api.github.com"
REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
API_VERSION = "2022-11-28"
MAX_PAGES = 10  # 1,000 items at 100 per page
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class GitHubError(MonitoringError):
    """GitHub refused or failed a request."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class GitHubSettings:
    api_url: str
    repository: str
    token: str

    @classmethod
    def from_env(cls, env: Mapping[str, str], token_var: str = "GITHUB_TOKEN") -> GitHubSettings:
        token = env.get(token_var, "").strip()
        if not token:
            raise ConfigError(f"{token_var} is not set: a GitHub token is needed")
        repository = env.get("GITHUB_REPOSITORY", "").strip()
        if not repository:
            raise ConfigError("GITHUB_REPOSITORY is not set: name the repository as owner/name")
        if not REPOSITORY.match(repository):
            raise ConfigError(f"GITHUB_REPOSITORY must be owner/name, not {repository!r}")
        api = env.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
        if not is_http_url(api):
            raise ConfigError(f"GITHUB_API_URL must be an http(s) URL, not {api!r}")
        return cls(api.rstrip("/"), repository, token)


class GitHub:
    def __init__(self, client: httpx.Client, settings: GitHubSettings) -> None:
        self._client = client
        self.settings = settings
        self._headers = {
            "Authorization": f"Bearer {settings.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
        }

    @property
    def repo(self) -> str:
        return f"/repos/{self.settings.repository}"

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else self.settings.api_url + path

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        allow: tuple[int, ...] = (),
    ) -> httpx.Response:
        """The response (2xx, or a status in ``allow``), else GitHubError."""
        what = f"{method} {path.split('?')[0]}"
        try:
            response = self._client.request(
                method, self._url(path), json=json, params=params, headers=self._headers
            )
        except httpx.TimeoutException:
            raise GitHubError(f"GitHub {what}: no answer in time") from None
        except httpx.HTTPError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise GitHubError(
                scrub(f"GitHub {what}: unreachable ({first})", [self.settings.token])
            ) from None
        if response.is_success or response.status_code in allow:
            return response
        status = response.status_code
        asked = None
        limited = status == 429 or (
            status == 403 and response.headers.get("x-ratelimit-remaining") == "0"
        )
        if limited:
            asked = retry_delay(response.headers, response.content, time.time())
            reset = response.headers.get("x-ratelimit-reset", "")
            if asked is None and reset.isdigit():
                asked = max(0.0, float(reset) - time.time())
        message = scrub(
            f"GitHub {what}: HTTP {status}: {error_message(response.content)}",
            [self.settings.token],
        )
        raise GitHubError(message, status, asked)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.call(method, path, **kwargs).json()

    def pages(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item of a listing, following ``Link: rel="next"``."""
        url: str | None = path
        query: Mapping[str, Any] | None = {**params, "per_page": 100}
        for _ in range(MAX_PAGES):
            if url is None:
                return
            response = self.call("GET", url, params=query)
            yield from response.json()
            found = _NEXT.search(response.headers.get("link", ""))
            # Only GitHub's own pages get the token.
            if found and found.group(1).startswith(self.settings.api_url + "/"):
                url, query = found.group(1), None
            else:
                url = None
