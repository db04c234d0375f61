#!/usr/bin/env python3
"""Validate watch3232 EVE events (JSON Lines) against `watch3232 schema`.

    watch3232 schema > events.schema.json
    python3 dist/validate-events.py events.schema.json eve.json eve.json.*

Needs the `jsonschema` package (pip install jsonschema). Exit code 1 on the first invalid event.
"""
import json
import sys

import jsonschema


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    count = 0
    for path in sys.argv[2:]:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                errors = sorted(validator.iter_errors(json.loads(line)), key=str)
                if errors:
                    print(f"{path}:{number}: {errors[0].message}", file=sys.stderr)
                    return 1
                count += 1
    print(f"{count} events valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
