"""The HTTP service (``icpkit serve``): score leads and accounts over HTTP, show the ICP and try a lead in a page.

Needs the ``serve`` extra: ``pip install 'icpkit[serve]'`` (FastAPI, uvicorn, orjson).
"""

from icpkit.api.app import StaticSource, create_app
from icpkit.api.auth import ENV_VAR, Tokens, is_loopback
from icpkit.api.gateway import Gateway
from icpkit.api.limits import Limits, RequestError
from icpkit.api.live import FileSource, LiveSpec, StoreSource
from icpkit.api.logs import JsonLog
from icpkit.api.served import Served, serve_spec

__all__ = [
    "ENV_VAR",
    "FileSource",
    "Gateway",
    "JsonLog",
    "Limits",
    "LiveSpec",
    "RequestError",
    "Served",
    "StaticSource",
    "StoreSource",
    "Tokens",
    "create_app",
    "is_loopback",
    "serve_spec",
]
