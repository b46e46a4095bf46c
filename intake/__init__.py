"""The intake bot for UN meeting registrations: the application around the pure parsers.

Data flow (one visible order, see ``intake.pipeline``): fetch -> keep raw -> parse -> store + queue replies
in one transaction -> mark done on the server -> send queued replies.
"""
__version__ = "0.1.0"
