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
roster_app = typer.Typer(help="The hotline on-duty roster (config/roster.yaml).", no_args_is_help=True)
app.add_typer(roster_app, name="roster")
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
                host=settings.host, port=settings.port, log_level="warning", access_log=False)  # openids in URLs


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
    from bot.services import SERVICES_FILE, check_services
    from bot.settings import Settings
    from escalation.orgs import Orgs
    from flows.loader import FlowLoadError, load_flows
    folder = folder or ROOT / "flows" / "content"
    errors: list[str] = []
    try:
        flows = load_flows(folder)
    except FlowLoadError as exc:
        flows, errors = {}, [str(e) for e in exc.errors]
    services, orgs_file = SERVICES_FILE, Settings.model_fields["orgs_file"].default
    if services.exists():   # the booking slots and service texts editors change beside the flows
        errors += check_services(services, set(Orgs.load(orgs_file).orgs))
    for err in errors:
        typer.echo(err, err=True)
    if errors:
        typer.echo(f"{len(errors)} error(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: {len(flows)} flows in {folder}; {services.name} checked")


@flows_app.command("test")
def flows_test() -> None:
    """Run the editors' conversation tests (flows/tests/*.yaml) through the real router."""
    code = subprocess.call([sys.executable, "-m", "pytest", "-q", "tests/test_flow_conversations.py"], cwd=ROOT)
    raise typer.Exit(code)


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


@roster_app.command("show")
def roster_show(at: str = typer.Option(None, "--at", help="time, e.g. '2026-10-01 21:30' (Asia/Shanghai); default now"),
                org: str = typer.Option(None, "--org", help="one organisation id (default: every organisation)"),
                roster_file: Path = typer.Option(None, "--roster", help="roster YAML (default config/roster.yaml)"),
                orgs_file: Path = typer.Option(None, "--orgs", help="organisations YAML")) -> None:
    """Say who is on duty (on-duty, backup, supervisors) and where each organisation's cases go."""
    from escalation.orgs import Orgs
    from escalation.roster import Roster, format_roster
    orgs = Orgs.load(orgs_file or ROOT / "config" / "organisations.yaml")
    roster = Roster.load(roster_file or ROOT / "config" / "roster.yaml", orgs)
    try:
        when = roster.parse_time(at)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--at") from None
    if org and org not in orgs.orgs:
        raise typer.BadParameter(f"unknown organisation `{org}` (known: {', '.join(orgs.orgs)})", param_hint="--org")
    typer.echo(format_roster(roster, when, org))


wechat_app = typer.Typer(help="The WeChat official account (公众号).", no_args_is_help=True)
wechat_menu_app = typer.Typer(help="The account menu (config/wechat_menu.yaml).", no_args_is_help=True)
telegram_app = typer.Typer(help="The Telegram bot.", no_args_is_help=True)
app.add_typer(wechat_app, name="wechat")
wechat_app.add_typer(wechat_menu_app, name="menu")
app.add_typer(telegram_app, name="telegram")


def _channel_runtime():
    """Settings and a runtime on the configured Redis, or the one a running `xinyi run` uses."""
    from bot.runtime import build_runtime
    from bot.settings import load_settings
    settings = load_settings()
    url = settings.redis_url
    runtime_file = ROOT / "var" / "runtime.json"
    if not url and runtime_file.exists():
        url = json.loads(runtime_file.read_text()).get("redis_url")
    if not url:
        raise SystemExit("no Redis: set REDIS_URL or start `xinyi run` first")
    return settings, build_runtime(settings, url, settings.rasa_url)


@wechat_menu_app.command("show")
def wechat_menu_show(file: Path = typer.Option(None, help="menu YAML (default config/wechat_menu.yaml)")) -> None:
    """Check the menu YAML and print the JSON WeChat would get."""
    from bot.channels.wechat_menu import MenuError, load_menu
    from flows.loader import load_flows
    try:
        menu = load_menu(file or ROOT / "config" / "wechat_menu.yaml", set(load_flows(ROOT / "flows" / "content")))
    except MenuError as exc:
        for err in exc.errors:
            typer.echo(err, err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(menu.wechat_json, ensure_ascii=False, indent=2))


@wechat_menu_app.command("push")
def wechat_menu_push(file: Path = typer.Option(None, help="menu YAML (default config/wechat_menu.yaml)")) -> None:
    """Publish the menu to the official account (needs XINYI_WECHAT_APPID and XINYI_WECHAT_SECRET)."""
    import asyncio

    from bot.channels.wechat_api import WeChatAPI, WeChatAPIError
    from bot.channels.wechat_menu import MenuError, load_menu
    _logging()
    settings, runtime = _channel_runtime()
    if not (settings.wechat_appid and settings.wechat_secret):
        raise SystemExit("set XINYI_WECHAT_APPID and XINYI_WECHAT_SECRET")
    try:
        menu = load_menu(file or settings.wechat_menu_file, set(runtime.flows.engine.flows))
    except MenuError as exc:
        raise SystemExit("menu not pushed:\n  " + "\n  ".join(exc.errors))
    api = WeChatAPI(settings.wechat_appid, settings.wechat_secret.get_secret_value(), runtime.redis_url,
                    settings.wechat_api_base)

    async def go():
        try:
            await api.create_menu(menu.wechat_json)
        finally:
            api.close()
            await runtime.close()
    try:
        asyncio.run(go())
    except WeChatAPIError as exc:
        raise SystemExit(f"WeChat refused the menu: errcode {exc.errcode} {exc.errmsg}")
    typer.echo(f"menu pushed: {len(menu.wechat_json['button'])} buttons, {len(menu.clicks)} click keys")


@telegram_app.command("poll")
def telegram_poll() -> None:
    """Development: fetch updates by long polling (removes the webhook) and deliver staff replies."""
    import asyncio

    from bot.channels.push import run_dispatchers
    from bot.channels.telegram import TelegramChannel
    _logging()
    settings, runtime = _channel_runtime()
    if not settings.telegram_token:
        raise SystemExit("set XINYI_TELEGRAM_TOKEN")

    async def go():
        channel = TelegramChannel(runtime)
        await channel.start()
        stop = asyncio.Event()
        typer.echo("polling Telegram; Ctrl-C to stop")
        try:
            await asyncio.gather(channel.poll(stop), run_dispatchers(runtime, [channel], stop))
        finally:
            stop.set()
            await channel.stop()
            await runtime.close()
    try:
        asyncio.run(go())
    except KeyboardInterrupt:
        pass


@telegram_app.command("set-webhook")
def telegram_set_webhook(url: str = typer.Argument(None, help="public HTTPS URL (default XINYI_PUBLIC_URL/telegram/webhook)")) -> None:
    """Point Telegram at this server's webhook, with the secret token."""
    import asyncio

    from bot.channels.telegram import WEBHOOK_PATH, TelegramChannel
    settings, runtime = _channel_runtime()
    if not (settings.telegram_token and settings.telegram_secret_token):
        raise SystemExit("set XINYI_TELEGRAM_TOKEN and XINYI_TELEGRAM_SECRET_TOKEN")
    url = url or settings.base_url.rstrip("/") + WEBHOOK_PATH
    if not url.startswith("https://"):
        raise SystemExit(f"Telegram needs an https:// URL, got {url}")

    async def go():
        channel = TelegramChannel(runtime)
        await channel.start()
        try:
            await channel.set_webhook(url)
        finally:
            await channel.stop()
            await runtime.close()
    asyncio.run(go())
    typer.echo(f"webhook set: {url}")


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
