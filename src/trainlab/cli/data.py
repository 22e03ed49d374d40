"""``trainlab data``: see which datasets are ready, check their files, fetch them.

    trainlab data list [--data-dir DIR]
    trainlab data verify NAME [--data-dir DIR]
    trainlab data download NAME [--data-dir DIR] [--base-url URL]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from trainlab.data import FILE_SOURCES, list_datasets, resolve_data_dir, verify
from trainlab.data.download import download
from trainlab.errors import DataError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=None, metavar="DIR",
                        help="data folder (default: $TRAINLAB_DATA, else ~/.cache/trainlab/data)")
    parser = subparsers.add_parser("data", help="list, verify and download datasets",
                                   description=__doc__.splitlines()[0])
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", parents=[common], help="each dataset and whether it is ready")
    listing.set_defaults(func=list_handler)

    checking = actions.add_parser("verify", parents=[common], help="check a dataset's files")
    checking.add_argument("name", help=f"one of: {', '.join(list_datasets())}")
    checking.set_defaults(func=verify_handler)

    fetching = actions.add_parser("download", parents=[common], help="fetch the official files")
    fetching.add_argument("name", help=f"one of: {', '.join(list_datasets())}")
    fetching.add_argument("--base-url", default=None, metavar="URL",
                          help="fetch from this mirror instead of the official host")
    fetching.set_defaults(func=download_handler)


def _status(name: str, root: Path) -> tuple[str, str, str]:
    """(status, where it looks, problem) for one dataset."""
    source = FILE_SOURCES.get(name)
    if source is None:
        return "generated", "-", ""
    folders = source.folders(root)
    present = [folder for folder in folders if folder.is_dir()]
    if not present:
        return "missing", " or ".join(str(folder) for folder in folders), ""
    try:
        return "verified", str(source.verify(root)), ""
    except DataError as exc:
        return "invalid", str(present[0]), str(exc)


def list_handler(args: argparse.Namespace) -> int:
    root = resolve_data_dir(args.data_dir)
    rows = [(name, *_status(name, root)) for name in list_datasets()]
    header = ("NAME", "STATUS", "LOCATION")
    width = [max(len(row[i]) for row in (header, *rows)) for i in range(2)]
    print(f"data folder: {root}")
    for name, status, where, *_ in (header, *rows):
        print(f"{name:<{width[0]}}  {status:<{width[1]}}  {where}")
    for name, _, _, problem in rows:
        if problem:
            print(f"\n{problem}")
    return 0


def verify_handler(args: argparse.Namespace) -> int:
    folder = verify(args.name, args.data_dir)
    if folder is None:
        print(f"{args.name}: generated on the fly; there are no files to verify")
    else:
        print(f"{args.name}: verified {folder}")
    return 0


def download_handler(args: argparse.Namespace) -> int:
    files = download(args.name, args.data_dir, base_url=args.base_url)
    if not files:
        print(f"{args.name}: generated on the fly; there is nothing to download")
        return 0
    folder = verify(args.name, args.data_dir)
    print(f"{args.name}: {len(files)} files ready and verified in {folder}")
    return 0
