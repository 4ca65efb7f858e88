#!/usr/bin/env python3
"""Draws the synthesized app: stacks as boxes, their main resources, references as arrows.

Reads the templates in cdk.out (run `make synth` first) and writes
  docs/architecture.dot  Graphviz source (render it with `dot -Tsvg` if you have Graphviz)
  docs/architecture.png  the same graph drawn with matplotlib (a PyPI dependency of the project,
                         so `make diagram` works from a fresh clone without Graphviz)

Edges: between stacks (Fn::ImportValue of an export, or Fn::GetStackOutput: CDK's weak cross-stack
references), red in both files; inside a stack (Ref / Fn::GetAtt between main resources), dotted,
in the .dot file only (in the picture they would hide the structure).

    python -m tools.diagram [--assembly cdk.out] [--out docs/architecture]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.assembly import OperatorError, StackTemplate, read_assembly, references
from workbench.common import ROOT

# Resource types worth a box, with a short label and a colour per service.
MAIN_TYPES = {
    "AWS::KMS::Key": ("KMS key", "#f4cccc"),
    "AWS::S3::Bucket": ("S3 bucket", "#d9ead3"),
    "AWS::SageMaker::NotebookInstance": ("notebook", "#cfe2f3"),
    "AWS::SageMaker::Model": ("model", "#cfe2f3"),
    "AWS::SageMaker::EndpointConfig": ("endpoint config", "#cfe2f3"),
    "AWS::SageMaker::Endpoint": ("endpoint", "#9fc5e8"),
    "AWS::SageMaker::InferenceComponent": ("inference component", "#9fc5e8"),
    "AWS::ApplicationAutoScaling::ScalableTarget": ("scaling 0..N", "#fff2cc"),
    "AWS::Lambda::Function": ("Lambda", "#fce5cd"),
    "AWS::StepFunctions::StateMachine": ("state machine", "#fce5cd"),
    "AWS::SNS::Topic": ("SNS topic", "#ead1dc"),
    "AWS::CloudWatch::Dashboard": ("dashboard", "#eeeeee"),
    "AWS::SSM::Parameter": ("SSM record", "#eeeeee"),
    "AWS::CodePipeline::Pipeline": ("pipeline", "#d9d2e9"),
}


@dataclass(frozen=True)
class Node:
    id: str  # "<stack>:<logical id>"
    stack: str
    label: str
    colour: str


# Construct ids that say only what the type already says: label with the parent instead.
GENERIC = {
    "Bucket",
    "Key",
    "Parameter",
    "Function",
    "Handler",
    "Resource",
    "Default",
    "Instance",
    "Topic",
}


def _construct_name(resource: dict[str, Any], logical_id: str) -> str:
    path = resource.get("Metadata", {}).get("aws:cdk:path", "")
    parts = [p for p in path.split("/")[2:] if p not in ("Resource", "Default")]
    popped = ""
    while len(parts) > 1 and parts[-1] in GENERIC:
        popped = parts.pop()
    if not parts:
        return logical_id
    name = parts[-1]
    return f"{name} {popped.lower()}" if popped and popped.lower() not in name.lower() else name


def _is_cdk_internal(resource: dict[str, Any]) -> bool:
    """CDK's own helpers (custom-resource providers such as S3AutoDeleteObjects)."""
    return "/Custom::" in resource.get("Metadata", {}).get("aws:cdk:path", "")


def build_graph(stacks: list[StackTemplate]) -> tuple[list[Node], set[tuple[str, str, bool]]]:
    """Nodes and edges (source id, target id, crosses stacks)."""
    nodes: list[Node] = []
    ids: dict[tuple[str, str], str] = {}
    # Export name (Fn::ImportValue) or output name (Fn::GetStackOutput, CDK's "weak" cross-stack
    # references) -> node id of the resource it publishes.
    exports: dict[str, str] = {}
    for stack in stacks:
        short = stack.name.split("/")[-1]
        for logical_id, resource in stack.resources.items():
            kind = MAIN_TYPES.get(resource.get("Type", ""))
            if kind and not _is_cdk_internal(resource):
                node = Node(
                    f"{short}:{logical_id}",
                    short,
                    f"{_construct_name(resource, logical_id)}\n({kind[0]})",
                    kind[1],
                )
                nodes.append(node)
                ids[(stack.name, logical_id)] = node.id
        for output_name, output in stack.template.get("Outputs", {}).items():
            targets = [
                ids[(stack.name, r)]
                for r in references(output.get("Value"))
                if (stack.name, r) in ids
            ]
            if targets:
                exports[output_name] = targets[0]
                export_name = output.get("Export", {}).get("Name")
                if isinstance(export_name, str):
                    exports[export_name] = targets[0]
    edges: set[tuple[str, str, bool]] = set()
    for stack in stacks:
        for logical_id, resource in stack.resources.items():
            source = ids.get((stack.name, logical_id))
            if source is None:
                continue
            props = resource.get("Properties", {})
            for ref in references(props):
                target = ids.get((stack.name, ref))
                if target and target != source:
                    edges.add((source, target, False))
            for name in _imports(props):
                if name in exports:
                    edges.add((source, exports[name], True))
    return nodes, edges


def _imports(value: Any) -> list[str]:
    """Names of other stacks' outputs used in `value` (Fn::ImportValue, Fn::GetStackOutput)."""
    found: list[str] = []
    if isinstance(value, dict):
        if "Fn::ImportValue" in value and isinstance(value["Fn::ImportValue"], str):
            found.append(value["Fn::ImportValue"])
        output = value.get("Fn::GetStackOutput")
        if isinstance(output, dict) and isinstance(output.get("OutputName"), str):
            found.append(output["OutputName"])
        for child in value.values():
            found += _imports(child)
    elif isinstance(value, list):
        for child in value:
            found += _imports(child)
    return found


def to_dot(nodes: list[Node], edges: set[tuple[str, str, bool]]) -> str:
    lines = [
        "digraph workbench {",
        "  rankdir=LR; compound=true;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
    ]
    stacks = sorted({n.stack for n in nodes})
    for index, stack in enumerate(stacks):
        lines.append(
            f'  subgraph cluster_{index} {{ label="{stack} stack"; style=rounded; color="#888888";'
        )
        for node in (n for n in nodes if n.stack == stack):
            label = node.label.replace("\n", "\\n")
            lines.append(f'    "{node.id}" [label="{label}", fillcolor="{node.colour}"];')
        lines.append("  }")
    for source, target, cross in sorted(edges):
        style = 'color="#cc0000", penwidth=1.6' if cross else 'style=dotted, color="#666666"'
        lines.append(f'  "{source}" -> "{target}" [{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw_png(nodes: list[Node], edges: set[tuple[str, str, bool]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    others = sorted({n.stack for n in nodes} - {"Storage"})
    middle = len(others) // 2
    stacks = [
        *others[:middle],
        *(["Storage"] if any(n.stack == "Storage" for n in nodes) else []),
        *others[middle:],
    ]
    by_stack = {s: [n for n in nodes if n.stack == s] for s in stacks}
    rows = max((len(v) for v in by_stack.values()), default=1)
    col_w, row_h, box_w, box_h = 3.2, 0.9, 2.6, 0.62
    width, height = max(1, len(stacks)) * col_w + 0.4, rows * row_h + 1.6
    fig, ax = plt.subplots(figsize=(width, height), dpi=110)
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    ax.set_title(title, fontsize=12)
    centre: dict[str, tuple[float, float]] = {}
    for col, stack in enumerate(stacks):
        x0 = 0.2 + col * col_w
        members = by_stack[stack]
        top = height - 0.6
        ax.add_patch(
            FancyBboxPatch(
                (x0 + 0.05, top - len(members) * row_h - 0.15),
                col_w - 0.3,
                len(members) * row_h + 0.45,
                boxstyle="round,pad=0.02",
                facecolor="#fafafa",
                edgecolor="#888888",
            )
        )
        ax.text(
            x0 + col_w / 2 - 0.1,
            top + 0.12,
            f"{stack} stack",
            ha="center",
            fontsize=10,
            weight="bold",
        )
        for row, node in enumerate(members):
            cx, cy = x0 + col_w / 2 - 0.1, top - (row + 0.5) * row_h
            ax.add_patch(
                FancyBboxPatch(
                    (cx - box_w / 2, cy - box_h / 2),
                    box_w,
                    box_h,
                    boxstyle="round,pad=0.02",
                    facecolor=node.colour,
                    edgecolor="#444444",
                    linewidth=0.8,
                )
            )
            ax.text(cx, cy, node.label, ha="center", va="center", fontsize=7)
            centre[node.id] = (cx, cy)
    for source, target, cross in sorted(edges):
        if not cross:  # references inside a stack are in the .dot file; here they would clutter
            continue
        (x1, y1), (x2, y2) = centre[source], centre[target]
        start = (x1 - box_w / 2 if x2 < x1 else x1 + box_w / 2, y1)
        end = (x2 + box_w / 2 if x2 < x1 else x2 - box_w / 2, y2)
        arrow = FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=8,
            color="#cc0000",
            linewidth=1.2,
            connectionstyle="arc3,rad=0.08",
        )
        ax.add_patch(arrow)
    ax.text(
        0.2,
        0.2,
        "red arrow: uses a resource of another stack (all references: see the .dot file)",
        fontsize=8,
        color="#444444",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.diagram", description="Architecture diagram of the synthesized app."
    )
    parser.add_argument("--assembly", type=Path, default=ROOT / "cdk.out", help="cdk.out folder")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "docs" / "architecture",
        help="output path without suffix",
    )
    parser.add_argument("--no-png", action="store_true", help="write only the .dot file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        stacks = read_assembly(args.assembly)
    except OperatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    nodes, edges = build_graph(stacks)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    dot = args.out.with_suffix(".dot")
    dot.write_text(to_dot(nodes, edges))
    written = [dot]
    if not args.no_png:
        stage = stacks[0].name.split("/")[0] if "/" in stacks[0].name else "app"
        draw_png(
            nodes,
            edges,
            args.out.with_suffix(".png"),
            f"{stage}: synthesized stacks and main resources",
        )
        written.append(args.out.with_suffix(".png"))
    print(
        f"{len(nodes)} resources in {len({n.stack for n in nodes})} stack(s), "
        f"{len(edges)} references -> "
        + ", ".join(str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in written)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
