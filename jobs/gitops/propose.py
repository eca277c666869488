"""Approval as a pull request, over GitHub's REST API.

``open_pull_request``: a branch from the base, limits.yaml edited on it (only the plan
lines), a pull request, and the cost comment. Every step is found before it is made (the
branch, the edited file, the open pull request, the comment's marker), so running it
again, or after a crash halfway, finishes the same single pull request.

``sync_pull_requests``: a merged pull request is the approval: the recommendation becomes
APPROVED by ``github:<login of merged_by>``, with the pull request in the note. The next
``recommend`` marks it IMPLEMENTED once limits.yaml has the plan.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

import psycopg

from jobs.errors import ConfigError, MonitoringError
from jobs.gitops import planedit
from jobs.gitops.github import GitHub
from jobs.gitops.proposal import (
    BRANCH_PREFIX,
    COMMENT_MARKER,
    Proposal,
    body,
    cost_comment,
    propose,
)
from jobs.limits.loader import parse as parse_limits
from jobs.notify.recommendations import RecommendationView
from jobs.recommend import review
from jobs.recommend import store as recommend_store
from jobs.recommend.lifecycle import Status


class ProposalError(MonitoringError):
    """The upgrade cannot be proposed as a pull request."""


@dataclass(frozen=True)
class Opened:
    number: int
    url: str
    created: bool  # False: it was already open
    proposal: Proposal


def _owner(github: GitHub) -> str:
    return github.settings.repository.split("/", 1)[0]


def _pulls(github: GitHub, branch: str) -> list[dict]:
    return list(
        github.pages(f"{github.repo}/pulls", {"head": f"{_owner(github)}:{branch}", "state": "all"})
    )


def _read(github: GitHub, path: str, ref: str) -> tuple[str, str]:
    """The text and blob sha of ``path`` on ``ref``."""
    found = github.json("GET", f"{github.repo}/contents/{path}", params={"ref": ref})
    try:
        text = base64.b64decode(found["content"]).decode("utf-8")
    except (KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ProposalError(f"{path} on {ref} is not a text file GitHub returned") from None
    return text, str(found["sha"])


def open_pull_request(
    github: GitHub, r: RecommendationView, path: str, base: str | None = None
) -> Opened:
    if not r.is_open:
        raise ProposalError(f"recommendation {r.id} is {r.status}: only open ones are proposed")
    repo = github.repo
    branch = BRANCH_PREFIX + r.id
    previous = _pulls(github, branch)
    merged = [p for p in previous if p.get("merged_at")]
    if merged:
        raise ProposalError(
            f"recommendation {r.id} was already merged in #{merged[0]['number']}: "
            "run `python -m jobs recommendations sync-prs`"
        )
    base = base or str(github.json("GET", repo)["default_branch"])
    base_text, _ = _read(github, path, base)
    proposal = propose(parse_limits(base_text, f"{path} on {base}"), r)
    if not proposal.services:
        raise ProposalError(
            f"{path} on {base} puts no service on {r.current_plan}: nothing to change"
        )
    opened = [p for p in previous if p["state"] == "open"]
    if opened:
        pull, created = opened[0], False
    else:
        sha = github.json("GET", f"{repo}/git/ref/heads/{base}")["object"]["sha"]
        github.call(
            "POST",
            f"{repo}/git/refs",
            json={"ref": f"refs/heads/{branch}", "sha": sha},
            allow=(422,),  # the branch exists: an earlier attempt made it
        )
        text, blob = _read(github, path, branch)
        changed = planedit.apply(text, proposal.edits, path)
        if changed != text:
            parse_limits(changed, f"{path} as proposed")  # never propose an invalid file
            github.json(
                "PUT",
                f"{repo}/contents/{path}",
                json={
                    "message": f"{proposal.title}\n\nRecommendation {r.id}: {r.title}",
                    "content": base64.b64encode(changed.encode()).decode(),
                    "sha": blob,
                    "branch": branch,
                },
            )
        pull = github.json(
            "POST",
            f"{repo}/pulls",
            json={"title": proposal.title, "head": branch, "base": base, "body": body(proposal)},
        )
        created = True
    number = int(pull["number"])
    comments = github.pages(f"{repo}/issues/{number}/comments", {})
    if not any(COMMENT_MARKER in (c.get("body") or "") for c in comments):
        github.json(
            "POST", f"{repo}/issues/{number}/comments", json={"body": cost_comment(proposal)}
        )
    return Opened(number, str(pull.get("html_url", "")), created, proposal)


@dataclass(frozen=True)
class Approval:
    recommendation_id: str
    number: int
    by: str


def sync_pull_requests(conn: psycopg.Connection, github: GitHub, now: datetime) -> list[Approval]:
    """Record every merged proposal as its recommendation's approval."""
    approvals = []
    for rec in recommend_store.open_recommendations(conn):
        if rec.status is Status.APPROVED:
            continue
        merged = [p for p in _pulls(github, BRANCH_PREFIX + rec.id) if p.get("merged_at")]
        if not merged:
            continue
        pull = github.json("GET", f"{github.repo}/pulls/{merged[0]['number']}")
        login = (pull.get("merged_by") or {}).get("login")
        if not isinstance(login, str) or not login:
            raise ConfigError(f"pull request #{pull['number']} is merged but names no merger")
        by = f"github:{login}"
        link = pull.get("html_url") or f"#{pull['number']}"
        review.change_status(
            conn,
            rec.id,
            "approve",
            by=by,
            now=now,
            note=f"merged {link} at {pull.get('merged_at')}",
        )
        approvals.append(Approval(rec.id, int(pull["number"]), by))
    return approvals
