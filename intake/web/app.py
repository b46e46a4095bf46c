"""The application factory: routes, middleware, templates and one SQLite connection per worker thread.

Starlette runs the request handlers on the event loop; database work goes to a small pool of our own threads,
each with its own :class:`~intake.store.Store` opened once (sqlite3 connections are bound to their thread).
Our own pool, not Starlette's: its few threads are all started, and their connections opened, when the app is
created (opening a Store checks the migrations under the write lock, and would wait for the daemon's
transaction), and then live as long as the app. Reads run outside transactions (WAL: they never block the
daemon, nor it them); each change is one short ``BEGIN IMMEDIATE`` transaction.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from intake.config import Config
from intake.store import Store, utcnow
from intake.web import views
from intake.web.auth import LoginRateLimit
from intake.web.secret import session_secret, weakness
from intake.web.security import SecurityHeaders

log = logging.getLogger("intake.web")
HERE = Path(__file__).parent
MAX_BODY_BYTES = 256 * 1024
DB_THREADS = 4  # a few staff at once; every query is short
EXPORT_THREADS = 1  # files (the Word list of participants) are built here, one at a time, never in a DB thread
T = TypeVar("T")


class ThreadStores:
    """One Store per thread, opened on first use, all on the same file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def get(self) -> Store:
        store = getattr(self._local, "store", None)
        if store is None:
            store = Store(self.path)
            self._local.store = store
        return store


class ReviewApp:
    """What the handlers share: config, clock, stores, templates, the login rate limit."""

    def __init__(self, cfg: Config, *, now: Callable[[], datetime], secret: str) -> None:
        self.cfg = cfg
        self.now = now
        self.secret = secret
        self.stores = ThreadStores(cfg.store.path)
        self.executor = ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="intake-web-db")
        self.exporter = ThreadPoolExecutor(max_workers=EXPORT_THREADS, thread_name_prefix="intake-web-export")
        self._open_every_thread_store()
        self.rate_limit = LoginRateLimit(cfg.review.login_max_attempts,
                                         timedelta(seconds=cfg.review.login_window_seconds), now)
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(HERE / "templates")),
            autoescape=True,  # every page: mail content is untrusted HTML
            undefined=jinja2.StrictUndefined,
            trim_blocks=True, lstrip_blocks=True,
        )

    def _open_every_thread_store(self) -> None:
        """Start every database thread now and open its Store, so none is opened while serving: opening
        one checks the migrations under the write lock and would wait for whatever the daemon is writing."""
        barrier = threading.Barrier(DB_THREADS)

        def open_store() -> None:
            self.stores.get()
            barrier.wait(timeout=120)  # hold this thread until all are started: each task gets its own

        for future in [self.executor.submit(open_store) for _ in range(DB_THREADS)]:
            future.result()

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(store, *args, **kwargs)`` in a database thread with that thread's Store."""
        def call() -> T:
            return fn(self.stores.get(), *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self.executor, call)

    async def build(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` (no database) in the export thread: building a long file holds neither the event
        loop nor a database thread."""
        return await asyncio.get_running_loop().run_in_executor(self.exporter, fn, *args)


def server_options(cfg: Config) -> dict[str, Any]:
    """The uvicorn options ``intake serve`` runs with (the tests' live server uses the same).

    X-Forwarded-For is believed only from the proxies listed in ``review.trusted_proxies`` (none by default):
    otherwise anyone who can reach the port, or any program on this machine, could choose the client address
    the login rate limit counts by. uvicorn takes the right-most address in the header that is not a trusted
    proxy; the proxy must set the header itself (nginx: ``proxy_set_header X-Forwarded-For $remote_addr``).
    """
    trusted = list(cfg.review.trusted_proxies)
    options: dict[str, Any] = {"proxy_headers": bool(trusted), "server_header": False}
    if trusted:
        options["forwarded_allow_ips"] = trusted
    return options


def create_app(cfg: Config, *, now: Callable[[], datetime] = utcnow, secret: str | None = None) -> Starlette:
    """The review web application for ``cfg`` (served by ``intake serve``; tests call it directly).

    ``secret`` signs the cookies; by default the one of :func:`intake.web.secret.session_secret` (the
    environment, else the secret kept beside the database). Raises ``ConfigError`` for a weak one.

    Example: ``uvicorn.run(create_app(load_config("config.toml")), host="127.0.0.1", port=8025)``
    """
    if secret is not None and weakness(secret):
        raise ValueError(f"the session secret given is too weak: {weakness(secret)}")
    review = ReviewApp(cfg, now=now, secret=secret if secret is not None else session_secret(cfg))
    routes = [
        Route("/login", views.login_page, methods=["GET"]),
        Route("/login", views.login_submit, methods=["POST"]),
        Route("/logout", views.logout, methods=["POST"]),
        Route("/", views.queue, methods=["GET"]),
        Route("/search", views.search, methods=["GET"]),
        Route("/messages/{message_id:int}", views.message_page, methods=["GET"]),
        Route("/messages/{message_id:int}/attachments/{index:int}", views.attachment, methods=["GET"]),
        Route("/messages/{message_id:int}/raw", views.raw_message, methods=["GET"]),
        Route("/messages/{message_id:int}/scans/{attachment_id:int}/{page:int}.png", views.scanned_page,
              methods=["GET"]),
        Route("/messages/{message_id:int}/people", views.message_add_person, methods=["POST"]),
        Route("/messages/{message_id:int}/organization", views.message_assign_org, methods=["POST"]),
        Route("/messages/{message_id:int}/resolve", views.message_resolve, methods=["POST"]),
        Route("/messages/{message_id:int}/remember-sender", views.message_remember_sender, methods=["POST"]),
        Route("/people/{rep_id:int}", views.person_update, methods=["POST"]),
        Route("/people/{rep_id:int}/withdraw", views.person_withdraw, methods=["POST"]),
        Route("/flags/{flag_id:int}", views.flag_page, methods=["GET"]),
        Route("/flags/{flag_id:int}/resolve", views.flag_resolve, methods=["POST"]),
        Route("/organizations", views.organizations_page, methods=["GET"]),
        Route("/organizations/{org_id:int}", views.organization_page, methods=["GET"]),
        Route("/organizations/{org_id:int}", views.organization_update, methods=["POST"]),
        Route("/organizations/{org_id:int}/people", views.organization_add_person, methods=["POST"]),
        Route("/organizations/{org_id:int}/merge", views.organization_merge, methods=["POST"]),
        Route("/participants", views.participants_page, methods=["GET"]),
        Route("/participants.{fmt:str}", views.participants_export, methods=["GET"]),
        Route("/users", views.users_page, methods=["GET"]),
        Route("/users/status", views.users_status, methods=["POST"]),
        Route("/users/password", views.users_password, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=review.secret, session_cookie="intake_session",
                   max_age=int(cfg.review.session_hours * 3600), same_site="strict",
                   https_only=cfg.review.secure_cookie),
        Middleware(views.RequireLogin, review=review),
    ]
    # forms are small; a bigger body is refused before it is read into memory
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=views.EXCEPTION_HANDLERS,
                    max_body_size=MAX_BODY_BYTES)
    app.state.review = review
    return app
