"""A client of Cloche's HTTP API, standard library only.

>>> from cloche_client import Client
>>> c = Client("http://127.0.0.1:8080", "ck_...")
>>> c.notify("message:internal", "Invoice 42 paid", user_ids=[1])  # doctest: +SKIP

``cloche_client.sync`` keeps Cloche's directory in step with the host's;
``cloche_client.endi`` adapts the client to enDI's notification module.
"""

from .client import Attachment, Client, context_of
from .directory import sync
from .errors import (
    BadRequest,
    ClocheError,
    Conflict,
    ConnectionFailed,
    Forbidden,
    InvalidField,
    NotFound,
    RateLimited,
    ServerError,
    TooLarge,
    Unauthorized,
    Unavailable,
)
from .tokens import mint_user_token

__version__ = "0.1.0"

__all__ = [
    "Attachment",
    "BadRequest",
    "Client",
    "ClocheError",
    "Conflict",
    "ConnectionFailed",
    "Forbidden",
    "InvalidField",
    "NotFound",
    "RateLimited",
    "ServerError",
    "TooLarge",
    "Unauthorized",
    "Unavailable",
    "context_of",
    "mint_user_token",
    "sync",
]
