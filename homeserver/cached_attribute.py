"""``cached_attribute``: ``functools.cached_property`` without its lock.

On Python 3.11 ``cached_property`` computes under one lock per decorated attribute, shared by
every instance of the class: concurrent /syncs of a process computed their contexts' cached
values (each a database query) one at a time, holding their pooled connections while they
waited (seen in a stack dump of the 1,000-poll bench step on PostgreSQL, docs/performance.md).
The objects it serves belong to one request each, so no lock is needed: at worst two threads
sharing an instance compute the same value twice.
"""

from __future__ import annotations


class cached_attribute:  # noqa: N801 - named like the decorator it replaces
    def __init__(self, func):
        self.func = func
        self.attrname = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner, name):
        self.attrname = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = self.func(instance)
        # A non-data descriptor: the instance's own attribute is found first from now on.
        instance.__dict__[self.attrname] = value
        return value
