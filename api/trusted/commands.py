"""`incentives documents extract` and `incentives documents check` (CONTRACT 6.5).

    incentives documents extract [--persisted-documents PATH] [--output PATH]
    incentives documents check [--manifest PATH]

`extract` writes the manifest (by default trusted-documents.json, committed) from what the apps
ship (`api.trusted.extract`); `check` prints each document's id, its operations and their static
cost, and fails (1) when any document would be refused (`api.trusted.check`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from api.entry import FAILURE, CommandError
from api.settings import Settings
from api.trusted.extract import PERSISTED_DOCUMENTS
from api.trusted.manifest import MANIFEST, ManifestError, dump, load


def add_documents_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `documents extract` and `documents check` to the `incentives` sub-commands."""
    documents = commands.add_parser(
        "documents", help="the trusted documents: extract the manifest, check it", description=__doc__
    )
    actions = documents.add_subparsers(dest="action", required=True, metavar="ACTION")
    extract = actions.add_parser("extract", help="write the manifest from what the apps ship")
    extract.add_argument(
        "--persisted-documents",
        type=Path,
        default=PERSISTED_DOCUMENTS,
        metavar="PATH",
        help="graphql-codegen's persisted-documents.json (default: clients/generated/ts/, run codegen first)",
    )
    extract.add_argument("--output", type=Path, default=MANIFEST, metavar="PATH")
    extract.set_defaults(run=extract_documents)
    check = actions.add_parser("check", help="validate every trusted document and print its cost")
    check.add_argument("--manifest", type=Path, default=MANIFEST, metavar="PATH")
    check.set_defaults(run=check_documents)


def extract_documents(settings: Settings, args: argparse.Namespace) -> int:
    from api.trusted.extract import extracted

    try:
        documents = extracted(args.persisted_documents)
    except ManifestError as error:
        raise CommandError(str(error)) from None
    dump(documents, args.output)
    print(f"Wrote {len(documents)} trusted documents to {args.output}.")
    return 0


def check_documents(settings: Settings, args: argparse.Namespace) -> int:
    from api.graphql.limits import Limits
    from api.graphql.schema import build_schema
    from api.trusted.check import check_document

    try:
        documents = load(args.manifest)
    except (ManifestError, OSError) as error:
        raise CommandError(str(error)) from None
    schema = build_schema()._schema
    limits = Limits(cost=settings.max_query_cost)
    failed = 0
    for key, text in documents.items():
        checked = check_document(schema, text, limits)
        print(key)
        for name, cost in checked.costs.items():
            print(f"  {name}: cost {cost:,}")
        for problem in checked.problems:
            print(f"  {key} {problem}", file=sys.stderr)
        failed += bool(checked.problems)
    if failed:
        raise CommandError(f"{failed} of {len(documents)} trusted documents would be refused", FAILURE)
    print(f"All {len(documents)} trusted documents are valid.")
    return 0
