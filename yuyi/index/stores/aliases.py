"""Collection aliases for the embedded store: the name clients use → the physical collection
that answers it, in one JSON file swapped atomically (write a temporary file, `os.replace`),
so every reader sees either the old target or the new one, never a mix. `yuyi migrate` builds
a shadow collection and switches the alias; the history makes `--rollback` possible."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from yuyi.index.stores.base import StoreError


class AliasFile:
    def __init__(self, root: Path) -> None:
        self.path = root / "aliases.json"
        self._lock = threading.Lock()
        self._seen: tuple[tuple[int, int], dict] | None = None

    def read(self) -> dict:
        """{"aliases": {name: target}, "history": {name: [events]}}, re-read when the file changes."""
        try:
            st = self.path.stat()
            stamp = (st.st_ino, st.st_mtime_ns)
        except FileNotFoundError:
            return {"aliases": {}, "history": {}}
        if self._seen is None or self._seen[0] != stamp:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise StoreError(f"alias file {self.path} is unreadable: {exc}") from exc
            self._seen = (stamp, data)
        return self._seen[1]

    def resolve(self, name: str) -> str:
        return self.read()["aliases"].get(name, name)

    def versions(self, name: str) -> list[str]:
        """Every physical collection this name has pointed to (oldest first)."""
        out = [name]
        for event in self.read()["history"].get(name, []):
            for key in ("from", "to"):
                if event.get(key) and event[key] not in out:
                    out.append(event[key])
        return out

    def hidden(self) -> set[str]:
        """Physical collections behind an alias (listed under the alias name instead)."""
        data = self.read()
        return {v for name in data["history"] for v in self.versions(name) if v != name}

    def switch(self, name: str, target: str | None, event: dict) -> None:
        """Point `name` at `target` (None: at the collection of that name itself) and record it."""
        with self._lock:
            data = json.loads(json.dumps(self.read()))
            if target is None or target == name:
                data["aliases"].pop(name, None)
            else:
                data["aliases"][name] = target
            data["history"].setdefault(name, []).append({**event, "at": time.time()})
            self._write(data)

    def forget(self, name: str) -> None:
        with self._lock:
            data = json.loads(json.dumps(self.read()))
            data["aliases"].pop(name, None)
            data["history"].pop(name, None)
            self._write(data)

    def _write(self, data: dict) -> None:
        tmp = self.path.with_suffix(f".json.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)
