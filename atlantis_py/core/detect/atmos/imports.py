"""Stack manifests with their imports resolved and deep-merged, for one ref.

Import paths are relative to the stacks folder (or to the importing file when
they start with ./ or ../), with or without .yaml, and may be globs. Imports
merge in order before the file's own content. A file's *signature* hashes its
path, blob and its imports' signatures: equal signatures at two refs mean an
equal merged result, which the StackCache then shares."""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass

from atlantis_py.core.detect.atmos.cache import Manifest, StackCache
from atlantis_py.core.detect.atmos.errors import ImportCycleError, StackError
from atlantis_py.core.detect.atmos.merge import deep_merge
from atlantis_py.core.detect.atmos.tree import Tree
from atlantis_py.core.detect.globs import glob_match

YAML_EXTS = (".yaml", ".yml")
_GLOB_CHARS = set("*?[")


@dataclass(frozen=True, eq=False)
class Resolved:
    path: str
    sig: str
    merged: dict[str, object]


class Resolver:
    """Resolves manifests of one tree; memoised per path for this ref."""

    def __init__(self, tree: Tree, stacks_path: str, cache: StackCache) -> None:
        self.tree = tree
        self.stacks_path = stacks_path
        self.cache = cache
        self.listing = {p: b for p, b in tree.files(stacks_path).items()
                        if p.endswith(YAML_EXTS)}
        self._done: dict[str, Resolved] = {}
        self._bytes: dict[str, bytes] = {}
        self._prefetched = False

    def rel(self, path: str) -> str:
        """Path relative to the stacks folder."""
        return path[len(self.stacks_path) + 1:] if self.stacks_path not in ("", ".") else path

    def _full(self, rel: str) -> str:
        return rel if self.stacks_path in ("", ".") else f"{self.stacks_path}/{rel}"

    def _read(self, path: str) -> bytes:
        if not self._prefetched:
            self._prefetched = True
            # Parse-cache misses, read in one batch: one git round trip, not one per file.
            missing = [p for p, b in self.listing.items() if not self.cache.has_manifest(b)]
            self._bytes = self.tree.read_many(missing)
        data = self._bytes.pop(path, None)
        return data if data is not None else self.tree.read(path)

    def manifest(self, path: str) -> Manifest:
        return self.cache.manifest(path, self.listing[path], lambda: self._read(path))

    def resolve(self, path: str) -> Resolved:
        return self._resolve(path, ())

    def _resolve(self, path: str, chain: tuple[str, ...]) -> Resolved:
        done = self._done.get(path)
        if done is not None:
            return done
        if path in chain:
            raise ImportCycleError((*chain[chain.index(path):], path))
        manifest = self.manifest(path)
        chain = (*chain, path)
        imported = [self._resolve(p, chain) for entry in manifest.imports
                    for p in self._targets(path, entry)]
        digest = hashlib.sha1(f"{path}\0{self.listing[path]}".encode())
        for item in imported:
            digest.update(b"\0" + item.sig.encode())
        sig = digest.hexdigest()
        merged = self.cache.merged(sig)
        if merged is None:
            merged = {}
            for item in imported:
                merged = deep_merge(merged, item.merged)
            merged = deep_merge(merged, manifest.body)
            self.cache.put_merged(sig, merged)
        done = Resolved(path, sig, merged)
        self._done[path] = done
        return done

    def _targets(self, importer: str, entry: object) -> list[str]:
        """The files one `import:` entry names, sorted when it is a glob."""
        if isinstance(entry, dict):
            entry = entry.get("path")
        if not isinstance(entry, str) or not entry.strip():
            raise StackError(importer, None, f"import entry {entry!r} is not a path")
        raw = entry.strip()
        if "://" in raw or raw.startswith(("git::", "s3::", "github.com/")):
            raise StackError(importer, None, f"remote import {raw!r} is not supported")
        if raw.startswith(("./", "../")):
            rel = posixpath.normpath(posixpath.join(posixpath.dirname(self.rel(importer)), raw))
        else:
            rel = posixpath.normpath(raw.lstrip("/"))
        candidates = [rel] if rel.endswith(YAML_EXTS) else [rel + e for e in YAML_EXTS]
        if _GLOB_CHARS & set(rel):
            found = sorted({p for p in self.listing
                            for c in candidates if glob_match(c, self.rel(p))})
        else:
            found = [self._full(c) for c in candidates if self._full(c) in self.listing][:1]
        if not found:
            raise StackError(importer, None, f"import {raw!r} matches no file under "
                                             f"{self.stacks_path}/")
        return found

