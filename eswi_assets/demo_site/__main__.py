"""`python -m eswi_assets.demo_site build|serve`: generate the demo site and serve it locally."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from pathlib import Path

from eswi_assets.demo_site.faults import Faults
from eswi_assets.demo_site.generate import SiteManifest, build_site
from eswi_assets.demo_site.server import serve


def _ensure_built(args: argparse.Namespace) -> SiteManifest:
    if args.rebuild or not (args.dir / "manifest.json").exists():
        return build_site(args.dir, n_pages=args.pages, seed=args.seed)
    return SiteManifest.load(args.dir)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eswi_assets.demo_site", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("build", "generate the site"), ("serve", "build if needed, serve")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--dir", type=Path, default=Path(".eswi/demo_site"))
        sub.add_argument("--pages", type=int, default=240)
        sub.add_argument("--seed", type=int, default=7)
        sub.add_argument("--rebuild", action="store_true", help="regenerate even if built")
    commands.choices["serve"].add_argument("--host", default="127.0.0.1")
    commands.choices["serve"].add_argument("--port", type=int, default=8765)
    commands.choices["serve"].add_argument(
        "--fault-rate", type=float, default=0.0, help="share of requests failed (5xx/429/reset)"
    )
    commands.choices["serve"].add_argument("--fault-seed", type=int, default=0)
    args = parser.parse_args(argv)

    if args.command == "build":
        args.rebuild = True
    manifest = _ensure_built(args)
    print(f"{len(manifest.pages)} article pages in {args.dir}", flush=True)
    if args.command == "serve":
        # Stop cleanly on Ctrl-C and on a process manager's SIGTERM, even when started in the
        # background (where a shell leaves SIGINT ignored).
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, signal.default_int_handler)
        faults = Faults(args.fault_rate, seed=args.fault_seed) if args.fault_rate else None
        with serve(args.dir, host=args.host, port=args.port, faults=faults) as site:
            print(f"serving {site.base_url}/ (Ctrl-C stops)", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                threading.Event().wait()


if __name__ == "__main__":
    main()
