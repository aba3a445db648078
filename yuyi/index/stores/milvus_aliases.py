"""Milvus's native aliases behind yuyi's alias interface (`yuyi migrate`): clients keep using
the collection's name, which becomes a Milvus alias that `alter_alias` moves atomically on the
server, so every replica switches at the same instant.

The first migration of a collection renames it (`docs` → `docs__m0`) and creates the alias
`docs` in the next call (Milvus will not alias over an existing collection name); a request
landing between the two calls (milliseconds) is told the collection is being switched.
The history lives in each version's yuyi settings."""

from __future__ import annotations

import re

from yuyi.index.stores.base import StoreError, validate_name


class MilvusAliases:
    supports_aliases = True

    def _alias_target(self, name: str) -> str | None:
        try:
            return self.client.describe_alias(name).get("collection_name") or None
        except StoreError:
            return None

    def resolve(self, name: str) -> str:
        if name.startswith("="):
            return "=" + validate_name(name[1:])
        validate_name(name)
        return "=" + (self._alias_target(name) or name)

    def _aliases(self, physical: list[str]) -> dict[str, str]:
        out = {}
        for col in physical:
            for alias in self.client.list_aliases(col).get("aliases", []):
                out[alias] = col
        return out

    def list_collections(self) -> list[str]:
        physical = self._physical()
        aliases = self._aliases(physical)
        hidden = {p for p in physical if (m := re.fullmatch(r"(.+)__m\d+", p)) and m.group(1) in aliases}
        return sorted((set(physical) - hidden) | set(aliases))

    def has_collection(self, name: str) -> bool:
        if name.startswith("="):
            return bool(self.client.has_collection(validate_name(name[1:])))
        return name in self.list_collections()

    def alias_history(self, name: str) -> list[dict]:
        try:
            return list(self.get_meta(name).get("alias_history", []))
        except StoreError:
            return []

    def switch_alias(self, name: str, target: str | None, event: dict) -> None:
        import time

        name = validate_name(name)
        target = validate_name(target or name)
        self.client.load_collection(target)  # ready before any request is sent to it
        event = {**event, "at": time.time()}
        history = self.alias_history(name)
        if self._alias_target(name) is None:
            if self.client.has_collection(name):  # first switch: the original steps aside
                moved = f"{name}__m0"
                self.client.rename_collection(name, moved)
                self._loaded.discard(name)
                if event.get("from") == name:
                    event["from"] = moved
            self.client.create_alias(target, name)
        else:
            self.client.alter_alias(target, name)
        self._loaded.discard(name)
        self.set_meta("=" + target, "alias_history", [*history, event])

    def _versions_to_drop(self, name: str) -> list[str]:
        """The physical collections behind `name` (all versions of an alias), its alias dropped."""
        if name.startswith("="):
            return [self._check(name)]
        target = self._alias_target(validate_name(name))
        if target is None:
            return [self._check(name)]
        versions = [p for p in self._physical() if re.fullmatch(rf"{re.escape(name)}__m\d+", p)]
        self.client.drop_alias(name)
        return sorted(set(versions) | {target})

    def document_rows(self, name: str, after: str = "", limit: int = 500, since: float | None = None
                      ) -> list[tuple[str, int, float]]:
        """Every document after `after` in one answer (Milvus cannot page by doc_id order) and
        no write times (`since` is ignored: a catch-up compares every document)."""
        name = self._check(name)
        rows = self._query_all(name, f"doc_id > {quote(after)}" if after else "", ["doc_id", "n_chunks"])
        docs = {r["doc_id"]: int(r["n_chunks"]) for r in rows}
        return [(d, docs[d], 0.0) for d in sorted(docs)]


def quote(value: str) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
