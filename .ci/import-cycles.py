#!/usr/bin/env python3
"""Import cycles between files under src/, imports that run up the layer
order of docs/ARCHITECTURE.md ("Layers"; `LAYERS` below), and the imports
the architecture forbids outright.

Builds a file-level graph from every `use` and every inline `crate::…` /
`super::…` / `$crate::…` path, resolved to the deepest module file that
exists, and prints each strongly connected component of more than one
file. `mod x;` declarations are not edges (a parent may declare its
children; they may import it only if it imports none of them).

Exit status 1 when there is a cycle or a forbidden import. `--graph`
prints every edge.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
CRATE = "billing_console"


def module_files():
    """module path (tuple) -> file path, for the library crate."""
    files = {}
    for dirpath, _, names in os.walk(ROOT):
        for name in names:
            if not name.endswith(".rs"):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, ROOT)
            if rel == "main.rs":
                continue
            parts = rel[:-3].split(os.sep)
            if parts == ["lib"]:
                parts = []
            elif parts[-1] == "mod":
                parts = parts[:-1]
            files[tuple(parts)] = rel
    return files


def strip_comments_and_strings(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    # Raw strings (`r"…"`, `r#"…"#`, `br"…"`), not an `r` that ends a word
    # before a string (`"ssr"` once swallowed a file's imports up to the
    # next quote).
    text = re.sub(r'(?<![\w"])b?r(#*)"(?:.|\n)*?"\1', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return text


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e']."""
    tree = tree.strip()
    depth = 0
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                prefix = tree[:i]
                inner = tree[i + 1 : tree.rindex("}")]
                items, level, start = [], 0, 0
                for j, c in enumerate(inner):
                    if c == "{":
                        level += 1
                    elif c == "}":
                        level -= 1
                    elif c == "," and level == 0:
                        items.append(inner[start:j])
                        start = j + 1
                items.append(inner[start:])
                out = []
                for item in items:
                    if item.strip():
                        out.extend(expand_use(prefix + item.strip()))
                return out
            depth += 1
    return [re.split(r"\s+as\s+", tree)[0].strip()]


def resolve(path, here, files):
    """A path as written in module `here` -> the file it points into."""
    parts = [p for p in path.replace(" ", "").split("::") if p]
    if not parts:
        return None
    if tuple(here) + (parts[0],) in files:
        # A child module named without `self::` (2018 paths).
        base, rest = list(here), parts
    elif parts[0] in ("crate", "$crate", CRATE):
        base, rest = [], parts[1:]
    elif parts[0] in ("super", "self"):
        base = list(here)
        rest = parts
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
    else:
        return None
    best = tuple(base)
    current = list(base)
    for p in rest:
        if p in ("*",):
            break
        current.append(p)
        if tuple(current) in files:
            best = tuple(current)
        else:
            break
    return files.get(best)


# The layers of docs/ARCHITECTURE.md, bottom first: a file may import its
# own layer and those below, never one above (a "back arrow"). A path ending
# in "/" is a folder; every file under src/ must be in exactly one layer.
LAYERS = [
    ("shared", ["model/", "error.rs", "paths.rs"]),
    ("settings", ["server/clock.rs", "server/config.rs"]),
    ("store", ["server/store/"]),
    ("identity", ["server/auth.rs"]),
    ("rules", ["server/billing/"]),
    ("wiring", [
        "server/bundle.rs", "server/security.rs", "server/state.rs", "server/middleware.rs",
        "server/links.rs", "server/metrics.rs", "server/sign_in.rs", "server/tokens.rs",
        "server/jobs.rs", "server/downloads.rs", "server/demo.rs", "server/mailer.rs",
        "server/webhook_sender.rs",
    ]),
    ("surfaces", ["api/", "server/rest/", "ui/", "app.rs"]),
    ("composition", ["server/startup.rs", "server/shell.rs", "server/cli.rs", "server/mod.rs", "lib.rs"]),
]


def layer_of(rel):
    for number, (_, prefixes) in enumerate(LAYERS):
        if any(rel == p or (p.endswith("/") and rel.startswith(p)) for p in prefixes):
            return number
    return None


# (importer folder, imported folder, why): the direction these must never go.
FORBIDDEN = [
    ("server/store/", "server/billing/", "the store stores; the rules (server::billing) decide"),
    ("server/rest/", "server/store/", "the REST API calls the rules in server::billing, not the store"),
]


def main():
    files = module_files()
    edges = {f: set() for f in files.values()}
    inline = re.compile(r"(?<![\w:$])((?:\$?crate|super|self)(?:::\s*\w+)+)")
    # `child::item` where `child` is a module declared in the file.
    local = re.compile(r"(?<![\w:$])(\w+(?:::\s*\w+)+)")
    for module, rel in files.items():
        with open(os.path.join(ROOT, rel), encoding="utf-8") as fh:
            text = strip_comments_and_strings(fh.read())
        # A file's own unit tests (`#[cfg(test)] mod tests { use super::*; }`,
        # at its end by convention) import the file itself.
        tests = re.search(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text)
        if tests:
            text = text[: tests.start()]
        paths = []
        for match in re.finditer(r"\buse\s+([^;]+);", text, flags=re.S):
            paths.extend(expand_use(match.group(1)))
        code = re.sub(r"\buse\s+[^;]+;", "", text, flags=re.S)
        paths.extend(m.group(1) for m in inline.finditer(code))
        children = set(re.findall(r"\bmod\s+(\w+)\s*;", text))
        paths.extend(
            m.group(1) for m in local.finditer(code) if m.group(1).split("::")[0].strip() in children
        )
        for path in paths:
            target = resolve(path, module, files)
            if target and target != rel:
                edges[rel].add(target)
    if "--graph" in sys.argv:
        for source in sorted(edges):
            for target in sorted(edges[source]):
                print(f"{source} -> {target}")
    # Tarjan's strongly connected components.
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    for component in cycles:
        print("import cycle: " + " <-> ".join(component))
        for a in component:
            for b in sorted(edges[a] & set(component)):
                print(f"    {a} -> {b}")
    crossings = [
        (source, target, why)
        for source in sorted(edges)
        for target in sorted(edges[source])
        for importer, imported, why in FORBIDDEN
        if source.startswith(importer) and target.startswith(imported)
    ]
    for source, target, why in crossings:
        print(f"forbidden import: {source} -> {target} ({why})")
    unplaced = sorted(rel for rel in edges if layer_of(rel) is None)
    for rel in unplaced:
        print(f"not in a layer: {rel} (add it to LAYERS here and to docs/ARCHITECTURE.md)")
    back_arrows = [
        (source, target)
        for source in sorted(edges)
        for target in sorted(edges[source])
        if None not in (layer_of(source), layer_of(target))
        and layer_of(target) > layer_of(source)
    ]
    for source, target in back_arrows:
        print(
            f"import up a layer: {source} ({LAYERS[layer_of(source)][0]}) -> "
            f"{target} ({LAYERS[layer_of(target)][0]})"
        )
    if cycles or crossings or unplaced or back_arrows:
        return 1
    print(
        f"no import cycles, no imports up a layer and none against the rules among {len(files)} files"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
