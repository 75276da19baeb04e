"""`xinyi nlu …`: train, serve and evaluate the Rasa NLU model (mounted by bot/cli.py)."""
from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from pathlib import Path
from typing import Iterator, Optional

import typer

from nlu import crisis_eval, intent_eval, rasa_project
from nlu.rasa_client import RasaClient, canonical_entity

app = typer.Typer(help="Rasa NLU: train, serve, evaluate.", no_args_is_help=True)

EVAL_DIR = rasa_project.ROOT / "nlu" / "eval"
DEV_SET = EVAL_DIR / "intents_dev.yml"
HELDOUT_SET = EVAL_DIR / "intents_heldout.yml"


def _say(msg: str) -> None:
    typer.echo(msg, err=True)


def _train() -> tuple[Path, Path, bool, float]:
    venv = rasa_project.venv_path()
    cached = rasa_project.model_path().is_file()
    t0 = time.monotonic()
    if not cached:
        _say("training the Rasa NLU model (sources changed or no model yet)…")
    model = rasa_project.ensure_trained(venv)
    return venv, model, cached, time.monotonic() - t0


@app.command()
def train() -> None:
    """Build the Rasa venv if needed and train the model unless it is cached."""
    _, model, cached, secs = _train()
    typer.echo(f"{model}  ({'cached' if cached else f'trained in {secs:.1f} s'})")


@app.command()
def serve(port: int = typer.Option(5005, help="port to listen on"),
          host: str = typer.Option("127.0.0.1", help="interface to bind")) -> None:
    """Train if needed, then run the Rasa NLU server (blocks until interrupted)."""
    venv, model, _, _ = _train()
    proc = rasa_project.start_server(venv, model, host=host, port=port)
    url = f"http://{host}:{port}"

    def _stop(signum, frame):  # SIGTERM (and SIGINT even when inherited as ignored) stop the server
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        secs = rasa_project.wait_ready(url, timeout_s=180, proc=proc)
        typer.echo(f"Rasa NLU ready at {url} after {secs:.1f} s (model {model.name}); Ctrl-C stops it")
        proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        rasa_project.stop_server(proc)


@contextlib.contextmanager
def running_server(url: Optional[str]) -> Iterator[str]:
    """Yield the URL of a ready server: `url` if given and up, else a fresh one."""
    if not url:
        _train()  # says whether it trains, before the server start hides it
    t0 = time.monotonic()
    with rasa_project.serving(url, timeout_s=5 if url else 180) as ready:
        if not url:
            _say(f"started Rasa on {ready}, ready after {time.monotonic() - t0:.1f} s")
        yield ready


async def _parse_all(url: str, texts: list[str], concurrency: int = 8):
    client = RasaClient(url, timeout_s=10.0, backoff_s=0.0)
    sem = asyncio.Semaphore(concurrency)

    async def one(t: str):
        async with sem:
            it = await client.parse(t)
            return (it.name, it.confidence, dict(it.entities)) if it else (None, 0.0, {})

    try:
        return await asyncio.gather(*(one(t) for t in texts))
    finally:
        await client.aclose()


def evaluate_file(url: str, path: Path) -> intent_eval.Report:
    examples = intent_eval.load_examples(path)
    preds = asyncio.run(_parse_all(url, [e.text for e in examples]))
    synonyms = intent_eval.load_synonyms(rasa_project.RASA_DIR / "data")

    def canon(entity: str, surface: str) -> str | None:
        return canonical_entity(entity, synonyms.get(surface, surface))

    from nlu.intent import INTENTS
    return intent_eval.evaluate(examples, preds, canon=canon, labels=INTENTS)


def run_intent_eval(url: Optional[str], sets: list[tuple[str, Path]], show_errors: bool,
                    json_out: Optional[Path]) -> dict:
    results = {}
    with running_server(url) as u:
        for title, path in sets:
            r = evaluate_file(u, path)
            typer.echo(intent_eval.format_report(f"{title} ({path.name})", r, show_errors))
            typer.echo("")
            results[title] = r.to_dict()
    if json_out:
        json_out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return results


@app.command("eval")
def eval_cmd(
    url: Optional[str] = typer.Option(None, "--url", envvar="RASA_URL",
                                      help="a running Rasa server (default: start one)"),
    dev: bool = typer.Option(True, help="report the dev set (the one tuned on)"),
    heldout: bool = typer.Option(True, help="report the held-out set (never tuned on)"),
    crisis: bool = typer.Option(True, help="also run the crisis evaluation (nlu.crisis_eval)"),
    errors: bool = typer.Option(True, help="list misclassified examples"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="also write metrics as JSON"),
) -> None:
    """Intent metrics (per-intent P/R/F1, macro-F1, confusion, out_of_scope recall) + crisis eval."""
    sets = [(n, p) for n, p, on in (("dev", DEV_SET, dev), ("held-out", HELDOUT_SET, heldout)) if on]
    rc = 0
    if sets:
        run_intent_eval(url, sets, errors, json_out)
    if crisis:
        rc = int(crisis_eval.main([]) or 0)
    raise typer.Exit(rc)


def main() -> None:  # `python -m nlu.cli`
    app()


if __name__ == "__main__":
    main()
