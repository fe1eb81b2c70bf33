"""Helpers for driving the server in tests and benchmarks (pytest-lsp clients): test support,
not shipped with the product."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from lsprotocol import types as T

SERVER_COMMAND = [sys.executable, "-m", "tracecot.server", "serve"]


def settings(**over) -> dict:
    """The client's settings shape (`tracecot.*`), model off unless asked."""
    s = {"interpreter": "", "model": {"path": "", "adapter": "", "enabled": False},
         "run": {"timeout": 2, "stepCap": 2_000_000}, "inlayHints": {"enabled": True},
         "inputFinder": {"budget": 10}}
    for key, value in over.items():
        head, _, tail = key.partition("__")
        if tail:
            s[head] = {**s[head], tail: value}
        else:
            s[head] = value
    return s


def init_params(root: str | Path, trusted: bool = True, **over) -> T.InitializeParams:
    from pytest_lsp import client_capabilities
    root = Path(root)
    return T.InitializeParams(
        capabilities=client_capabilities("visual_studio_code"),
        root_uri=root.as_uri(),
        workspace_folders=[T.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        initialization_options={"settings": settings(**over), "trusted": trusted})


def open_doc(client, path: str | Path, text: str | None = None, version: int = 1) -> str:
    path = Path(path)
    if text is None:
        text = path.read_text(encoding="utf-8")
    uri = path.as_uri()
    client.text_document_did_open(T.DidOpenTextDocumentParams(
        T.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
    return uri


def change_doc(client, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(T.DidChangeTextDocumentParams(
        text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[T.TextDocumentContentChangeWholeDocument(text=text)]))


async def hover(client, uri: str, line: int, character: int, timeout: float = 20) -> str | None:
    got = await asyncio.wait_for(client.text_document_hover_async(T.HoverParams(
        text_document=T.TextDocumentIdentifier(uri=uri),
        position=T.Position(line=line, character=character))), timeout)
    if got is None:
        return None
    c = got.contents
    return c.value if hasattr(c, "value") else str(c)


async def command(client, name: str, args: dict, timeout: float = 30):
    return await asyncio.wait_for(client.workspace_execute_command_async(
        T.ExecuteCommandParams(command=name, arguments=[args])), timeout)


def line_of(text: str, needle: str) -> int:
    for i, line in enumerate(text.splitlines()):
        if needle in line:
            return i
    raise ValueError(f"{needle!r} not in text")


def descendants(pid: int) -> list[int]:
    """All processes below `pid` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def install_handlers(client) -> None:
    """What VS Code does with the server's requests and notifications: records statuses and
    refresh requests (`client.statuses`, `client.refreshes`)."""
    client.statuses, client.refreshes = [], {"lens": 0, "hints": 0}

    @client.feature("tracecot/status")
    def _status(params):
        client.statuses.append(params if isinstance(params, dict) else
                               {"state": getattr(params, "state", None),
                                "message": getattr(params, "message", None)})

    @client.feature(T.WORKSPACE_CODE_LENS_REFRESH)
    def _lens(params):
        client.refreshes["lens"] += 1

    @client.feature(T.WORKSPACE_INLAY_HINT_REFRESH)
    def _hints(params):
        client.refreshes["hints"] += 1


async def start_session(client, root: str | Path, trusted: bool = True, **over):
    """What every test client does first: handlers installed (see `install_handlers`), then
    `initialize` with VS Code's capabilities and these settings. Returns the server's answer."""
    install_handlers(client)
    return await client.initialize_session(init_params(root, trusted, **over))
