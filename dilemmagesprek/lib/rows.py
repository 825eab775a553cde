"""Reading and writing one row with SQL generated from its model, for the live edit path.

Every live edit reads the conversation, the member and the field and writes the field back.
Through the ORM each of those took 100–300 µs of CPU, of which running the statement on SQLite
about 20 µs (docs/performance.md, sixth round). These helpers run the same statements without
building them each time, and convert values exactly as a queryset and `Model.save` do: the
backend's and the field's converters on the way in (dates on SQLite, JSON everywhere),
`pre_save` and `get_db_prep_save` on the way out (`auto_now`, foreign keys, JSON).

Only the models' own names, quoted, go into the SQL texts; every value is a parameter.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

M = TypeVar("M", bound=models.Model)

Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


def fetch_one(
    model: type[M],
    equal: dict[str, Any],
    *,
    extra: str = "",
    leave_out: str = "",
    for_update: bool = False,
) -> M | None:
    """The row whose fields equal `equal` (field names), as `model.objects.filter(...).first()`
    would give it, or None.

    `extra` is more SQL for the WHERE clause, written by the caller with column names only.
    The field named `leave_out` is deferred: it is read when first used, as with `.defer()`.
    `for_update` locks the row where the database can.
    """
    db = connections[DEFAULT_DB_ALIAS]  # this thread's connection, not the proxy
    sql, attnames = _select(model, tuple(equal), extra, leave_out)
    if for_update and db.features.has_select_for_update:
        sql += " FOR UPDATE"
    with db.cursor() as cursor:
        cursor.execute(sql, [_prep(model, name, value, db) for name, value in equal.items()])
        row = cursor.fetchone()
    if row is None:
        return None
    values = [
        _convert(value, column, functions, db)
        for value, (column, functions) in zip(row, _converters(model, leave_out, db), strict=True)
    ]
    return model.from_db(db.alias, attnames, values)


def update(instance: models.Model, names: Sequence[str]) -> int:
    """Write the fields `names` of `instance`, as `instance.save(update_fields=names)` would;
    the number of rows changed."""
    fields = [instance._meta.get_field(name) for name in names]
    values = [
        field.get_db_prep_save(field.pre_save(instance, False), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(_update(type(instance), tuple(names)), [*values, instance.pk])
        return cursor.rowcount


@functools.cache
def _select(
    model: type[models.Model], names: tuple[str, ...], extra: str, leave_out: str
) -> tuple[str, list[str]]:
    quote = connection.ops.quote_name
    meta = model._meta
    fields = [field for field in meta.concrete_fields if field.name != leave_out]
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


def _prep(model: type[models.Model], name: str, value: Any, db: BaseDatabaseWrapper) -> Any:
    field = model._meta.get_field(name)
    if isinstance(value, models.Model):
        value = value.pk
    return field.get_db_prep_value(value, db, prepared=False)


# Converters are methods of one connection's operations, and every thread has its own
# connection: they are looked up per connection, and kept for the few a process has.
@functools.lru_cache(maxsize=64)
def _converters(
    model: type[models.Model], leave_out: str, db: BaseDatabaseWrapper
) -> list[tuple[Any, list[Converter]]]:
    result = []
    for field in model._meta.concrete_fields:
        if field.name == leave_out:
            continue
        column = field.get_col(model._meta.db_table)
        # The order a queryset applies them in: the backend's, then the field's own.
        converters = db.ops.get_db_converters(column) + column.get_db_converters(db)
        result.append((column, converters))
    return result


def _convert(value: Any, column: Any, functions: list[Converter], db: BaseDatabaseWrapper) -> Any:
    for function in functions:
        value = function(value, column, db)
    return value
