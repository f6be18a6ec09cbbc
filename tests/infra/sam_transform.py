"""The template as CloudFormation receives it: SAM's transform (aws-sam-translator, the library
`sam deploy` and CloudFormation's `AWS::Serverless` transform run), printed as JSON for cfn-lint,
which reads SAM resources only loosely before the transform.

Fails when the transform refuses the template (a property SAM does not know, a Globals entry it
cannot merge, a reference it cannot resolve). The functions' local `CodeUri` folders stand for
the artifacts `sam build` uploads.

    .venv/checkov/bin/python tests/infra/sam_transform.py > target/template.transformed.json
"""

import json
import os
import sys

from checkov.cloudformation.parser import parse
from samtranslator.translator.transform import transform

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class NoManagedPolicies:
    """The transform looks up AWS managed policies only for names it cannot resolve itself."""

    def load(self):
        return {}


def plain(node):
    """The parser's nodes as plain dicts, lists and strings, without its own `__file__`,
    `__startline__`... keys."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items() if not str(k).startswith("__")}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def main():
    template, _ = parse(os.path.join(ROOT, "infra/template.yaml"))
    template = plain(template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/function.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    transformed = transform(template, {}, NoManagedPolicies())
    leftover = [name for name, r in transformed["Resources"].items() if r["Type"].startswith("AWS::Serverless::")]
    if leftover:
        sys.exit(f"the transform left SAM resources: {leftover}")
    json.dump(transformed, sys.stdout, indent=1, default=str)


if __name__ == "__main__":
    main()
