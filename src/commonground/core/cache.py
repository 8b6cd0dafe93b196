"""The shared cache on Redis, with one client per connection pool per process.

Django's ``RedisCache`` builds a new ``redis.Redis`` client object for every cache
operation (the connections themselves are pooled); a request that reads its session,
checks a throttle and a cached answer pays for several of them. A client is only a
handle on its pool and is safe to share between threads, so this backend keeps one
per pool. Everything else (pools, serialisation, the commands) is Django's.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's private attributes, which its type stubs do not declare.
        django_client: Any = self
        index = django_client._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pools = django_client._pools
            if index not in pools:
                pools[index] = django_client._pool_class.from_url(
                    django_client._servers[index], **django_client._pool_options
                )
            client = django_client._client(connection_pool=pools[index])
            self._clients[index] = client
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
