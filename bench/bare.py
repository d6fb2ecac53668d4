"""The ceiling: a bare Litestar endpoint, served by granian exactly as `desvirt serve` serves
Desvirt (same interface, same worker count), with no database, sessions or templates."""

from __future__ import annotations

import argparse

from litestar import Litestar, get


@get("/")
async def hello() -> dict[str, str]:
    return {"status": "ok"}


def create_app() -> Litestar:
    return Litestar(route_handlers=[hello], logging_config=None, openapi_config=None)


def main() -> None:
    from granian import Granian
    from granian.constants import Interfaces

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8351)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    Granian(
        "bench.bare:create_app",
        factory=True,
        address="127.0.0.1",
        port=args.port,
        workers=args.workers,
        interface=Interfaces.ASGI,
    ).serve()


if __name__ == "__main__":
    main()
