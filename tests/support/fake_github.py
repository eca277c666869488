"""A local server on 127.0.0.1 that answers like GitHub's REST API for one repository:
issues (list with pagination and ``Link``, create, edit), labels, issue comments, git refs,
repository contents, pull requests. State lives in memory; answers have GitHub's shapes
and its errors (``{"message": …, "documentation_url": …}``, 401 Bad credentials, 404 Not
Found, 422 Validation Failed with ``errors``). Failures can be scripted per route."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.local_server import LocalServer

TOKEN = "ghs_testtoken0123456789abcdef"
OWNER, NAME = "acme", "infra"
REPOSITORY = f"{OWNER}/{NAME}"
DOCS = "https://docs.github.com/rest"


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeGitHub(LocalServer):
    page_size_cap: int = 100  # GitHub's per_page maximum; tests lower it to force pages
    default_branch: str = "main"

    def __post_init__(self) -> None:
        self.issues: dict[int, dict[str, Any]] = {}
        self.labels: dict[str, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.refs: dict[str, str] = {}  # branch -> commit sha
        self.files: dict[tuple[str, str], str] = {}  # (branch, path) -> text
        self.pulls: dict[int, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._next_number = 1
        self._next_sha = 1
        self._lock = threading.Lock()

    # -- test side -------------------------------------------------------------------
    def commit(self, branch: str, files: dict[str, str]) -> str:
        sha = self._sha()
        self.refs[branch] = sha
        for path, text in files.items():
            self.files[(branch, path)] = text
        return sha

    def merge(self, number: int, by: str) -> None:
        """Merge a pull request as ``by`` (its head's files land on the base)."""
        pull = self.pulls[number]
        head, base = pull["head"]["ref"], pull["base"]["ref"]
        for (branch, path), text in list(self.files.items()):
            if branch == head:
                self.files[(base, path)] = text
        self.refs[base] = self._sha()
        pull.update(
            state="closed",
            merged=True,
            merged_by={"login": by, "id": 42, "type": "User"},
            merged_at="2026-11-21T09:30:00Z",
            merge_commit_sha=self.refs[base],
        )

    def script(self, route: str, *replies: Reply) -> None:
        with self._lock:
            self.scripts[route].extend(replies)

    def env(self) -> dict[str, str]:
        return {
            "GITHUB_API_URL": self.url,
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_TOKEN": TOKEN,
        }

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(_Handler):
            github = fake

        return Handler

    # -- server side -----------------------------------------------------------------
    def _sha(self) -> str:
        self._next_sha += 1
        return f"{self._next_sha:040x}"

    def number(self) -> int:
        self._next_number += 1
        return self._next_number - 1

    def scripted(self, method: str, path: str) -> Reply | None:
        with self._lock:
            for route, queue in self.scripts.items():
                if f"{method} {path}".startswith(route) and queue:
                    return queue.popleft()
        return None


def _error(status: int, message: str, **extra: Any) -> Reply:
    return Reply(status, {"message": message, "documentation_url": DOCS, **extra})


def _invalid(resource: str, code: str, field_name: str, message: str | None = None) -> Reply:
    error = {"resource": resource, "code": code, "field": field_name}
    if message:
        error["message"] = message
    return _error(422, "Validation Failed", errors=[error], status="422")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    github: FakeGitHub

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def _handle(self, method: str) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            path, query = parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}
            gh = self.github
            with gh._lock:
                gh.requests.append((method, path))
            reply = gh.scripted(method, path)
            if reply is None:
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    reply = _error(401, "Bad credentials")
                else:
                    body = json.loads(raw) if raw else None
                    with gh._lock:
                        reply = self._route(method, path, query, body)
            self._send(reply)

    def _send(self, reply: Reply) -> None:
        data = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    # -- the API -----------------------------------------------------------------------
    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> Reply:
        gh = self.github
        prefix = f"/repos/{REPOSITORY}"
        if not path.startswith(prefix):
            return _error(404, "Not Found")
        rest = path[len(prefix) :]
        if rest == "" and method == "GET":
            return Reply(200, {"full_name": REPOSITORY, "default_branch": gh.default_branch})
        if rest == "/issues":
            return self._list_issues(query) if method == "GET" else self._create_issue(body)
        if m := re.fullmatch(r"/issues/(\d+)", rest):
            return self._edit_issue(int(m.group(1)), body)
        if m := re.fullmatch(r"/issues/(\d+)/comments", rest):
            return self._comments(method, int(m.group(1)), query, body)
        if m := re.fullmatch(r"/labels/(.+)", rest):
            label = gh.labels.get(unquote(m.group(1)))
            return Reply(200, label) if label else _error(404, "Not Found")
        if rest == "/labels" and method == "POST":
            if body["name"] in gh.labels:
                return _invalid("Label", "already_exists", "name")
            gh.labels[body["name"]] = {"name": body["name"], "color": body.get("color", "ededed")}
            return Reply(201, gh.labels[body["name"]])
        if m := re.fullmatch(r"/git/ref/heads/(.+)", rest):
            sha = gh.refs.get(m.group(1))
            if sha is None:
                return _error(404, "Not Found")
            return Reply(
                200, {"ref": f"refs/heads/{m.group(1)}", "object": {"sha": sha, "type": "commit"}}
            )
        if rest == "/git/refs" and method == "POST":
            branch = body["ref"].removeprefix("refs/heads/")
            if branch in gh.refs:
                return _error(422, "Reference already exists")
            gh.refs[branch] = body["sha"]
            for (b, p), text in list(gh.files.items()):
                if b == gh.default_branch:
                    gh.files[(branch, p)] = text
            return Reply(201, {"ref": body["ref"], "object": {"sha": body["sha"]}})
        if m := re.fullmatch(r"/contents/(.+)", rest):
            return self._contents(method, unquote(m.group(1)), query, body)
        if rest == "/pulls":
            return self._list_pulls(query) if method == "GET" else self._create_pull(body)
        if m := re.fullmatch(r"/pulls/(\d+)", rest):
            pull = gh.pulls.get(int(m.group(1)))
            return Reply(200, pull) if pull else _error(404, "Not Found")
        return _error(404, "Not Found")

    def _page(self, items: list[dict[str, Any]], query: dict[str, str], path: str) -> Reply:
        per_page = min(int(query.get("per_page", 30)), self.github.page_size_cap)
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            others = {k: v for k, v in query.items() if k != "page"}
            params = "&".join(f"{k}={v}" for k, v in others.items())
            headers["Link"] = f'<{self.github.url}{path}?{params}&page={page + 1}>; rel="next"'
        return Reply(200, chunk, headers)

    def _list_issues(self, query: dict[str, str]) -> Reply:
        state = query.get("state", "open")
        wanted = set(filter(None, query.get("labels", "").split(",")))
        items = [
            i
            for i in sorted(self.github.issues.values(), key=lambda i: -i["number"])
            if (state == "all" or i["state"] == state)
            and wanted <= {label["name"] for label in i["labels"]}
        ]
        return self._page(items, query, f"/repos/{REPOSITORY}/issues")

    def _labels(self, names: list[str]) -> list[dict[str, Any]]:
        gh = self.github
        for name in names:
            gh.labels.setdefault(name, {"name": name, "color": "ededed"})
        return [gh.labels[n] for n in names]

    def _create_issue(self, body: dict[str, Any]) -> Reply:
        if not body or not str(body.get("title", "")).strip():
            return _invalid("Issue", "missing_field", "title")
        gh = self.github
        number = gh.number()
        issue = {
            "id": 1000 + number,
            "number": number,
            "title": body["title"],
            "body": body.get("body"),
            "state": "open",
            "state_reason": None,
            "labels": self._labels(body.get("labels", [])),
            "html_url": f"https://github.com/{REPOSITORY}/issues/{number}",
            "user": {"login": "github-actions[bot]"},
        }
        gh.issues[number] = issue
        return Reply(201, issue)

    def _edit_issue(self, number: int, body: dict[str, Any]) -> Reply:
        issue = self.github.issues.get(number)
        if issue is None:
            return _error(404, "Not Found")
        for key in ("title", "body", "state", "state_reason"):
            if key in body:
                issue[key] = body[key]
        if "labels" in body:
            issue["labels"] = self._labels(body["labels"])
        return Reply(200, issue)

    def _comments(self, method: str, number: int, query: dict[str, str], body: Any) -> Reply:
        gh = self.github
        if number not in gh.issues and number not in gh.pulls:
            return _error(404, "Not Found")
        if method == "GET":
            return self._page(
                gh.comments[number], query, f"/repos/{REPOSITORY}/issues/{number}/comments"
            )
        comment = {
            "id": 5000 + len(gh.comments[number]),
            "body": body["body"],
            "user": {"login": "github-actions[bot]"},
        }
        gh.comments[number].append(comment)
        return Reply(201, comment)

    def _contents(self, method: str, path: str, query: dict[str, str], body: Any) -> Reply:
        gh = self.github
        if method == "GET":
            branch = query.get("ref", gh.default_branch)
            text = gh.files.get((branch, path))
            if text is None:
                return _error(404, "Not Found")
            return Reply(
                200,
                {
                    "type": "file",
                    "encoding": "base64",
                    "path": path,
                    "sha": _blob_sha(text),
                    "content": base64.encodebytes(text.encode()).decode(),
                },
            )
        branch = body.get("branch", gh.default_branch)
        if branch not in gh.refs:
            return _error(404, "Branch not found")
        current = gh.files.get((branch, path))
        if current is not None and body.get("sha") != _blob_sha(current):
            return _error(409, f"{path} does not match {body.get('sha')}")
        text = base64.b64decode(body["content"]).decode()
        gh.files[(branch, path)] = text
        gh.refs[branch] = gh._sha()
        return Reply(
            200,
            {
                "content": {"path": path, "sha": _blob_sha(text)},
                "commit": {"sha": gh.refs[branch], "message": body["message"]},
            },
        )

    def _list_pulls(self, query: dict[str, str]) -> Reply:
        head = query.get("head", "")
        state = query.get("state", "open")
        items = [
            p
            for p in self.github.pulls.values()
            if (not head or f"{OWNER}:{p['head']['ref']}" == head)
            and (state == "all" or p["state"] == state)
        ]
        return self._page(items, query, f"/repos/{REPOSITORY}/pulls")

    def _create_pull(self, body: dict[str, Any]) -> Reply:
        gh = self.github
        head, base = body["head"], body["base"]
        if head not in gh.refs:
            return _invalid("PullRequest", "invalid", "head")
        if any(p["head"]["ref"] == head and p["state"] == "open" for p in gh.pulls.values()):
            return _invalid(
                "PullRequest",
                "custom",
                "head",
                f"A pull request already exists for {OWNER}:{head}.",
            )
        if all(gh.files.get((head, p)) == t for (b, p), t in gh.files.items() if b == base) and all(
            gh.files.get((base, p)) == t for (b, p), t in gh.files.items() if b == head
        ):
            return _invalid(
                "PullRequest", "custom", "head", f"No commits between {base} and {head}"
            )
        number = gh.number()
        pull = {
            "id": 2000 + number,
            "number": number,
            "title": body["title"],
            "body": body.get("body"),
            "state": "open",
            "merged": False,
            "merged_by": None,
            "merged_at": None,
            "head": {"ref": head, "sha": gh.refs[head]},
            "base": {"ref": base},
            "html_url": f"https://github.com/{REPOSITORY}/pull/{number}",
        }
        gh.pulls[number] = pull
        return Reply(201, pull)


def _blob_sha(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
