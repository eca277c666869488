"""``recommendations propose`` and ``recommendations sync-prs``: approval as a pull request
(registered under ``recommendations`` by jobs.commands.recommend)."""

from __future__ import annotations

import argparse
import os

import httpx

from jobs import db, settings
from jobs.commands.options import parse_now, shared
from jobs.errors import ConfigError
from jobs.gitops.github import GitHub, GitHubSettings
from jobs.gitops.propose import open_pull_request, sync_pull_requests
from jobs.notify.recommendations import view
from jobs.recommend import store
from jobs.recommend.advice import Priority
from jobs.recommend.lifecycle import OPEN

TIMEOUT_SECONDS = 30.0


def register(actions: argparse._SubParsersAction) -> None:
    propose = actions.add_parser(
        "propose",
        help="open a pull request that changes the account's plan in limits.yaml",
        description=(
            "Open (or find) the pull request that moves the recommendation's account to the "
            "recommended plan in limits.yaml, with a cost comment. Merging it is the approval. "
            "Needs GITHUB_TOKEN (contents and pull requests: write), GITHUB_REPOSITORY and "
            "optionally GITHUB_API_URL."
        ),
    )
    propose.add_argument("id", nargs="?", help="the recommendation (or --all-critical)")
    propose.add_argument(
        "--all-critical",
        action="store_true",
        help="propose every open recommendation of priority CRITICAL",
    )
    propose.add_argument(
        "--path",
        default="limits.yaml",
        help="the limits file's path in the repository (default: limits.yaml)",
    )
    propose.add_argument("--base", help="the branch to change (default: the repository's)")
    propose.set_defaults(run=_propose)
    sync = actions.add_parser(
        "sync-prs",
        help="record merged upgrade pull requests as approvals (by their merger)",
    )
    shared(sync, "--now")
    sync.set_defaults(run=_sync)


def _github(client: httpx.Client) -> GitHub:
    return GitHub(client, GitHubSettings.from_env(os.environ))


def _propose(args: argparse.Namespace) -> int:
    if bool(args.id) == bool(args.all_critical):
        raise ConfigError("recommendations propose: give one ID, or --all-critical")
    with db.connect(settings.database().dsn, autocommit=True) as conn:
        if args.id:
            rows = [store.get_recommendation(conn, args.id)]
        else:
            listed = store.list_recommendations(conn, sorted(s.value for s in OPEN))
            rows = [r for r in listed if r.priority is Priority.CRITICAL]
    with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
        github = _github(client)
        for row in rows:
            opened = open_pull_request(github, view(row, str), args.path, args.base)
            verb = "opened" if opened.created else "already open"
            print(f"recommendation {row.id}: pull request #{opened.number} {verb} {opened.url}")
    if not rows:
        print("no open CRITICAL recommendation to propose")
    return 0


def _sync(args: argparse.Namespace) -> int:
    now = parse_now(args.now)
    with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
        github = _github(client)
        with db.connect(settings.database().dsn, autocommit=True) as conn:
            approvals = sync_pull_requests(conn, github, now)
    for a in approvals:
        print(
            f"recommendation {a.recommendation_id}: APPROVED by {a.by} (pull request #{a.number})"
        )
    print(f"sync-prs: {len(approvals)} merged pull requests recorded as approvals")
    return 0
