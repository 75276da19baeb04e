"""The `xinyi` command."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import typer

from bot.settings import ROOT

app = typer.Typer(help="Xinyi (心驿): the union's mental-health chatbot and hotline triage assistant.",
                  no_args_is_help=True, add_completion=False)
flows_app = typer.Typer(help="Check the content editors' flows.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff console accounts.", no_args_is_help=True)
app.add_typer(flows_app, name="flows")
app.add_typer(staff_app, name="staff")
try:
    from nlu.cli import app as nlu_app
    app.add_typer(nlu_app, name="nlu", help="Train, serve and evaluate the Rasa NLU model.")
except ImportError:  # pragma: no cover - only while nlu/cli.py is being written
    pass


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


@app.command()
def run(host: str = typer.Option(None, help="listen address (default 127.0.0.1)"),
        port: int = typer.Option(None, help="web port (default 8000)")) -> None:
    """Run Xinyi locally: embedded Redis, Rasa, web chat and staff console."""
    _logging()
    from bot.launcher import run as launch
    launch(host, port)


@app.command()
def serve() -> None:
    """Serve the web app only (production: REDIS_URL and RASA_URL must be set)."""
    _logging()
    import uvicorn

    from bot.app import create_app
    from bot.runtime import build_runtime
    from bot.settings import load_settings
    settings = load_settings()
    if not settings.redis_url:
        raise SystemExit("xinyi serve needs REDIS_URL (use `xinyi run` for the embedded Redis)")
    uvicorn.run(create_app(build_runtime(settings, settings.redis_url, settings.rasa_url)),
                host=settings.host, port=settings.port, log_level="warning")


@app.command()
def chat(as_user: str = typer.Option("", "--as", help="a name for this terminal user (default: your login)")) -> None:
    """Talk to Xinyi in the terminal, as an employee would."""
    from bot.channels.terminal import main as terminal_main
    terminal_main(as_user)


@app.command()
def assess(rasa_url: str = typer.Option(None, envvar="RASA_URL", help="fill `intent` from this Rasa server")) -> None:
    """Read messages (one per line) on stdin; write one JSON assessment per line on stdout."""
    from nlu.assess_jsonl import run as run_jsonl
    parse = None
    if rasa_url is None:
        runtime_file = ROOT / "var" / "runtime.json"
        if runtime_file.exists():
            rasa_url = json.loads(runtime_file.read_text()).get("rasa_url")
    if rasa_url:
        from nlu.rasa_client import RasaClient
        parse = RasaClient(rasa_url, timeout_s=2.0).parse_sync
    stdin = open(sys.stdin.fileno(), encoding="utf-8", errors="replace", closefd=False)
    run_jsonl(stdin, sys.stdout, parse=parse)


@flows_app.command("check")
def flows_check(folder: Path = typer.Argument(None, help="flows folder (default flows/content)")) -> None:
    """Check every flow file; errors as file:line:column; non-zero exit on errors."""
    from flows.loader import FlowLoadError, load_flows
    folder = folder or ROOT / "flows" / "content"
    try:
        flows = load_flows(folder)
    except FlowLoadError as exc:
        for err in exc.errors:
            typer.echo(str(err), err=True)
        typer.echo(f"{len(exc.errors)} error(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: {len(flows)} flows in {folder}")


@staff_app.command("add")
def staff_add(username: str, name: str = typer.Option("", help="display name"),
              role: str = typer.Option("staff", help="staff, supervisor or admin"),
              org: str = typer.Option("", help="organisation id (default: the default organisation)")) -> None:
    """Add a staff account; the password is generated and shown once."""
    import asyncio
    import secrets

    from redis.asyncio import Redis

    from escalation.orgs import Orgs
    from escalation.staff import StaffStore
    from bot.settings import load_settings
    settings = load_settings()
    url = settings.redis_url or json.loads((ROOT / "var" / "runtime.json").read_text())["redis_url"]
    password = secrets.token_urlsafe(12)

    async def go():
        redis = Redis.from_url(url)
        await StaffStore(redis).create(username, password, name or username, role,
                                       org or Orgs.load(settings.orgs_file).default)
        await redis.aclose()
    asyncio.run(go())
    typer.echo(f"created {username} ({role}); password (shown once): {password}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def test(ctx: typer.Context) -> None:
    """Run the whole test suite (flows check, then pytest; extra args go to pytest)."""
    flows_check(None)
    code = subprocess.call([sys.executable, "-m", "pytest", *ctx.args], cwd=ROOT)
    raise typer.Exit(code)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
