"""The files in deploy/ start Desvirt the way they say they do.

No container engine runs on the test machine, so the image is not built here. What each
file would run is run instead, as far as this machine allows: the image's command with the
image's environment and its healthcheck, the compose file's references and flags, and the
systemd unit through `systemd-analyze verify`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ops.conftest import (
    AppProcess,
    desvirt_command,
    free_port,
    stop,
    wait_until_serving,
)

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
IMAGE_HOME = "/var/lib/desvirt"


def test_the_image_copies_what_exists_and_runs_as_an_unprivileged_user() -> None:
    instructions = dockerfile()
    for keyword, argument in instructions:
        if keyword == "COPY" and not argument.startswith("--from"):
            *sources, _target = argument.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    [user] = [argument for keyword, argument in instructions if keyword == "USER"]
    assert user.split(":")[0] not in ("0", "root")
    [exposed] = [argument for keyword, argument in instructions if keyword == "EXPOSE"]
    command = image_command(instructions)
    assert command[command.index("--port") + 1] == exposed


def test_the_image_command_serves_and_its_healthcheck_tells_up_from_down(
    tmp_path: Path,
) -> None:
    instructions = dockerfile()
    command = image_command(instructions)
    assert command[0] == "serve"
    port = free_port()
    arguments = list(command)
    for flag, value in (("--host", "127.0.0.1"), ("--port", str(port)), ("--workers", "1")):
        arguments[arguments.index(flag) + 1] = value
    environment = {
        name: value.replace(IMAGE_HOME, str(tmp_path))
        for name, value in image_environment(instructions).items()
        if name != "PATH"
    }
    environment.update(
        DESVIRT_PASSWORD_HASH_PROFILE="cheapest",
        DESVIRT_LOG_LEVEL="WARNING",
        PATH=str(Path(sys.executable).parent) + ":/usr/bin:/bin",
    )
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            desvirt_command(*arguments),
            cwd=tmp_path,  # the image's WORKDIR, a volume
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    app = AppProcess(f"http://127.0.0.1:{port}", process, log_path)
    healthcheck = healthcheck_command(instructions, port)
    try:
        wait_until_serving(app)
        assert run(healthcheck).returncode == 0, app.log()
        # Without DESVIRT_SECRET_KEY or a PostgreSQL URL, both are kept on the volume.
        assert (tmp_path / "desvirt.db").exists()
        assert (tmp_path / "var" / "secret_key").exists()
    finally:
        stop(process)
    assert run(healthcheck).returncode != 0


def test_compose_runs_the_image_on_postgresql_behind_caddy() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "app", "caddy"}
    app = services["app"]
    assert (DEPLOY / app["build"]["context"] / app["build"]["dockerfile"]).resolve() == (
        DEPLOY / "Dockerfile"
    )
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["environment"]["DESVIRT_DATABASE_URL"].startswith("postgresql://")
    assert serve_flags(app["command"]) <= cli_flags("serve")
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"caddy"}, "only Caddy should be reachable from outside"
    assert services["caddy"]["environment"]["DESVIRT_UPSTREAM"] == "app:8000"
    for volume in services["caddy"]["volumes"]:
        source = volume.split(":")[0]
        if source.startswith("./"):
            assert (DEPLOY / source).exists(), volume
    example = (DEPLOY / "desvirt.env.example").read_text()
    used = set(re.findall(r"\$\{([A-Z_]+)", (DEPLOY / "compose.yaml").read_text()))
    for name in used:
        assert re.search(rf"^#?{name}=", example, re.MULTILINE), f"{name} not in the example"


def test_the_systemd_unit_is_valid_and_runs_commands_the_cli_has(tmp_path: Path) -> None:
    unit = (DEPLOY / "desvirt.service").read_text()
    for line in unit.splitlines():
        if line.startswith(("ExecStart=", "ExecStartPre=")):
            _, subcommand, *flags = line.split("=", 1)[1].split()
            assert serve_flags(flags) <= cli_flags(subcommand), line
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    desvirt = Path(sys.executable).parent / "desvirt"
    local = (
        unit.replace("/opt/desvirt/.venv/bin/desvirt", str(desvirt))
        .replace("/etc/desvirt/desvirt.env", str(DEPLOY / "desvirt.env.example"))
        .replace("file:///opt/desvirt", f"file://{ROOT}")
    )
    (tmp_path / "desvirt.service").write_text(local)
    verified = run([analyze, "verify", str(tmp_path / "desvirt.service")])
    complaints = (verified.stdout + verified.stderr).strip()
    assert verified.returncode == 0 and not complaints, complaints


def dockerfile() -> list[tuple[str, str]]:
    """(KEYWORD, argument) for each instruction, continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text()
    joined = re.sub(r"\\\n\s*", " ", text)
    instructions = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, argument = line.partition(" ")
            instructions.append((keyword.upper(), argument.strip()))
    return instructions


def image_command(instructions: list[tuple[str, str]]) -> list[str]:
    [entrypoint] = [json.loads(a) for k, a in instructions if k == "ENTRYPOINT"]
    [command] = [json.loads(a) for k, a in instructions if k == "CMD"]
    assert entrypoint == ["desvirt"]
    return list(command)


def image_environment(instructions: list[tuple[str, str]]) -> dict[str, str]:
    """The final stage's ENV, as the container sees it."""
    final = max(index for index, (k, _) in enumerate(instructions) if k == "FROM")
    environment: dict[str, str] = {}
    for keyword, argument in instructions[final:]:
        if keyword == "ENV":
            environment.update(re.findall(r"(\w+)=(\S+)", argument))
    return environment


def healthcheck_command(instructions: list[tuple[str, str]], port: int) -> list[str]:
    [healthcheck] = [a for k, a in instructions if k == "HEALTHCHECK"]
    command: list[str] = json.loads(healthcheck[healthcheck.index("CMD") + 3 :])
    assert command[0] == "python"
    return [sys.executable, *(word.replace(":8000/", f":{port}/") for word in command[1:])]


def serve_flags(arguments: list[str]) -> set[str]:
    return {word for word in arguments if word.startswith("--")}


def cli_flags(subcommand: str) -> set[str]:
    helped = run([sys.executable, "-m", "desvirt.cli", subcommand, "--help"])
    assert helped.returncode == 0, helped.stderr
    return set(re.findall(r"--[a-z][a-z-]*", helped.stdout))


def run(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, **options)
