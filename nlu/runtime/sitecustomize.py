"""Loaded by every Python process of .venv-rasa (bot.rasa_env puts this folder on PYTHONPATH).

Rasa 3.6 checks every action server response with `jsonschema.validate(result, schema)`, which
validates the *schema* against its metaschema again on every call: about 45% of Rasa's CPU per
turn here (py-spy, docs/benchmarks.md). This keeps the same validation — same schema, same
errors raised — but checks each schema once and reuses its validator.
"""
from __future__ import annotations

try:
    import jsonschema
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
except ImportError:  # not Rasa's environment: nothing to do
    jsonschema = None

if jsonschema is not None and not getattr(jsonschema, "_billbot_cached", False):
    import json

    _validators: dict[str, object] = {}  # by the schema's content: Rasa builds a new dict per call
    _uncached_validate = jsonschema.validate

    def validate(instance, schema, cls=None, *args, **kwargs):
        """jsonschema.validate with the validator of each schema built once, not per call."""
        if cls is not None or args or kwargs:
            return _uncached_validate(instance, schema, cls, *args, **kwargs)
        key = json.dumps(schema, sort_keys=True, default=repr)
        validator = _validators.get(key)
        if validator is None:
            klass = validator_for(schema)
            klass.check_schema(schema)
            validator = _validators[key] = klass(schema)
        error = best_match(validator.iter_errors(instance))
        if error is not None:
            raise error
        return None

    jsonschema.validate = validate
    jsonschema._billbot_cached = True

# The embedded profile keeps Rasa's tracker store in a SQLite file. Rasa commits each turn's
# events with a full fsync in rollback-journal mode: ~8% of a turn here. WAL with
# synchronous=NORMAL stays crash-safe (a power cut may lose the last turn, never corrupt the
# file). Only SQLite connections are touched; PostgreSQL (production) is not.
try:
    from sqlalchemy import event as _sa_event
    from sqlalchemy.engine import Engine as _SaEngine
except ImportError:
    _SaEngine = None

if _SaEngine is not None:

    @_sa_event.listens_for(_SaEngine, "connect")
    def _sqlite_wal(dbapi_connection, _record):
        if type(dbapi_connection).__module__.startswith("sqlite3"):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

# SQLAlchemy 1.4 (Rasa 3.6's) gives a SQLite file database a NullPool: every session Rasa's
# tracker store opens (three a turn) connects to the file, runs the pragmas above and closes
# it again, ~8% of Rasa's CPU under load (py-spy, docs/benchmarks.md). SQLAlchemy 2.0 made a
# QueuePool the default for SQLite files; this does the same here. Rasa uses its tracker
# store from one event loop, and a pooled connection is used by one session at a time.
try:
    import sqlalchemy as _sa
    from sqlalchemy.pool import QueuePool as _QueuePool
except ImportError:
    _sa = None

if _sa is not None and not getattr(_sa, "_billbot_pooled", False):
    _plain_create_engine = _sa.create_engine

    def _create_engine(url, *args, **kwargs):
        """create_engine, with a connection pool for a SQLite file when none is chosen."""
        text = str(url)
        if (text.startswith("sqlite") and text.split("///", 1)[-1] not in ("", ":memory:")
                and "poolclass" not in kwargs):
            kwargs["poolclass"] = _QueuePool
            connect_args = dict(kwargs.get("connect_args") or {})
            connect_args.setdefault("check_same_thread", False)
            kwargs["connect_args"] = connect_args
        return _plain_create_engine(url, *args, **kwargs)

    _sa.create_engine = _create_engine
    _sa._billbot_pooled = True

# Rasa 3.6 opens a new aiohttp ClientSession for every call to the action server
# (`async with self.session()` in EndpointConfig.request), so every action is a new TCP
# connection, set up and torn down on both sides: about half of the 15% of Rasa's CPU that
# action calls took under load (py-spy, docs/benchmarks.md). This keeps one session per
# endpoint and event loop, with the same headers, auth and timeout, and lets `async with`
# borrow it instead of closing it. It is applied when Rasa imports rasa.utils.endpoints.
import importlib.abc as _abc
import sys as _sys


class _BorrowedSession:
    """`async with` over a kept ClientSession: enters to it, leaves it open."""

    def __init__(self, session):
        self._session = session

    async def __aenter__(self):
        return self._session

    async def __aexit__(self, *exc_info):
        return False


def _keep_endpoint_sessions(module) -> None:
    import asyncio
    import weakref

    config = module.EndpointConfig
    if getattr(config, "_billbot_kept", False):
        return
    new_session = config.session

    def session(self):
        """The endpoint's session on this event loop, created once."""
        kept = self.__dict__.setdefault("_billbot_sessions", weakref.WeakKeyDictionary())
        loop = asyncio.get_running_loop()
        current = kept.get(loop)
        if current is None or current.closed:
            current = kept[loop] = new_session(self)
        return _BorrowedSession(current)

    config.session = session
    config._billbot_kept = True


class _AfterImport(_abc.MetaPathFinder):
    """Runs a function on a module right after it is first imported."""

    def __init__(self, name: str, then):
        self.name, self.then = name, then

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        _sys.meta_path.remove(self)
        try:
            import importlib.util
            spec = importlib.util.find_spec(fullname)
        finally:
            _sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        loader, then = spec.loader, self.then

        class _Loader(_abc.Loader):
            def create_module(self, spec):
                return loader.create_module(spec)

            def exec_module(self, module):
                loader.exec_module(module)
                then(module)

        spec.loader = _Loader()
        return spec


if "rasa.utils.endpoints" in _sys.modules:
    _keep_endpoint_sessions(_sys.modules["rasa.utils.endpoints"])
else:
    _sys.meta_path.insert(0, _AfterImport("rasa.utils.endpoints", _keep_endpoint_sessions))
