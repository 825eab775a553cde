"""Reading and writing one row with SQL generated from its model, for the live edit path.

Every live edit reads the conversation, the member and the field and writes the field back.
Through the ORM each of those took 100–300 µs of CPU, of which running the statement on SQLite
about 20 µs (docs/performance.md, sixth round). These helpers run the same statements without
building them each time, and convert values exactly as a queryset and `Model.save` do: the
backend's and the field's converters on the way in (dates on SQLite, JSON everywhere),
`pre_save` and `get_db_prep_save` on the way out (`auto_now`, foreign keys, JSON).

Only the models' own names, quoted, go into the SQL texts; every value is a parameter.

The statements run on the database driver's cursor (`execute`), not through Django's cursor
wrapper, and rows become instances without `Model.__init__` where nothing needs it
(`_instance`): together a third of a live save's instructions (docs/performance.md, ninth
round).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

M = TypeVar("M", bound=models.Model)

Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


def fetch_one(
    model: type[M],
    equal: dict[str, Any],
    *,
    extra: str = "",
    leave_out: str = "",
    only: tuple[str, ...] = (),
    for_update: bool = False,
) -> M | None:
    """The row whose fields equal `equal` (field names), as `model.objects.filter(...).first()`
    would give it, or None.

    `extra` is more SQL for the WHERE clause, written by the caller with column names only.
    The field named `leave_out` is deferred: it is read when first used, as with `.defer()`.
    With `only`, the primary key and those fields are read and every other field is deferred,
    as with `.only()`. `for_update` locks the row where the database can.
    """
    db = connections[DEFAULT_DB_ALIAS]  # this thread's connection, not the proxy
    sql, attnames = _select(model, tuple(equal), extra, leave_out, only)
    if for_update and db.features.has_select_for_update:
        sql += " FOR UPDATE"
    params = [_prep(model, name, value, db) for name, value in equal.items()]
    row = execute(db, sql, params).fetchone()
    if row is None:
        return None
    values = list(row)
    for index, column, functions in _converters(model, leave_out, only, db):
        value = values[index]
        for function in functions:
            value = function(value, column, db)
        values[index] = value
    return _instance(model, db.alias, attnames, values)


def new(model: type[M], **values: Any) -> M:
    """`model(**values)`, unsaved, for values given by attribute name (`actor_id`, not `actor`).

    Every other field gets its default, as `__init__` gives it. Like `_instance`, this fills
    the instance's dict where nothing needs `Model.__init__`.
    """
    if _needs_init(model):
        return model(**values)
    instance = model.__new__(model)
    instance._state = ModelState()
    for field in model._meta.concrete_fields:
        value = values.pop(field.attname) if field.attname in values else field.get_default()
        instance.__dict__[field.attname] = value
    if values:
        raise TypeError(f"{model.__name__} has no fields {', '.join(values)}")
    return instance


def _needs_init(model: type[models.Model]) -> bool:
    """Whether the model's own code or a receiver must see its instances being made."""
    return (
        model.__init__ is not models.Model.__init__
        or model.from_db.__func__ is not models.Model.from_db.__func__
        or pre_init.has_listeners(model)
        or post_init.has_listeners(model)
    )


def _instance(model: type[M], alias: str, attnames: list[str], values: list[Any]) -> M:
    """What `model.from_db` gives, without running `Model.__init__` where nothing needs it.

    `__init__` sends two signals and sets every field through its descriptor; for a row read
    from the database, with no receivers and no `__init__` or `from_db` of the model's own,
    that comes down to filling the instance's dict. A field left out stays out of the dict,
    which is what makes Django read it when it is first used (as `.defer()` does).
    """
    if _needs_init(model):
        return model.from_db(alias, attnames, values)
    instance = model.__new__(model)
    instance._state = ModelState()
    instance._state.adding = False
    instance._state.db = alias
    instance.__dict__.update(zip(attnames, values, strict=True))
    return instance


def update(instance: models.Model, names: Sequence[str]) -> int:
    """Write the fields `names` of `instance`, as `instance.save(update_fields=names)` would;
    the number of rows changed."""
    db = connections[DEFAULT_DB_ALIAS]
    fields = [instance._meta.get_field(name) for name in names]
    values = [field.get_db_prep_save(field.pre_save(instance, False), db) for field in fields]
    return execute(db, _update(type(instance), tuple(names)), [*values, instance.pk]).rowcount


def update_where(
    model: type[models.Model],
    values: dict[str, Any],
    equal: dict[str, Any],
    unequal: dict[str, Any] | None = None,
) -> int:
    """Set the fields in `values` on the rows whose fields equal `equal` and differ from
    `unequal`; the number of rows changed. A conditional write: 0 means the row was not as
    the caller expected. Values are converted as `Model.save` converts them, without
    `pre_save`: an `auto_now` field must be given its value.
    """
    db = connections[DEFAULT_DB_ALIAS]
    unequal = unequal or {}
    meta = model._meta
    params = [meta.get_field(name).get_db_prep_save(value, db) for name, value in values.items()]
    params += [_prep(model, name, value, db) for name, value in equal.items()]
    params += [_prep(model, name, value, db) for name, value in unequal.items()]
    sql = _update_where(model, tuple(values), tuple(equal), tuple(unequal))
    return execute(db, sql, params).rowcount


def execute(db: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> Any:
    """Run one statement (with %s placeholders) on `db`; the DB-API cursor, to fetch from.

    This is the driver's cursor, with database errors turned into Django's as everywhere.
    Django's wrapper around it, which logs statements and runs execution wrappers, is left
    out, except while statements are being logged (DEBUG, a test capturing queries) or
    wrapped.
    """
    if db.queries_logged or db.execute_wrappers:
        cursor = db.cursor()
        cursor.execute(sql, params)
        return cursor
    # As Django's own cursor() does: a connection that failed its health check is replaced.
    db.close_if_health_check_failed()
    if db.connection is None:
        db.ensure_connection()
    with db.wrap_database_errors:
        if db.vendor == "sqlite":
            # Django's SQLite cursor turns %s into ? with a regular expression on every call,
            # over these statements' long column lists; the converted text is kept instead.
            cursor = db.connection.cursor()
            cursor.execute(_qmark(sql), params)
        else:
            cursor = db.create_cursor()  # psycopg's, set to the connection's time zone
            cursor.execute(sql, params)
    return cursor


@functools.lru_cache(maxsize=256)
def _qmark(sql: str) -> str:
    """The statement as Django's SQLite cursor would run it."""
    return FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")


def _read_fields(
    model: type[models.Model], leave_out: str, only: tuple[str, ...]
) -> list[models.Field]:
    """The fields a fetch reads, in the model's order."""
    meta = model._meta
    if only:
        return [field for field in meta.concrete_fields if field.primary_key or field.name in only]
    return [field for field in meta.concrete_fields if field.name != leave_out]


@functools.cache
def _select(
    model: type[models.Model],
    names: tuple[str, ...],
    extra: str,
    leave_out: str,
    only: tuple[str, ...],
) -> tuple[str, list[str]]:
    quote = connection.ops.quote_name
    meta = model._meta
    fields = _read_fields(model, leave_out, only)
    columns = ", ".join(quote(field.column) for field in fields)
    where = " AND ".join(f"{quote(meta.get_field(name).column)} = %s" for name in names)
    if extra:
        where += f" AND {extra}"
    sql = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {where}"  # noqa: S608
    return sql, [field.attname for field in fields]


@functools.cache
def _update(model: type[models.Model], names: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    meta = model._meta
    sets = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in names)
    return f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608


@functools.cache
def _update_where(
    model: type[models.Model],
    names: tuple[str, ...],
    equal: tuple[str, ...],
    unequal: tuple[str, ...],
) -> str:
    quote = connection.ops.quote_name
    meta = model._meta

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    sets = ", ".join(f"{column(name)} = %s" for name in names)
    where = [f"{column(name)} = %s" for name in equal]
    where += [f"{column(name)} <> %s" for name in unequal]
    return f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {' AND '.join(where)}"  # noqa: S608


def _prep(model: type[models.Model], name: str, value: Any, db: BaseDatabaseWrapper) -> Any:
    field = model._meta.get_field(name)
    if isinstance(value, models.Model):
        value = value.pk
    return field.get_db_prep_value(value, db, prepared=False)


# Converters are methods of one connection's operations, and every thread has its own
# connection: they are looked up per connection, and kept for the few a process has.
@functools.lru_cache(maxsize=64)
def _converters(
    model: type[models.Model], leave_out: str, only: tuple[str, ...], db: BaseDatabaseWrapper
) -> list[tuple[int, Any, list[Converter]]]:
    """(position in the row, column, converters) for the columns that have converters."""
    result = []
    fields = _read_fields(model, leave_out, only)
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        # The order a queryset applies them in: the backend's, then the field's own.
        converters = db.ops.get_db_converters(column) + column.get_db_converters(db)
        if converters:
            result.append((index, column, converters))
    return result
