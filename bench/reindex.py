"""bench/reindex: a copy of a release with its listing index rebuilt from this checkout's canned queries.

A 10M-quad release takes half an hour to generate, most of it not the listing index; when only the paged
queries' declarations changed, this copies the release's files by hard link (no space, the source is never
written), writes `listings.sqlite` anew (the source's hard link removed first) and the manifest with that
file's checksum and the release id recomputed as bench/generate.py computes it.

    .venv/bin/python bench/reindex.py /tmp/m19/10m/dist /tmp/h19b-rel/10m
    .venv/bin/python bench/reindex.py /tmp/m19/10m/dist /tmp/h19b-rel/10m --index built.sqlite  # built before

(`--index`: a file written beforehand by `listings.index_bytes` from the same N-Quads and VoID, say while the
release's own generation was still writing its index. `--missing`: the source's tables whose declarations
the checkout still makes are kept and only the others built, as when a query gains an index.)

    .venv/bin/python bench/reindex.py /tmp/h19b-rel/10m /tmp/m20/10m --missing
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from minsheng.query import catalog
from minsheng.release import listings
from minsheng.release.manifest import MANIFEST, VOID, FileEntry, read_manifest

ROOT = Path(__file__).resolve().parents[1]


def missing_only(source: Path, out: Path) -> bytes:
    """The source's listing index with the tables of declarations no longer made dropped and only the
    missing ones built (a declaration's tables are named by its digest, so a table kept is one the
    checkout would build alike)."""
    declared = catalog.indexes(catalog.load_catalog(ROOT / "src/minsheng/curated/queries"))
    with tempfile.TemporaryDirectory(dir=out) as scratch:
        path = Path(scratch) / listings.INDEX
        shutil.copyfile(source / listings.INDEX, path)
        connection = sqlite3.connect(path)
        try:
            held = {n for (n,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            wanted = {name for one in declared for name in one.tables}
            for name in sorted(held - wanted):
                quoted = '"' + name.replace('"', '""') + '"'
                connection.execute(f"DROP TABLE {quoted}")
            missing = [one for one in declared if not set(one.tables) <= held]
            print(
                f"keeping {len(held & wanted)} tables, building {len(missing)} declarations", file=sys.stderr
            )
            if missing:
                store = listings.release_store(out / "minsheng.nq", out / VOID)
                for one in missing:
                    listings.write_tables(connection, store, one)
            connection.commit()
            if held - wanted:
                connection.execute("VACUUM")
        finally:
            connection.close()
        return path.read_bytes()


def reindex(source: Path, out: Path, built: Path | None = None, missing: bool = False) -> None:
    manifest = read_manifest(source)
    out.mkdir(parents=True, exist_ok=False)
    for path in sorted(source.rglob("*")):
        target = out / path.relative_to(source)
        if path.is_dir():
            target.mkdir()
        elif path.name not in (listings.INDEX, MANIFEST) or path.parent != source:
            os.link(path, target)
    if built is not None:
        data = built.read_bytes()
    elif missing:
        data = missing_only(source, out)
    else:
        indexed = catalog.indexes(catalog.load_catalog(ROOT / "src/minsheng/curated/queries"))
        data = listings.index_bytes(out / "minsheng.nq", indexed, out / VOID)
    (out / listings.INDEX).write_bytes(data)
    files = {**manifest.files, listings.INDEX: FileEntry(hashlib.sha256(data).hexdigest(), len(data))}
    fingerprint = "".join(f"{name} {entry.sha256}\n" for name, entry in sorted(files.items()))
    release = hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:16]
    (out / MANIFEST).write_text(replace(manifest, release=release, files=files).dumps(), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the release directory to copy (its dist/ layout)")
    parser.add_argument("out", type=Path, help="the new release directory (must not exist)")
    parser.add_argument("--index", type=Path, help="an index file built beforehand, used as it is")
    parser.add_argument(
        "--missing", action="store_true", help="keep the source's tables still declared, build only the rest"
    )
    options = parser.parse_args()
    started = time.perf_counter()
    reindex(options.source, options.out, options.index, options.missing)
    print(f"{options.out}: listing index rebuilt in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
