"""The secretariat's review page (``intake serve``): flagged replies handled in a browser, not in SQL.

Server-rendered Starlette + Jinja2. One concern per module:

- ``app``       the application factory: routes, middleware, per-thread stores
- ``auth``      users with argon2 password hashes, and the login rate limit
- ``csrf``      the per-session token every form carries
- ``security``  response headers (CSP, nosniff, no framing, no caching)
- ``mailview``  a stored message made fit to show: headers, own text, quoted part, attachments
- ``queries``   what the pages read (queue, organisations, participants, search, history)
- ``actions``   what the pages change (people, flags, replies), always with the user's name in the audit log
- ``views``     the request handlers
"""
from intake.web.app import create_app

__all__ = ["create_app"]
