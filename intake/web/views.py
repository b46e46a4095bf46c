"""Request handlers of the review page. Each reads its form through :func:`checked_form` (CSRF), runs its
database work in the thread pool, and answers with a page or a redirect (POST -> 303 -> GET)."""
from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from starlette.datastructures import URL
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from intake.digest import mail_note
from intake.store import Store, scanned_page_png, stored_attachments
from intake.web import actions, csrf, queries
from intake.web.auth import (
    MIN_PASSWORD_LENGTH,
    UserError,
    change_own_password,
    check_login,
    is_user,
    record_login,
    set_disabled,
    users,
)
from intake.web.mailview import attachment_bytes, view_message
from intake.web.sessions import end_session, session_user, start_session
from parsers.model import FLAG_CODES

if TYPE_CHECKING:
    from intake.web.app import ReviewApp

log = logging.getLogger("intake.web")
PUBLIC_PATHS = ("/login",)
PUBLIC_PREFIXES = ("/static/",)
ORG_STATES = ("invited", "replied", "registered", "declined", actions.MERGED)


def _review(request: Request) -> ReviewApp:
    return request.app.state.review  # type: ignore[no-any-return]


def _user(request: Request) -> str:
    return str(request.state.user)


def local_path(value: str | None, default: str = "/") -> str:
    """``value`` when it is a path on this site, else ``default`` (no open redirects)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


SESSION_KEY = "sid"  # the cookie's only proof of login: a random token whose hash is in web_sessions


class RequireLogin:
    """Every path but the login page and the stylesheet needs a session that is alive on the server (not
    logged out, not past its absolute expiry, its user neither disabled nor gone): checked on every request."""

    def __init__(self, app: ASGIApp, review: ReviewApp) -> None:
        self.app = app
        self.review = review

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        session: dict[str, Any] = scope.get("session", {})
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        token = session.get(SESSION_KEY)
        username = await self.review.db(session_user, token, now=self.review.now()) if token else None
        if username is not None:
            scope.setdefault("state", {})["user"] = username
            await self.app(scope, receive, send)
            return
        session.pop(SESSION_KEY, None)
        if scope["method"] in ("GET", "HEAD"):
            target = URL(scope=scope)
            nxt = target.path + (f"?{target.query}" if target.query else "")
            response: Response = RedirectResponse("/login?" + urlencode({"next": nxt}), status_code=303)
        else:
            response = PlainTextResponse("Log in first.", status_code=403)
        await response(scope, receive, send)


# --- rendering helpers --------------------------------------------------------------------------------------

def flash(request: Request, text: str, kind: str = "ok") -> None:
    request.session.setdefault("flash", []).append([kind, text])


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    review = _review(request)
    base = {
        "user": getattr(request.state, "user", None),
        "csrf_field": csrf.FIELD,
        "csrf_token": csrf.token(request.session),
        "flashes": request.session.pop("flash", []),
        "meeting": review.cfg.meeting,
        "path": request.url.path,
        "flag_codes": FLAG_CODES,
    }
    html = review.templates.get_template(name).render(**base, **context)
    return HTMLResponse(html, status_code=status_code)


async def checked_form(request: Request) -> dict[str, str]:
    """The submitted form as text fields, after the CSRF check (403 without this session's token)."""
    form = await request.form()
    csrf.check(request.session, form)
    return {k: v for k, v in form.items() if isinstance(v, str)}


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def pager(request: Request, page: queries.Page, param: str = "page", anchor: str = "") -> dict[str, Any]:
    """The page and links to the previous and next ones, keeping every other query parameter (filter, search,
    the other lists' pages on the search page). ``param`` names the page number; ``anchor`` is added to the
    links (``#people``) so a list lower on the page stays in view."""
    def link(number: int) -> str:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != param and v]
        if number > 1:
            params.append((param, str(number)))
        return request.url.path + (f"?{urlencode(params)}" if params else "") + (f"#{anchor}" if anchor else "")

    return {"page": page, "prev_url": link(page.number - 1) if page.number > 1 else None,
            "next_url": link(page.number + 1) if page.number < page.pages else None}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


# --- login --------------------------------------------------------------------------------------------------

async def login_page(request: Request) -> Response:
    review = _review(request)
    token = request.session.get(SESSION_KEY)
    if token and await review.db(session_user, token, now=review.now()):
        return redirect(local_path(request.query_params.get("next")))
    return render(request, "login.html", next=local_path(request.query_params.get("next")), error=None)


def client_address(request: Request) -> str:
    """The client's address as the server sees it: the peer, or what a proxy listed in
    ``review.trusted_proxies`` put in X-Forwarded-For (uvicorn does that; nobody else is believed)."""
    return request.client.host if request.client else "unknown"


def login_key(client: str, username: str) -> str:
    """What failed logins are counted by: the client address and the user name together, so failures from
    one address (an office behind one NAT, the proxy itself) never refuse anyone else's right password."""
    return f"login:{client}\n{username.casefold()}"


async def login_submit(request: Request) -> Response:
    review = _review(request)
    form = await checked_form(request)
    username = form.get("username", "").strip()[:200]
    password = form.get("password", "")
    nxt = local_path(form.get("next"))
    client = client_address(request)
    key = login_key(client, username)
    if review.rate_limit.blocked(key):
        known = await review.db(is_user, username)
        log.warning("login refused for %s from %s: too many failed attempts",
                    repr(username) if known else "an unknown user name", client)
        minutes = max(1, review.cfg.review.login_window_seconds // 60)
        return render(request, "login.html", 429, next=nxt,
                      error=f"Too many failed attempts. Wait {minutes} minutes, then try again.")
    outcome = await review.db(check_login, username, password) if username and password else "wrong"
    if outcome == "ok":
        review.rate_limit.succeeded(key)
        token = await review.db(start_session, username, now=review.now(), hours=review.cfg.review.session_hours,
                                client=client)
        request.session.clear()  # a new session at login: no fixation of an older one
        request.session[SESSION_KEY] = token
        await review.db(record_login, username, now=review.now())
        log.info("login: %s from %s", username, client)
        return redirect(nxt)
    if outcome == "disabled":  # the right password: no guess, so no rate-limit count; in the log all the same
        log.warning("login refused for disabled user %r from %s", username, client)
        await review.db(_log_failed_login, username, client, review, "disabled")
        return render(request, "login.html", 403, next=nxt,
                      error="This user is disabled. Ask a colleague to enable it on the Users page.")
    review.rate_limit.failed(key)
    known = await review.db(_log_failed_login, username, client, review)
    log.warning("failed login for %s from %s", repr(username) if known else "an unknown user name", client)
    return render(request, "login.html", 401, next=nxt, error="Wrong user name or password.")


def _log_failed_login(store: Store, username: str, client: str, review: ReviewApp, why: str = "wrong") -> bool:
    """Write the failed login in the audit log, so the secretariat sees guessing without reading server logs
    (the rate limit bounds how many entries one client can write). The name is written only when it is a
    user's: a name nobody has is often a password typed in the wrong box. Returns whether it was a user's."""
    known = is_user(store, username)
    who: dict[str, Any] = {"username": username} if known else {"unknown_user": True}
    with store.transaction():
        store.add_event("web", "user.login_failed", "users", None, now=review.now(),
                        detail={**who, "client": client, **({"reason": why} if why != "wrong" else {})})
    return known


async def logout(request: Request) -> Response:
    review = _review(request)
    await checked_form(request)
    username = await review.db(_end_session, request.session.get(SESSION_KEY), review)
    request.session.clear()
    if username:
        log.info("logout: %s", username)
    return redirect("/login")


def _end_session(store: Store, token: object, review: ReviewApp) -> str | None:
    """End the session on the server (a copy of the cookie dies with it) and say so in the audit log."""
    with store.transaction():
        username = end_session(store, token, now=review.now(), why="logout")
        if username:
            store.add_event(f"user:{username}", "user.logout", "users", None, now=review.now())
    return username


# --- queue and search ---------------------------------------------------------------------------------------

async def queue(request: Request) -> Response:
    review = _review(request)
    reason = request.query_params.get("reason") or None
    q = (request.query_params.get("q") or "").strip() or None

    def load(store: Store) -> dict[str, Any]:
        total = queries.open_flag_count(store, reason=reason, search=q)
        page = queries.Page.of(request.query_params.get("page"), review.cfg.review.page_size, total)
        return {"rows": queries.open_flag_queue(store, now=review.now(), reason=reason, search=q,
                                                limit=page.size, offset=page.offset),
                "reasons": queries.open_flag_reasons(store), "page": page}

    data = await review.db(load)
    paging = pager(request, data.pop("page"))
    return render(request, "queue.html", reason=reason, q=q or "", **data, **paging)


SEARCH_LISTS = ("people", "orgs", "messages")


async def search(request: Request) -> Response:
    """People, organisations and messages matching ``q``, each list paged on its own (``people_page``,
    ``orgs_page``, ``messages_page``); every link keeps the search and the other lists' pages."""
    review = _review(request)
    q = (request.query_params.get("q") or "").strip()
    size = review.cfg.review.page_size
    params = request.query_params

    def load(store: Store) -> dict[str, tuple[queries.Page, list[dict[str, Any]]]]:
        people = queries.Page.of(params.get("people_page"), size, queries.participant_count(store, search=q))
        orgs = queries.Page.of(params.get("orgs_page"), size, queries.organization_count(store, search=q))
        msgs = queries.Page.of(params.get("messages_page"), size, queries.message_count(store, q))
        return {
            "people": (people, queries.participants(store, search=q, limit=size, offset=people.offset)),
            "orgs": (orgs, queries.organizations(store, search=q, limit=size, offset=orgs.offset)),
            "messages": (msgs, queries.search_messages(store, q, limit=size, offset=msgs.offset)),
        }

    if not q:
        return render(request, "search.html", q=q, lists={})
    found = await review.db(load)
    lists = {name: {"rows": rows, **pager(request, page, f"{name}_page", name)}
             for name, (page, rows) in found.items()}
    return render(request, "search.html", q=q, lists=lists)


# --- a message ----------------------------------------------------------------------------------------------

def _message_page_data(store: Store, review: ReviewApp, message_id: int) -> dict[str, Any] | None:
    row = store.message(message_id)
    if row is None:
        return None
    raw = row.pop("raw")
    org = store.organization(row["organization_id"]) if row.get("organization_id") else None
    people = store.representatives(org["id"]) if org else []
    for p in people:
        p["history"] = queries.entity_history(store, "representatives", p["id"])
    flags = queries.message_flags(store, message_id)
    open_flags = [f for f in flags if f["status"] == "open"]
    ack_preview = ""
    once_approved = actions.delegation_once_approved(store, message_id) if row.get("held") else people
    if open_flags and once_approved:
        try:
            ack_preview = actions.acknowledgement_text(store, review.cfg, message_id)
        except Exception as exc:  # noqa: BLE001 - a preview must not hide the message
            ack_preview = f"(the acknowledgement cannot be previewed: {exc})"
    view = view_message(raw)
    read = {a["sha256"]: a for a in stored_attachments(store, message_id)}
    return {
        "message": row,
        "view": view,
        "read": read,  # what the parser read from each attachment, by sha256 (nothing for older messages)
        "org": org,
        "people": people,
        "once_approved": once_approved,  # who approving leaves registered (a held change included)
        "withdrawn": [r for r in (store.representatives(org["id"], include_withdrawn=True) if org else [])
                      if r["status"] != "registered"],
        "flags": flags,
        "open_flags": open_flags,
        "history": queries.message_history(store, message_id),
        "mails": [{**mail, "note": mail_note(store, review.cfg, mail, review.now())}
                  for mail in queries.queued_mail(store, message_id)],
        "answered": queries.answer_sent(store, message_id) if open_flags else None,
        "ack_preview": ack_preview,
        "clarification": actions.clarification_draft(store, review.cfg, message_id) if open_flags else "",
        "all_orgs": store.query("SELECT id, name FROM organizations WHERE state != ? ORDER BY name COLLATE NOCASE",
                                (actions.MERGED,)),
    }


async def message_page(request: Request) -> Response:
    review = _review(request)
    message_id = int(request.path_params["message_id"])
    data = await review.db(_message_page_data, review, message_id)
    if data is None:
        raise HTTPException(404, "There is no such message.")
    return render(request, "message.html", choices=actions.CHOICES, **data)


def _download(data: bytes, filename: str) -> Response:
    """Bytes as a download, never shown in the browser: whatever the sender declared, it is served as
    application/octet-stream with ``attachment`` disposition (and nosniff, from the security headers)."""
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename)
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
    return Response(data, media_type="application/octet-stream",
                    headers={"content-disposition": disposition, "content-security-policy": "sandbox"})


async def attachment(request: Request) -> Response:
    review = _review(request)
    message_id, index = int(request.path_params["message_id"]), int(request.path_params["index"])

    def load(store: Store) -> tuple[Any, bytes] | None:
        row = store.one("SELECT raw FROM messages WHERE id = ?", (message_id,))
        return attachment_bytes(row["raw"], index) if row else None

    found = await review.db(load)
    if found is None:
        raise HTTPException(404, "There is no such attachment.")
    info, data = found
    return _download(data, info.filename)


async def scanned_page(request: Request) -> Response:
    """The image of a scanned page as the OCR read it: a PNG the parser made (never the sender's bytes)."""
    review = _review(request)
    message_id = int(request.path_params["message_id"])
    attachment_id, page = int(request.path_params["attachment_id"]), int(request.path_params["page"])
    png = await review.db(lambda s: scanned_page_png(s, message_id, attachment_id, page))
    if png is None:
        raise HTTPException(404, "There is no such page.")
    return Response(png, media_type="image/png", headers={"content-security-policy": "sandbox"})


async def raw_message(request: Request) -> Response:
    review = _review(request)
    message_id = int(request.path_params["message_id"])
    raw = await review.db(lambda s: s.scalar("SELECT raw FROM messages WHERE id = ?", (message_id,)))
    if raw is None:
        raise HTTPException(404, "There is no such message.")
    return _download(bytes(raw), f"message-{message_id}.eml")


async def _act(request: Request, back: str, fn: Any, *args: Any, **kwargs: Any) -> Response:
    """Run an action; its result or refusal becomes the next page's notice."""
    try:
        result = await _review(request).db(fn, *args, **kwargs)
    except actions.ActionRefused as exc:
        flash(request, str(exc), "error")
    else:
        if isinstance(result, str):
            flash(request, result)
    return redirect(back)


async def message_add_person(request: Request) -> Response:
    review = _review(request)
    form = await checked_form(request)
    message_id = int(request.path_params["message_id"])
    org_id = await review.db(lambda s: s.scalar("SELECT organization_id FROM messages WHERE id = ?",
                                                 (message_id,)))
    if org_id is None:
        flash(request, "Say first which organisation this message belongs to.", "error")
        return redirect(f"/messages/{message_id}")

    def add(store: Store) -> str:
        actions.add_person(store, org_id, form, username=_user(request), now=review.now(), message_id=message_id)
        return f"Added {form.get('name', '').strip()}."

    return await _act(request, f"/messages/{message_id}#people", add)


async def message_assign_org(request: Request) -> Response:
    review = _review(request)
    form = await checked_form(request)
    message_id = int(request.path_params["message_id"])
    org_id = _int(form.get("organization_id"))
    if org_id is None:
        flash(request, "Choose an organisation.", "error")
        return redirect(f"/messages/{message_id}")
    return await _act(request, f"/messages/{message_id}", actions.assign_organization, message_id, org_id,
                      username=_user(request), now=review.now())


async def message_resolve(request: Request) -> Response:
    review = _review(request)
    form = await checked_form(request)
    message_id = int(request.path_params["message_id"])
    try:
        done = await review.db(actions.resolve_message, review.cfg, message_id, form.get("choice", ""),
                               username=_user(request), now=review.now(), text=form.get("text", ""),
                               note=form.get("note", ""))
    except actions.ActionRefused as exc:
        flash(request, str(exc), "error")
        return redirect(f"/messages/{message_id}#resolve")
    flash(request, f"Message {message_id}: {done}.")
    return redirect("/")


async def message_remember_sender(request: Request) -> Response:
    review = _review(request)
    await checked_form(request)
    message_id = int(request.path_params["message_id"])
    return await _act(request, f"/messages/{message_id}", actions.remember_sender, message_id,
                      username=_user(request), now=review.now())


# --- people -------------------------------------------------------------------------------------------------

async def person_update(request: Request) -> Response:
    review = _review(request)
    form = await checked_form(request)
    rep_id = int(request.path_params["rep_id"])
    back = local_path(form.get("back"))

    def update(store: Store) -> str:
        actions.update_person(store, rep_id, form, username=_user(request), now=review.now(),
                              message_id=_int(form.get("message_id")))
        return f"Saved {form.get('name', '').strip()}."

    return await _act(request, back, update)


async def person_withdraw(request: Request) -> Response:
    review = _review(request)
    form = await checked_form(request)
    rep_id = int(request.path_params["rep_id"])
    return await _act(request, local_path(form.get("back")), actions.withdraw_person, rep_id,
                      username=_user(request), now=review.now(), message_id=_int(form.get("message_id")))


# --- flags without a message --------------------------------------------------------------------------------

async def flag_page(request: Request) -> Response:
    review = _review(request)
    flag_id = int(request.path_params["flag_id"])

    def load(store: Store) -> dict[str, Any] | None:
        flag = store.one("SELECT * FROM flags WHERE id = ?", (flag_id,))
        if flag is None:
            return None
        flag["reason_text"] = FLAG_CODES.get(flag["reason"], "")
        org = store.organization(flag["organization_id"]) if flag["organization_id"] else None
        mail = store.one("SELECT id, kind, to_addr, subject, status, last_error, attempts FROM outbox WHERE id = ?",
                         (flag["outbox_id"],)) if flag["outbox_id"] else None
        return {"flag": flag, "org": org, "mail": mail,
                "history": queries.entity_history(store, "flags", flag_id)}

    data = await review.db(load)
    if data is None:
        raise HTTPException(404, "There is no such flag.")
    if data["flag"]["message_id"]:
        return redirect(f"/messages/{data['flag']['message_id']}")
    return render(request, "flag.html", **data)


async def flag_resolve(request: Request) -> Response:
    review = _review(request)
    form = await checked_form(request)
    flag_id = int(request.path_params["flag_id"])
    try:
        done = await review.db(actions.resolve_flag_alone, flag_id, form.get("choice", ""),
                               username=_user(request), now=review.now(), note=form.get("note", ""))
    except actions.ActionRefused as exc:
        flash(request, str(exc), "error")
        return redirect(f"/flags/{flag_id}")
    flash(request, f"Flag {flag_id}: {done}.")
    return redirect("/")


# --- organisations and participants -------------------------------------------------------------------------

async def organizations_page(request: Request) -> Response:
    review = _review(request)
    q = (request.query_params.get("q") or "").strip() or None
    state = request.query_params.get("state") or None
    if state not in ORG_STATES:
        state = None

    def load(store: Store) -> dict[str, Any]:
        total = queries.organization_count(store, search=q, state=state)
        page = queries.Page.of(request.query_params.get("page"), review.cfg.review.page_size, total)
        return {"page": page,
                "orgs": queries.organizations(store, search=q, state=state, limit=page.size, offset=page.offset),
                # below the first page of the whole list only
                "unassigned": queries.unassigned_messages(store) if not (q or state) and page.number == 1 else []}

    data = await review.db(load)
    paging = pager(request, data.pop("page"))
    return render(request, "organizations.html", q=q or "", state=state, states=ORG_STATES, **data, **paging)


async def organization_page(request: Request) -> Response:
    review = _review(request)
    org_id = int(request.path_params["org_id"])

    def load(store: Store) -> dict[str, Any] | None:
        org = store.organization(org_id)
        if org is None:
            return None
        people = store.representatives(org_id, include_withdrawn=True)
        return {"org": org, "people": [p for p in people if p["status"] == "registered"],
                "withdrawn": [p for p in people if p["status"] != "registered"],
                "messages": queries.organization_messages(store, org_id),
                "notices": queries.automatic_notices(store, org_id, review.cfg.own_addresses),
                "history": queries.organization_history(store, org_id),
                "merged_into": queries.merged_into(store, org_id) if org["state"] == actions.MERGED else None,
                "merge_choices": store.query("SELECT id, name, acronym FROM organizations WHERE id != ? AND state != ?"
                                             " ORDER BY name COLLATE NOCASE", (org_id, actions.MERGED))}

    data = await review.db(load)
    if data is None:
        raise HTTPException(404, "There is no such organisation.")
    return render(request, "organization.html", **data)


async def organization_add_person(request: Request) -> Response:
    review = _review(request)
    form = await checked_form(request)
    org_id = int(request.path_params["org_id"])

    def add(store: Store) -> str:
        actions.add_person(store, org_id, form, username=_user(request), now=review.now())
        return f"Added {form.get('name', '').strip()}."

    return await _act(request, f"/organizations/{org_id}", add)


async def organization_merge(request: Request) -> Response:
    """Merge the organisation chosen in the form into this one (form fields ``other_id``, ``confirm``)."""
    review = _review(request)
    form = await checked_form(request)
    org_id = int(request.path_params["org_id"])
    other_id = _int(form.get("other_id"))
    if other_id is None or form.get("confirm") != "yes":
        flash(request, "Choose the organisation to merge into this one, and tick the box to confirm.", "error")
        return redirect(f"/organizations/{org_id}#merge")
    return await _act(request, f"/organizations/{org_id}", actions.merge_organizations, org_id, other_id,
                      username=_user(request), now=review.now())


async def organization_update(request: Request) -> Response:
    review = _review(request)
    form = await checked_form(request)
    org_id = int(request.path_params["org_id"])
    return await _act(request, f"/organizations/{org_id}", actions.update_organization, org_id, form,
                      username=_user(request), now=review.now())


async def participants_page(request: Request) -> Response:
    review = _review(request)
    q = (request.query_params.get("q") or "").strip() or None

    def load(store: Store) -> tuple[queries.Page, list[dict[str, Any]]]:
        total = queries.participant_count(store, search=q)
        page = queries.Page.of(request.query_params.get("page"), review.cfg.review.page_size, total)
        return page, queries.participants(store, search=q, limit=page.size, offset=page.offset)

    page, rows = await review.db(load)
    return render(request, "participants.html", q=q or "", rows=rows, **pager(request, page))


EXPORTS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def export_people(store: Store, cfg: Any) -> list[Any]:
    """The registered people in list order (a database thread: one query)."""
    from intake.export import participants

    return participants(store, cfg.report.categories)


def export_file(people: list[Any], cfg: Any, fmt: str) -> bytes:
    """The list of participants in ``fmt``, made by ``intake.export`` exactly as ``intake export`` makes it.
    Needs no database: it runs in the export thread, never in a database thread."""
    from intake.export import csv_text, meeting_dates, write_docx, write_xlsx

    if fmt == "csv":
        return csv_text(people).encode("utf-8")
    out = io.BytesIO()
    m = cfg.meeting
    if fmt == "xlsx":
        write_xlsx(people, out, title=f"{m.short_name} list of participants")
    else:
        write_docx(people, out, meeting_name=m.name, meeting_place_dates=f"{m.venue}, {meeting_dates(m.start, m.end)}")
    return out.getvalue()


async def participants_export(request: Request) -> Response:
    """The whole list as CSV, Excel or Word. The people are read in a database thread (one query, well under
    a second for 12,000); the file is built in the app's export thread, so a long Word export never holds a
    database thread that the pages need."""
    review = _review(request)
    fmt = request.path_params["fmt"]
    if fmt not in EXPORTS:
        raise HTTPException(404, "Exports are csv, xlsx or docx.")
    people = await review.db(export_people, review.cfg)
    data = await review.build(export_file, people, review.cfg, fmt)

    def record(store: Store) -> None:
        with store.transaction():  # personal data left the system: say who took it
            store.add_event(actions.actor(_user(request)), "participants.exported", "representatives", None,
                            now=review.now(), detail={"format": fmt, "people": len(people)})

    await review.db(record)
    name = f"participants-{review.cfg.meeting.short_name.replace(' ', '-')}.{fmt}"
    return Response(data, media_type=EXPORTS[fmt],
                    headers={"content-disposition": f'attachment; filename="{name}"'})


# --- users --------------------------------------------------------------------------------------------------

async def users_page(request: Request) -> Response:
    review = _review(request)
    rows = await review.db(users)
    return render(request, "users.html", users=rows, min_length=MIN_PASSWORD_LENGTH)


async def users_status(request: Request) -> Response:
    """Disable or enable a user (form fields ``username`` and ``action``)."""
    review = _review(request)
    form = await checked_form(request)
    action = form.get("action", "")
    if action not in ("disable", "enable"):
        flash(request, "Choose disable or enable.", "error")
        return redirect("/users")
    try:
        done = await review.db(set_disabled, form.get("username", ""), action == "disable",
                               actor=actions.actor(_user(request)), now=review.now())
    except UserError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, done)
    return redirect("/users")


async def users_password(request: Request) -> Response:
    """Change one's own password; the old one is needed. Other browsers of the user are logged out."""
    review = _review(request)
    form = await checked_form(request)
    username = _user(request)
    key = f"password:{username.casefold()}"  # per user: a stolen session is one client, wherever it is
    if review.rate_limit.blocked(key):  # a stolen session must not become a password-guessing oracle
        flash(request, "Too many wrong passwords. Wait, then try again.", "error")
        return redirect("/users#password")
    try:
        await review.db(change_own_password, username, form.get("old_password", ""),
                        form.get("new_password", ""), form.get("new_password_again", ""),
                        now=review.now(), keep_session=request.session.get(SESSION_KEY))
    except UserError as exc:
        if "current password is wrong" in str(exc):
            review.rate_limit.failed(key)
        flash(request, str(exc), "error")
        return redirect("/users#password")
    flash(request, "Your password is changed. Other browsers where you were logged in must log in again.")
    return redirect("/users")


# --- errors -------------------------------------------------------------------------------------------------

async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if "session" not in request.scope:  # outside the session middleware (e.g. body too large): plain text
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)
    return render(request, "error.html", exc.status_code, status=exc.status_code, detail=exc.detail)


EXCEPTION_HANDLERS = {HTTPException: http_error}
