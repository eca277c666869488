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
    "requirements.txt",
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
    assert collect["on"]["schedule"] == [{"cron": "*/15 * * * *"}]
    assert "workflow_dispatch" in collect["on"]
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
            writes = {k for k, v in permissions.items() if v == "write"}
            allowed = {
                ("preview", "preview"): {"pull-requests"},
                ("collect", "collect"): {"issues"},  # notify's recommendation issues
                ("collect", "propose"): {"contents", "pull-requests"},  # the upgrade PRs
            }.get((name, job_name), set())
            assert writes == allowed, where


def test_concurrency_never_runs_two_deploys_or_two_collections() -> None:
    pulumi_groups = {name: load(name)["concurrency"] for name in ("deploy", "rollback", "drift")}
    groups = {c["group"] for c in pulumi_groups.values()}
    assert len(groups) == 1, "deploy, rollback and drift share one group"
    assert all(c["cancel-in-progress"] is False for c in pulumi_groups.values())
    collect = load("collect")["concurrency"]
    assert collect == {"group": "collect", "cancel-in-progress": False}


def test_every_action_is_pinned() -> None:
    pinned = re.compile(r"^[\w.-]+/[\w./-]+@([0-9a-f]{40}|v\d+\.\d+\.\d+)$")
    for name, workflow in all_workflows().items():
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                if "uses" in step:
                    assert pinned.match(step["uses"]), f"{name}: {step['uses']} is not pinned"


def test_python_dependencies_are_installed_explicitly() -> None:
    for name, workflow in all_workflows().items():
        for job in workflow["jobs"].values():
            runs = " ".join(s.get("run", "") for s in job["steps"])
            if "python -m jobs" in runs or _pulumi_steps(job):
                assert "pip install -r requirements.txt" in runs, name


def test_secrets_reach_only_the_jobs_that_need_them() -> None:
    collect = load("collect")["jobs"]["collect"]
    # The jobs run as their own least-privilege database role.
    assert collect["env"]["DATABASE_URL"] == "${{ secrets.JOBS_DATABASE_URL }}"
    for name in ("preview", "deploy", "rollback", "drift"):
        for job in load(name)["jobs"].values():
            env = job.get("env", {})
            if _pulumi_steps(job):
                assert env["DATABASE_URL"] == "${{ secrets.DATABASE_URL }}", name
            assert "VERCEL_TOKEN" not in env, name


def test_the_collection_summary_shows_the_run_and_the_open_recommendations() -> None:
    steps = load("collect")["jobs"]["collect"]["steps"]
    runs = [s.get("run", "") for s in steps]
    collect = next(s for s in steps if s.get("id") == "collect")
    # Both append their Markdown to $GITHUB_STEP_SUMMARY themselves: the run summary, then
    # the report's (states, breaches, the open recommendations).
    assert collect["run"] == "python -m jobs collect"
    assert collect["continue-on-error"] is True
    assert runs.index("python -m jobs recommend") < runs.index(
        "python -m jobs report --out report.html"
    )
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["with"]["path"] == "report.html"
    last = steps[-1]
    assert last["if"] == "steps.collect.outcome == 'failure'" and "exit 1" in last["run"]
    # Notify runs even after a failed step, and its failure never fails the collection.
    notify = next(s for s in steps if s.get("run") == "python -m jobs notify")
    assert notify["if"] == "${{ !cancelled() }}" and notify["continue-on-error"] is True
    assert runs.index("python -m jobs recommend") < runs.index("python -m jobs notify")
    # A merged upgrade is recorded as approved before recommend marks it IMPLEMENTED.
    assert runs.index("python -m jobs recommendations sync-prs") < runs.index(
        "python -m jobs recommend"
    )
    propose = load("collect")["jobs"]["propose"]
    assert propose["if"] == "${{ !cancelled() && vars.PROPOSE_CRITICAL == 'true' }}"
    assert propose["permissions"] == {"contents": "write", "pull-requests": "write"}


def test_a_scheduled_status_check_notifies_then_fails_when_unhealthy() -> None:
    workflow = load("status")
    assert "schedule" in workflow["on"]
    steps = workflow["jobs"]["status"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert runs.index("python -m jobs notify") < runs.index("python -m jobs status")
    status = steps[runs.index("python -m jobs status")]
    assert "continue-on-error" not in status  # its exit 1 fails the run
    notify = steps[runs.index("python -m jobs notify")]
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
