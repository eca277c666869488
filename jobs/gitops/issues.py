"""One GitHub issue per recommendation: a notify receiver (``type: github-issues``).

The issue carries a hidden marker naming the recommendation, so a run that crashed after
creating it finds it instead of opening a second one (the repository's issues are listed,
not searched: the search index lags behind). New or changed: the issue is created or
edited (title, body = the evidence, labels for priority and status). Ended: a comment with
the reason (once: it carries its own marker), then the issue is closed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from jobs.gitops.github import GitHub, GitHubError
from jobs.notify.render import Item, Message
from jobs.notify.senders import Outcome
from jobs.recommend.lifecycle import Status

LABEL = "infra-monitoring"
LABEL_COLOURS = {"priority": "d93f0b", "status": "0e8a16", LABEL: "5319e7"}
BODY_LIMIT = 65_000  # GitHub refuses bodies over 65,536 characters
NOT_PLANNED = {Status.DISMISSED.value, Status.EXPIRED.value}


def marker(key: str) -> str:
    return f"<!-- infra-monitoring:{key} -->"


def labels_for(status: str, priority: str | None) -> list[str]:
    labels = [LABEL, f"status:{status.lower()}"]
    if priority:
        labels.append(f"priority:{priority.lower()}")
    return labels


class IssueSender:
    def __init__(self, github: GitHub) -> None:
        self._github = github
        self._labels_checked: set[str] = set()

    def send(self, message: Message, now: datetime) -> Outcome:
        try:
            for item in message.items:
                self._apply(item)
        except GitHubError as exc:
            return Outcome(False, str(exc), exc.retry_after)
        return Outcome(True)

    # -- one notification ------------------------------------------------------------
    def _apply(self, item: Item) -> None:
        issue = self.find(item.fingerprint)
        if item.resolved:
            if issue is not None:
                self._close(issue, item)
            return
        status, _, priority = item.state.partition("/")
        labels = labels_for(status, priority)
        self._ensure_labels(labels)
        body = f"{marker(item.fingerprint)}\n{item.body}"[:BODY_LIMIT]
        fields = {"title": item.title, "body": body, "labels": labels}
        if issue is None:
            self._github.json("POST", f"{self._github.repo}/issues", json=fields)
        else:
            fields["state"] = "open"
            self._github.json("PATCH", f"{self._github.repo}/issues/{issue['number']}", json=fields)

    def _close(self, issue: dict[str, Any], item: Item) -> None:
        number = issue["number"]
        note = marker(item.dedup_key)
        comments = self._github.pages(f"{self._github.repo}/issues/{number}/comments", {})
        if not any(note in (c.get("body") or "") for c in comments):
            self._github.json(
                "POST",
                f"{self._github.repo}/issues/{number}/comments",
                json={"body": f"{note}\n{item.body}"},
            )
        final = item.body.removeprefix("Resolved: ").split(" ", 1)[0].rstrip(".:")
        fields: dict[str, Any] = {"state": "closed"}
        if final in {s.value for s in Status}:
            fields["labels"] = labels_for(final, None)
            self._ensure_labels(fields["labels"])
            fields["state_reason"] = "not_planned" if final in NOT_PLANNED else "completed"
        self._github.json("PATCH", f"{self._github.repo}/issues/{number}", json=fields)

    # -- lookups ---------------------------------------------------------------------
    def find(self, fingerprint: str) -> dict[str, Any] | None:
        """The issue whose body carries this recommendation's marker, open or closed."""
        wanted = marker(fingerprint)
        for issue in self._github.pages(
            f"{self._github.repo}/issues", {"state": "all", "labels": LABEL}
        ):
            if "pull_request" not in issue and wanted in (issue.get("body") or ""):
                return issue
        return None

    def _ensure_labels(self, names: list[str]) -> None:
        for name in names:
            if name in self._labels_checked:
                continue
            found = self._github.call(
                "GET", f"{self._github.repo}/labels/{quote(name, safe='')}", allow=(404,)
            )
            if found.status_code == 404:
                colour = LABEL_COLOURS.get(name.split(":", 1)[0], "ededed")
                self._github.call(
                    "POST",
                    f"{self._github.repo}/labels",
                    json={"name": name, "color": colour},
                    allow=(422,),  # created meanwhile by another run
                )
            self._labels_checked.add(name)
