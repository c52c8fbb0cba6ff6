#!/usr/bin/env python3
"""Execute Jupyter notebooks headless through a kernel and fail on any error.

Usage: run_notebooks.py [--kernel NAME] [--timeout S] [--grace S] [--save DIR] NOTEBOOK...
       run_notebooks.py --extract DIR NOTEBOOK...

With --extract, writes each notebook's code cells as one TypeScript module
DIR/NAME.ts (relative imports made absolute) for `deno check`, and runs nothing.

For every code cell, in order, in one kernel per notebook:
  - the cell must reply "ok" (an exception, a rejected promise or a failed
    assertion in the cell fails the run);
  - no "error" message may arrive on iopub for it, even after idle;
  - every output named in the cell's metadata must be present:
      "metadata": {"matcalc": {"expect": ["image/svg+xml", "stdout:ok true"]}}
    An entry is KIND or KIND:TEXT, where KIND is a MIME type of a display_data or
    execute_result output (its value must contain TEXT), "stdout" or "stderr"
    (the stream must contain TEXT), or "update:MIME" (an update_display_data
    output of that MIME type containing TEXT).

Deno 2.9.6's kernel can report a cell idle before it sends the cell's outputs,
so after idle this script keeps listening until the outputs have been quiet for
a moment and every expected output is present, or until --grace seconds pass,
and only then checks.

Needs jupyter_client and nbformat (Debian: python3-jupyter-client,
python3-nbformat). Exit status: 0 when every notebook passed, 1 otherwise.
"""

import argparse
import os
import pathlib
import queue
import re
import sys
import time

import nbformat
from jupyter_client.manager import KernelManager

QUIET = 0.3  # seconds without messages that count as "settled" after idle

# Deno's kernel drops errors thrown after a cell finished (a timer, an unawaited
# promise). This hidden setup collects them, and CHECK, run after each cell's
# grace period, fails that cell if any came.
SETUP = """
globalThis.__notebookErrors = [];
for (const type of ["error", "unhandledrejection"]) {
  globalThis.addEventListener(type, (e) => {
    e.preventDefault();
    const err = type === "error" ? e.error ?? e.message : e.reason;
    globalThis.__notebookErrors.push(String(err?.stack ?? err).split("\\n").slice(0, 3).join("\\n"));
  });
}
"""
CHECK = """
{
  const errors = globalThis.__notebookErrors.splice(0);
  if (errors.length) throw new Error(`uncaught after the cell finished: ${errors.join("; ")}`);
}
"""


class CellFailure(Exception):
    pass


def expectation_met(entry, outputs):
    kind, _, text = entry.partition(":")
    for out in outputs:
        if kind in ("stdout", "stderr"):
            if out["type"] == "stream" and out["name"] == kind and text in out["text"]:
                return True
        elif kind == "update":
            mime, _, text2 = text.partition(":")
            if out["type"] == "update_display_data" and text2 in str(out["data"].get(mime, "\0")):
                return True
        elif out["type"] in ("display_data", "execute_result"):
            value = out["data"].get(kind)
            if value is not None and text in str(value):
                return True
    return False


def collect(kc, msg_id, deadline, grace, expect):
    """Messages of one execution: outputs until idle, then a grace period."""
    outputs, errors = [], []
    idle_at = None
    last = time.monotonic()
    while True:
        now = time.monotonic()
        if idle_at is not None:
            settled = now - last >= QUIET and all(expectation_met(e, outputs) for e in expect)
            if settled or now - idle_at >= grace:
                return outputs, errors
        if now > deadline:
            raise CellFailure("timed out waiting for the cell to finish")
        try:
            msg = kc.get_iopub_msg(timeout=0.1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        last = time.monotonic()
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content["execution_state"] == "idle":
            idle_at = idle_at or last
        elif kind == "stream":
            outputs.append({"type": "stream", "name": content["name"], "text": content["text"]})
        elif kind in ("display_data", "execute_result", "update_display_data"):
            outputs.append({
                "type": kind,
                "data": content.get("data", {}),
                "metadata": content.get("metadata", {}),
                "display_id": content.get("transient", {}).get("display_id"),
                "count": content.get("execution_count"),
            })
        elif kind == "error":
            errors.append(content)


def shell_reply(kc, msg_id, deadline):
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CellFailure("timed out waiting for the execute reply")
        try:
            msg = kc.get_shell_msg(timeout=min(remaining, 1.0))
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg["content"]


def describe_error(content):
    lines = [f"{content.get('ename', 'Error')}: {content.get('evalue', '')}"]
    lines += [t for t in content.get("traceback", []) if t.strip() and t not in lines[0]][:12]
    if content.get("evalue") == "Execution failed" and not content.get("traceback"):
        lines.append("(Deno's kernel gives no details here, as for a syntax error; "
                     "run `deno check` on the code: .ci/notebooks.sh does)")
    return "\n".join(lines)


def run_hidden(kc, code, timeout=30):
    """Run code that is no part of the notebook; returns the reply's content."""
    msg_id = kc.execute(code, silent=True, store_history=False, allow_stdin=False)
    return shell_reply(kc, msg_id, time.monotonic() + timeout)


def run_cell(kc, km, source, expect, timeout, grace):
    msg_id = kc.execute(source, store_history=True, allow_stdin=False, stop_on_error=True)
    deadline = time.monotonic() + timeout
    reply = shell_reply(kc, msg_id, deadline)
    ok = reply.get("status") == "ok"
    outputs, errors = collect(kc, msg_id, deadline, grace, expect if ok else [])
    if not ok:
        raise CellFailure(describe_error(reply))
    if errors:
        raise CellFailure(describe_error(errors[0]))
    if not km.is_alive():
        raise CellFailure("the kernel died")
    late = run_hidden(kc, CHECK)
    if late.get("status") != "ok":
        raise CellFailure(describe_error(late))
    missing = [e for e in expect if not expectation_met(e, outputs)]
    if missing:
        seen = sorted({k for o in outputs for k in (o.get("data") or {o["type"]: 1})})
        raise CellFailure(f"expected output missing: {missing}; outputs seen: {seen}")
    return outputs


def to_nbformat(outputs):
    """The outputs as a saved notebook holds them: updates replace their display."""
    cell, by_id = [], {}
    for o in outputs:
        if o["type"] == "stream":
            if cell and cell[-1].output_type == "stream" and cell[-1].name == o["name"]:
                cell[-1].text += o["text"]
            else:
                cell.append(nbformat.v4.new_output("stream", name=o["name"], text=o["text"]))
        elif o["type"] == "update_display_data":
            for out in by_id.get(o["display_id"], []):
                out.data, out.metadata = o["data"], o["metadata"]
        else:
            out = nbformat.v4.new_output(o["type"], data=o["data"], metadata=o["metadata"])
            if o["type"] == "execute_result":
                out.execution_count = o["count"]
            if o["display_id"]:
                by_id.setdefault(o["display_id"], []).append(out)
            cell.append(out)
    return cell


def run_notebook(path, kernel, timeout, grace, save_dir=None):
    nb = nbformat.read(path, as_version=4)
    km = KernelManager(kernel_name=kernel)
    km.start_kernel(cwd=os.path.dirname(os.path.abspath(path)))
    kc = km.client()
    kc.start_channels()
    failures = 0
    try:
        kc.wait_for_ready(timeout=120)
        if run_hidden(kc, SETUP).get("status") != "ok":
            raise RuntimeError("the kernel could not run the executor's setup code")
        code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
        for i, cell in enumerate(code, 1):
            expect = cell.get("metadata", {}).get("matcalc", {}).get("expect", [])
            first = cell.source.strip().splitlines()[0][:60]
            t0 = time.monotonic()
            try:
                outputs = run_cell(kc, km, cell.source, expect, timeout, grace)
                cell.outputs = to_nbformat(outputs)
                cell.execution_count = i
                print(f"  ok   cell {i}/{len(code)} ({time.monotonic() - t0:5.1f} s) {first}")
            except CellFailure as e:
                failures += 1
                print(f"  FAIL cell {i}/{len(code)} ({time.monotonic() - t0:5.1f} s) {first}")
                print("       " + str(e).replace("\n", "\n       "))
                break  # later cells depend on this one
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    if save_dir:
        os.makedirs(save_dir, exist_ok=True)
        nbformat.write(nb, os.path.join(save_dir, os.path.basename(path)))
    return failures == 0


def extract(paths, out_dir):
    """Each notebook's code cells as one module, for type checking."""
    os.makedirs(out_dir, exist_ok=True)
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        base = pathlib.Path(path).resolve().parent
        cells = [c.source for c in nb.cells if c.cell_type == "code"]
        code = "\n\n".join(cells) + "\n"
        code = re.sub(
            r'(from\s+|import\s*\(\s*)"(\.{1,2}/[^"]+)"',
            lambda m: f'{m.group(1)}"{(base / m.group(2)).resolve().as_uri()}"',
            code,
        )
        name = pathlib.Path(path).stem
        pathlib.Path(out_dir, f"{name}.ts").write_text(f"// From {path}\n{code}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--kernel", default="deno", help="kernelspec name (default deno)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per cell (default 300)")
    ap.add_argument(
        "--grace", type=float, default=3.0,
        help="seconds to keep listening after idle for late outputs (default 3)",
    )
    ap.add_argument("--save", metavar="DIR", help="also write the executed notebooks to DIR")
    ap.add_argument(
        "--extract", metavar="DIR", help="write the code as .ts files to DIR, run nothing",
    )
    args = ap.parse_args()
    if args.extract:
        extract(args.notebooks, args.extract)
        return 0
    failed = []
    for path in args.notebooks:
        t0 = time.monotonic()
        print(f"{path}:")
        if not run_notebook(path, args.kernel, args.timeout, args.grace, args.save):
            failed.append(path)
        print(f"  {'FAILED' if path in failed else 'passed'} in {time.monotonic() - t0:.1f} s")
    if failed:
        print(f"{len(failed)} of {len(args.notebooks)} notebooks failed: {', '.join(failed)}")
        return 1
    print(f"all {len(args.notebooks)} notebooks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
